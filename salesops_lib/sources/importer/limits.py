"""Size limits of import sources, and the checks that a path is a regular file we may read.

Every source has limits (file bytes, data rows, cells; for workbooks also the bytes their zip
members expand to and the compression ratio of each member), with defaults that take a 200 MB
CSV export or a full Excel sheet of real data and refuse bombs. A mapping can change them per
source under ``limits:``. Paths are checked with ``lstat`` before anything opens them, so a
FIFO or a device never blocks the import, and a link in an export folder may only point at a
regular file inside that folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from salesops_lib.sources.importer.quarantine import ImportDataError

MAX_MAPPING_BYTES = 1 << 20
"""A mapping file larger than this is not a mapping (1 MiB)."""


class ImportLimits(BaseModel):
    """Bounds one source must stay within; the import stops with a clear error past them.

    Attributes:
        max_file_bytes: Largest file size on disk.
        max_rows: Most data rows (sheet rows for a workbook).
        max_cells: Most cells (data rows x columns in the header).
        max_expanded_bytes: Workbooks: most bytes all zip members expand to together.
        max_compression_ratio: Workbooks: largest expanded/compressed ratio of a zip member
            bigger than 1 MB expanded (real sheets compress about 5-20 times).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_file_bytes: int = Field(default=2 << 30, gt=0)
    max_rows: int = Field(default=20_000_000, gt=0)
    max_cells: int = Field(default=200_000_000, gt=0)
    max_expanded_bytes: int = Field(default=1 << 30, gt=0)
    max_compression_ratio: float = Field(default=100.0, gt=1.0)


def _kind(mode: int) -> str:
    """A short name for a file type that is not a regular file."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def require_regular_file(path: Path, what: str) -> os.stat_result:
    """Check that ``path`` (after links) is a regular file, without opening it.

    Args:
        path: The file.
        what: What the file is for, in the message (``mapping``, ``source``).

    Returns:
        Its ``stat`` result.

    Raises:
        ImportDataError: If it is missing, a FIFO, a device, a socket or a folder.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ImportDataError(f"{what} {path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ImportDataError(
            f"{what} {path}: not a regular file ({_kind(info.st_mode)}); give an exported file"
        )
    return info


def resolve_in_folder(folder: Path, entry: Path) -> Path:
    """Resolve a folder entry that may be a link; it must stay inside the folder.

    Args:
        folder: The export folder the user gave.
        entry: One entry of it.

    Returns:
        The entry itself when it is not a link, else its resolved target.

    Raises:
        ImportDataError: If the link points outside the folder (the target is not named or
            read, so nothing of it is echoed).
    """
    if not entry.is_symlink():
        return entry
    target = entry.resolve()
    root = folder.resolve()
    if root != target.parent and root not in target.parents:
        raise ImportDataError(
            f"source {entry}: is a link to a file outside {folder}; links are followed only "
            "inside the export folder (copy the file in instead)"
        )
    return target


def check_file_size(path: Path, size: int, limits: ImportLimits) -> None:
    """Refuse a file larger than ``limits.max_file_bytes``.

    Raises:
        ImportDataError: Naming the file, its size and the limit.
    """
    if size > limits.max_file_bytes:
        raise ImportDataError(
            f"{path.name}: {size:,} bytes is more than limits.max_file_bytes "
            f"{limits.max_file_bytes:,}; raise the limit in the mapping if the file is genuine"
        )


def check_rows(path: Path, rows: int, width: int, limits: ImportLimits) -> None:
    """Refuse a source past ``max_rows`` or ``max_cells`` (call while reading).

    Raises:
        ImportDataError: Naming the file, the count and the limit.
    """
    if rows > limits.max_rows:
        raise ImportDataError(
            f"{path.name}: more than limits.max_rows {limits.max_rows:,} data rows; "
            "raise the limit in the mapping if the file is genuine"
        )
    if rows * max(width, 1) > limits.max_cells:
        raise ImportDataError(
            f"{path.name}: more than limits.max_cells {limits.max_cells:,} cells "
            f"({rows:,} rows x {width} columns); raise the limit in the mapping if genuine"
        )
