"""Finding and reading a mapping's source files among the paths a user gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salesops_lib.sources.importer.limits import require_regular_file, resolve_in_folder
from salesops_lib.sources.importer.mapping import Mapping, SourceSpec
from salesops_lib.sources.importer.parsing import parse_fields, read_checked
from salesops_lib.sources.importer.quarantine import ImportDataError, combine


@dataclass(frozen=True)
class LoadedSource:
    """One parsed source.

    Attributes:
        name: Logical source name in the mapping.
        file: File name (used in issues).
        path: Full path.
        rows: Data rows in the file.
        frame: Parsed rows (with ``_row``) that had no unparseable value.
        issues: Issues found while parsing.
    """

    name: str
    file: str
    path: Path
    rows: int
    frame: pd.DataFrame
    issues: pd.DataFrame


def locate(sources: Sequence[Path], spec: SourceSpec) -> Path:
    """Find the file a source spec names among files and folders given by the user.

    A folder entry may be a link only to a file inside that folder; whatever is found must be
    a regular file (a FIFO or a device would block the import).

    Args:
        sources: Files or folders.
        spec: The source spec (its ``file`` is matched ignoring case).

    Returns:
        The file's path.

    Raises:
        ImportDataError: If no given file or folder holds it, it is not a regular file, or it
            is a link out of its folder.
    """
    wanted = spec.file.casefold()
    for source in sources:
        source = Path(source)
        if source.name.casefold() == wanted and not source.is_dir():
            require_regular_file(source, "source")
            return source
        if source.is_dir():
            for child in sorted(source.iterdir()):
                if child.name.casefold() == wanted:
                    target = resolve_in_folder(source, child)
                    require_regular_file(target, "source")
                    return child
    shown = ", ".join(str(s) for s in sources) or "(none)"
    raise ImportDataError(f"source file {spec.file!r} not found in: {shown}")


def load_sources(mapping: Mapping, sources: Sequence[Path]) -> dict[str, LoadedSource]:
    """Read and parse every source the mapping names.

    A single-source mapping accepts any one file (its name need not match).

    Args:
        mapping: The mapping.
        sources: Files or folders given by the user.

    Returns:
        Logical source name -> parsed source.
    """
    loaded = {}
    single = len(mapping.sources) == 1 and len(sources) == 1 and not Path(sources[0]).is_dir()
    for name, spec in mapping.sources.items():
        path = Path(sources[0]) if single else locate(sources, spec)
        read = read_checked(path, spec)
        frame, issues = parse_fields(read.frame, read.spec, path.name)
        loaded[name] = LoadedSource(
            name, path.name, path, read.rows, frame, combine([read.issues, issues])
        )
    return loaded
