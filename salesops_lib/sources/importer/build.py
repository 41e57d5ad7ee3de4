"""Write the nine snapshot tables (and the issue list) that a build recipe produced."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import SnapshotWriter
from salesops_lib.sources.importer.quarantine import QUARANTINE_FILE, to_json_bytes

UNROUNDED: frozenset[str] = frozenset({"discount", "amount"})
"""Float columns written as they are: ratios, and the deal and order-line ``amount`` at the
source's precision (staging reads it as DECIMAL(18, 6): rounding each line to cents first left
a real export's total short of the source sum). Other money (prices, quotas, targets) is
rounded to cents."""


@dataclass(frozen=True)
class BuiltTables:
    """What a build recipe produced.

    Attributes:
        as_of: The snapshot's as-of date.
        tables: Table name -> rows with exactly the table's columns (missing tables empty).
        issues: Every issue of the import.
        source_rows: File name -> data rows read.
        extras: Extra snapshot files by name (such as the stage model's ``_stages.json``).
    """

    as_of: dt.date
    tables: dict[str, pd.DataFrame]
    issues: pd.DataFrame
    source_rows: dict[str, int]
    extras: dict[str, bytes] = dataclass_field(default_factory=dict)


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with a snapshot table's columns."""
    return TABLES[name].schema.empty_table().to_pandas()


def to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    """Convert a frame to the table's arrow schema, rows sorted by the table's key.

    Args:
        name: Table name.
        frame: Rows with the table's columns (dates as datetime64 or date objects).

    Returns:
        An arrow table with the exact schema, sorted by key so output bytes are reproducible.
    """
    spec = TABLES[name]
    frame = frame[spec.columns].sort_values(list(spec.key), kind="stable").reset_index(drop=True)
    arrays = []
    for field in spec.schema:
        column = frame[field.name]
        if pa.types.is_date32(field.type):
            values = pd.to_datetime(column).dt.date.to_numpy(dtype=object)
            arrays.append(pa.array(values, type=field.type))
        elif field.name in UNROUNDED:
            arrays.append(pa.array(column.astype("float64").to_numpy(), type=field.type))
        elif pa.types.is_floating(field.type):
            arrays.append(pa.array(column.astype("float64").round(2).to_numpy(), type=field.type))
        elif pa.types.is_integer(field.type):
            arrays.append(pa.array(column.astype("int64").to_numpy(), type=field.type))
        else:
            text = column.astype(object)
            arrays.append(pa.array(text.where(text.notna(), None).to_numpy(), type=field.type))
    return pa.Table.from_arrays(arrays, schema=spec.schema)


def write_built(built: BuiltTables, snapshots_dir: Path, source: str, overwrite: bool) -> Path:
    """Write a snapshot from built tables, with the issue list as ``_quarantine.json``.

    The manifest's ``created_at`` is the as-of date at midnight UTC, so re-importing the same
    files gives the same bytes.

    Args:
        built: The recipe's output.
        snapshots_dir: Snapshot folder.
        source: Description for the manifest (mapping name and file checksums).
        overwrite: Replace an existing snapshot of the same date.

    Returns:
        The snapshot folder.
    """
    created_at = f"{built.as_of.isoformat()}T00:00:00+00:00"
    with SnapshotWriter(
        snapshots_dir, built.as_of, source, created_at=created_at, overwrite=overwrite
    ) as writer:
        for name in TABLES:
            frame = built.tables.get(name)
            writer.write_table(name, to_arrow(name, empty_table(name) if frame is None else frame))
        writer.write_extra(QUARANTINE_FILE, to_json_bytes(built.issues))
        for filename, content in sorted(built.extras.items()):
            writer.write_extra(filename, content)
    return writer.final_dir
