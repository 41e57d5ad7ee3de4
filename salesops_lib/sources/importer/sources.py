"""Finding and reading a mapping's source files among the paths a user gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salesops_lib.sources.importer.excel import excel_spec
from salesops_lib.sources.importer.mapping import Mapping, SourceSpec
from salesops_lib.sources.importer.parsing import parse_fields, read_source
from salesops_lib.sources.importer.quarantine import ImportDataError


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

    Args:
        sources: Files or folders.
        spec: The source spec (its ``file`` is matched ignoring case).

    Returns:
        The file's path.

    Raises:
        ImportDataError: If no given file or folder holds it.
    """
    wanted = spec.file.casefold()
    for source in sources:
        source = Path(source)
        if source.is_file() and source.name.casefold() == wanted:
            return source
        if source.is_dir():
            for child in sorted(source.iterdir()):
                if child.is_file() and child.name.casefold() == wanted:
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
    single = len(mapping.sources) == 1 and len(sources) == 1 and Path(sources[0]).is_file()
    for name, spec in mapping.sources.items():
        path = Path(sources[0]) if single else locate(sources, spec)
        raw = read_source(path, spec)
        frame, issues = parse_fields(raw, excel_spec(path, spec), path.name)
        loaded[name] = LoadedSource(name, path.name, path, len(raw), frame, issues)
    return loaded
