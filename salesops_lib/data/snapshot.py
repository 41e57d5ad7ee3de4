"""Dated, immutable parquet snapshots: write them atomically, list them, open and verify them.

A snapshot is ``<snapshots_dir>/<as_of>/`` holding one ``<table>.parquet`` per table in
:data:`salesops_lib.data.schema.TABLES` and a ``_manifest.json`` (schema version, source,
created_at,
row count and sha256 of every file). Extra files (such as the demo generator's ``_truth.json``)
are listed in the manifest too. :class:`SnapshotWriter` writes into a hidden temporary folder and
renames it into place on success, so a reader never sees half a snapshot; on error the temporary
folder is removed and nothing is published.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from salesops_lib.core.errors import SnapshotError
from salesops_lib.data.schema import SCHEMA_VERSION, TABLES

MANIFEST = "_manifest.json"
_TMP_PREFIX = ".tmp-"


def parse_as_of(value: str | dt.date) -> dt.date:
    """Parse an as-of date given as ``YYYY-MM-DD``.

    Args:
        value: An ISO date string or a date.

    Returns:
        The date.

    Raises:
        SnapshotError: If the string is not an ISO date; the message shows the expected form.
    """
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SnapshotError(f"as-of date {value!r} is not a date; use YYYY-MM-DD") from None


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


class SnapshotWriter:
    """Write one snapshot atomically.

    Use as a context manager. Tables are written whole with :meth:`write_table` or streamed in
    chunks with :meth:`stream` (bounded memory); extra files with :meth:`write_extra`. On a clean
    exit the manifest is written and the folder renamed into place; on an exception nothing is
    published.

    Args:
        snapshots_dir: Folder holding all snapshots.
        as_of: The snapshot's as-of date.
        source: Where the data came from (for example ``"demo seed=42 scale=default"``).
        created_at: Timestamp recorded in the manifest; defaults to now (UTC).
        overwrite: Replace an existing snapshot of the same date instead of refusing.
    """

    def __init__(
        self,
        snapshots_dir: Path,
        as_of: str | dt.date,
        source: str,
        created_at: str | None = None,
        overwrite: bool = False,
    ) -> None:
        self.as_of = parse_as_of(as_of)
        self.snapshots_dir = Path(snapshots_dir)
        self.final_dir = self.snapshots_dir / self.as_of.isoformat()
        self.tmp_dir = (
            self.snapshots_dir / f"{_TMP_PREFIX}{self.as_of.isoformat()}-{uuid.uuid4().hex}"
        )
        self.source = source
        self.created_at = created_at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        self.overwrite = overwrite
        self._streams: dict[str, pq.ParquetWriter] = {}
        self._rows: dict[str, int] = {}
        self._extras: list[str] = []

    def __enter__(self) -> SnapshotWriter:
        if self.final_dir.exists() and not self.overwrite:
            raise SnapshotError(
                f"snapshot {self.final_dir} already exists; snapshots are immutable "
                "(pass overwrite/--force to replace it)"
            )
        self.tmp_dir.mkdir(parents=True)
        return self

    def _conform(self, name: str, data: pa.Table) -> pa.Table:
        """Cast ``data`` to the table's schema, or say which column does not fit."""
        if name not in TABLES:
            raise SnapshotError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}")
        expected = TABLES[name].schema
        if data.schema.names != expected.names:
            raise SnapshotError(
                f"table {name}: columns {data.schema.names} do not match schema {expected.names}"
            )
        try:
            return data.cast(expected)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
            raise SnapshotError(f"table {name}: cannot cast to the schema: {exc}") from None

    def write_table(self, name: str, data: pa.Table) -> None:
        """Write a whole table.

        Args:
            name: Table name from :data:`salesops_lib.data.schema.TABLES`.
            data: The rows, with exactly the table's schema (cast it first).
        """
        data = self._conform(name, data)
        pq.write_table(data, self.tmp_dir / f"{name}.parquet", compression="zstd")
        self._rows[name] = data.num_rows

    def stream(self, name: str) -> pq.ParquetWriter:
        """Open (once) a chunked writer for a large table; call ``.write_table(chunk)`` on it.

        Args:
            name: Table name from :data:`salesops_lib.data.schema.TABLES`.

        Returns:
            A parquet writer with the table's schema; it is closed by the snapshot writer.
        """
        if name not in self._streams:
            if name not in TABLES:
                raise SnapshotError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}")
            self._streams[name] = pq.ParquetWriter(
                self.tmp_dir / f"{name}.parquet", TABLES[name].schema, compression="zstd"
            )
            self._rows[name] = 0
        return self._streams[name]

    def append(self, name: str, chunk: pa.Table) -> None:
        """Append a chunk to a streamed table (see :meth:`stream`)."""
        chunk = self._conform(name, chunk)
        self.stream(name).write_table(chunk)
        self._rows[name] += chunk.num_rows

    def write_extra(self, filename: str, content: bytes) -> None:
        """Write an extra file (for example ``_truth.json``) listed in the manifest."""
        if "/" in filename or filename.startswith(".") or filename == MANIFEST:
            raise SnapshotError(f"extra file name {filename!r} is not allowed")
        (self.tmp_dir / filename).write_bytes(content)
        self._extras.append(filename)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for writer in self._streams.values():
            writer.close()
        if exc_type is not None:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            return
        try:
            missing = [t for t in TABLES if t not in self._rows]
            if missing:
                raise SnapshotError(
                    f"snapshot {self.as_of}: tables not written: {', '.join(missing)}"
                )
            self._write_manifest()
            if self.final_dir.exists():
                trash = self.snapshots_dir / f"{_TMP_PREFIX}old-{uuid.uuid4().hex}"
                self.final_dir.rename(trash)
                self.tmp_dir.rename(self.final_dir)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                self.tmp_dir.rename(self.final_dir)
        except BaseException:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            raise

    def _write_manifest(self) -> None:
        files: dict[str, dict[str, Any]] = {}
        for name in TABLES:
            path = self.tmp_dir / f"{name}.parquet"
            files[path.name] = {
                "table": name,
                "rows": self._rows[name],
                "sha256": sha256_file(path),
            }
        for extra in sorted(self._extras):
            files[extra] = {
                "table": None,
                "rows": None,
                "sha256": sha256_file(self.tmp_dir / extra),
            }
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "created_at": self.created_at,
            "files": files,
        }
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        (self.tmp_dir / MANIFEST).write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class Snapshot:
    """A verified snapshot on disk.

    Attributes:
        path: The snapshot folder.
        as_of: Its as-of date.
        manifest: The parsed ``_manifest.json``.
    """

    path: Path
    as_of: dt.date
    manifest: dict[str, Any]

    @property
    def snapshot_id(self) -> str:
        """The snapshot's id: its as-of date."""
        return self.as_of.isoformat()

    @property
    def checksum(self) -> str:
        """One sha256 over the manifest's file checksums: identifies the snapshot's content."""
        joined = "\n".join(
            f"{name}:{entry['sha256']}" for name, entry in sorted(self.manifest["files"].items())
        )
        return hashlib.sha256(joined.encode()).hexdigest()

    def table_path(self, name: str) -> Path:
        """Path of one table's parquet file."""
        return self.path / f"{name}.parquet"

    def row_count(self, name: str) -> int:
        """Row count of one table, from the manifest."""
        return int(self.manifest["files"][f"{name}.parquet"]["rows"])

    def extra_path(self, filename: str) -> Path:
        """Path of an extra file listed in the manifest (for example ``_truth.json``)."""
        if filename not in self.manifest["files"]:
            raise SnapshotError(f"snapshot {self.snapshot_id}: no file {filename!r} in manifest")
        return self.path / filename


def _read_identity(folder: Path, date: dt.date, strict: bool = True) -> dict[str, Any]:
    """Read a snapshot folder's manifest and check it is the snapshot the folder says.

    Checks ``manifest_present`` (a dated folder without its manifest is refused, never skipped
    in favour of another snapshot), ``manifest_readable`` and ``as_of_matches_folder`` (the
    manifest's as-of date is the folder's name, so a renamed or linked folder is refused).
    With ``strict=False`` (listing) a manifest that records no as-of date at all passes;
    opening a snapshot requires it.

    Raises:
        SnapshotError: Naming the snapshot, the problem and the check.
    """
    label = f"snapshot {date.isoformat()}"
    path = folder / MANIFEST
    if not path.is_file():
        raise SnapshotError(
            f"{label}: {MANIFEST} is missing from {folder}; refusing to fall back to another "
            "snapshot (check manifest_present); restore the manifest or remove the folder"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(
            f"{label}: {MANIFEST} unreadable: {exc} (check manifest_readable)"
        ) from None
    claimed = manifest.get("as_of") if isinstance(manifest, dict) else None
    if claimed != date.isoformat() and (strict or claimed is not None):
        linked = f", linked to {folder.resolve().name}" if folder.is_symlink() else ""
        raise SnapshotError(
            f"{label}: folder {folder.name}{linked} holds the snapshot of as-of {claimed}; a "
            "renamed or linked snapshot would report the wrong date (check "
            "as_of_matches_folder)"
        )
    return manifest


def list_snapshots(snapshots_dir: Path) -> list[dt.date]:
    """Return the as-of dates of the snapshots in a folder, oldest first.

    Every folder named ``YYYY-MM-DD`` must be a snapshot of that date with its manifest;
    temporary folders of an interrupted write and other names are ignored.

    Raises:
        SnapshotError: If a dated folder has no manifest, or its manifest names another date
            (naming the snapshot and the check).
    """
    snapshots_dir = Path(snapshots_dir)
    if not snapshots_dir.is_dir():
        return []
    dates = []
    for child in sorted(snapshots_dir.iterdir()):
        if child.name.startswith(_TMP_PREFIX) or not child.is_dir():
            continue
        try:
            date = dt.date.fromisoformat(child.name)
        except ValueError:
            continue
        if date.isoformat() != child.name:
            continue
        _read_identity(child, date, strict=False)
        dates.append(date)
    return sorted(dates)


def open_snapshot(
    snapshots_dir: Path, as_of: str | dt.date | None = None, verify: bool = True
) -> Snapshot:
    """Open the latest snapshot, or the one for ``as_of``, and verify it against its manifest.

    Args:
        snapshots_dir: Folder holding all snapshots.
        as_of: As-of date; ``None`` opens the latest.
        verify: Check every file's sha256 and parquet footer against the manifest.

    Returns:
        The snapshot.

    Raises:
        SnapshotError: If there is no such snapshot, a dated folder lacks its manifest or is
            another date's snapshot (renamed or linked), or a file is missing, truncated or
            does not match the manifest; the message names the snapshot and the file or check.
    """
    available = list_snapshots(snapshots_dir)
    if as_of is None:
        if not available:
            raise SnapshotError(
                f"no snapshots in {snapshots_dir}; create the demo data with `salesops demo` "
                "(or `make run`)"
            )
        date = available[-1]
    else:
        date = parse_as_of(as_of)
        if date not in available:
            shown = ", ".join(d.isoformat() for d in available[-5:]) or "none"
            raise SnapshotError(
                f"no snapshot for as-of {date} in {snapshots_dir}; latest available: {shown}"
            )
    path = Path(snapshots_dir) / date.isoformat()
    manifest = _read_identity(path, date)
    snapshot = Snapshot(path=path, as_of=date, manifest=manifest)
    if verify:
        verify_snapshot(snapshot)
    return snapshot


def verify_snapshot(snapshot: Snapshot) -> None:
    """Check a snapshot's files against its manifest.

    Raises:
        SnapshotError: Naming the snapshot and the first file that is missing, has another
            checksum, is not readable parquet, or has other columns than its table's schema.
    """
    manifest = snapshot.manifest
    label = f"snapshot {snapshot.snapshot_id}"
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise SnapshotError(
            f"{label}: schema version {manifest.get('schema_version')!r}, expected "
            f"{SCHEMA_VERSION} (written by another version of the workbench): regenerate the "
            "demo with `salesops demo --force`, or re-import with `salesops import ... --force`"
        )
    files = manifest.get("files", {})
    for name in TABLES:
        if f"{name}.parquet" not in files:
            raise SnapshotError(f"{label}: table {name} missing from {MANIFEST}")
    for filename, entry in sorted(files.items()):
        path = snapshot.path / filename
        if not path.is_file():
            raise SnapshotError(f"{label}: file {filename} listed in {MANIFEST} is missing")
        if sha256_file(path) != entry.get("sha256"):
            raise SnapshotError(
                f"{label}: file {filename} does not match its sha256 in {MANIFEST} "
                "(truncated or changed after writing)"
            )
        if entry.get("table"):
            _verify_parquet(label, path, entry)


def _verify_parquet(label: str, path: Path, entry: dict[str, Any]) -> None:
    try:
        meta = pq.read_metadata(path)
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SnapshotError(f"{label}: file {path.name} is not readable parquet: {exc}") from None
    table = TABLES[entry["table"]]
    if schema.names != table.columns:
        raise SnapshotError(
            f"{label}: file {path.name} has columns {schema.names}, expected {table.columns}"
        )
    if meta.num_rows != entry.get("rows"):
        raise SnapshotError(
            f"{label}: file {path.name} has {meta.num_rows} rows, manifest says {entry.get('rows')}"
        )


def snapshot_dates_before(snapshots_dir: Path, as_of: dt.date) -> list[dt.date]:
    """Return the snapshot dates strictly before ``as_of``, newest first."""
    return [d for d in reversed(list_snapshots(snapshots_dir)) if d < as_of]


def read_table(snapshot: Snapshot, name: str, columns: Iterable[str] | None = None) -> pa.Table:
    """Read one table of a snapshot as an Arrow table (convert with ``date_as_object=False``)."""
    return pq.read_table(snapshot.table_path(name), columns=list(columns) if columns else None)
