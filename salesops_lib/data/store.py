"""The analytics store: heavy results computed once per snapshot, kept as parquet beside it.

Layout, one folder per snapshot and build key::

    <analytics_dir>/<as_of>/<key>/<table>.parquet      (table names start with ``an_``)
    <analytics_dir>/<as_of>/<key>/_manifest.json

The key is the first 16 hex digits of SHA-256 over the snapshot's checksum and the code version
of the layers that compute the store (``core``, ``data`` and ``analytics``; or
``$SALESOPS_CODE_VERSION`` when set), so a changed snapshot or changed analytics code gets a new
folder and an unchanged one is found again. A store folder is written under a temporary name and
renamed into place in one step; it is never edited afterwards. The manifest records the
snapshot, the code version, each table's row count, columns and sha256, and each build step's
duration.

The warehouse registers every table of the snapshot's store as a read-only DuckDB view of the
same name, so ``an_forecasts`` is queried like any mart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from salesops_lib.core.errors import SnapshotError
from salesops_lib.core.version import CODE_VERSION_ENV, source_digest
from salesops_lib.data.snapshot import Snapshot, sha256_file

MANIFEST = "_manifest.json"
TABLE_NAME = re.compile(r"^an_[a-z][a-z0-9_]*$")
STORE_LAYERS: tuple[str, ...] = ("core", "data", "analytics")
"""Package folders whose source decides the store's code version."""
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def store_code_version(package_dir: Path = _PACKAGE_DIR) -> str:
    """SHA-256 over the source of the layers that compute the store (uncommitted edits too).

    ``$SALESOPS_CODE_VERSION`` wins when set (a release can pin it).

    Args:
        package_dir: The ``salesops_lib`` folder.

    Returns:
        A hex digest.
    """
    if pinned := os.environ.get(CODE_VERSION_ENV):
        return pinned
    return source_digest(package_dir, STORE_LAYERS)


def store_key(snapshot_checksum: str, code_version: str) -> str:
    """The build key: 16 hex digits of SHA-256 over the snapshot checksum and code version."""
    return hashlib.sha256(f"{snapshot_checksum}\0{code_version}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Store:
    """One built analytics store (read-only).

    Attributes:
        folder: The store's folder ``<analytics_dir>/<as_of>/<key>``.
        manifest: Its parsed ``_manifest.json``.
    """

    folder: Path
    manifest: dict[str, Any]

    @property
    def tables(self) -> list[str]:
        """The store's table names, sorted."""
        return sorted(self.manifest["tables"])

    def failure_of(self, name: str) -> str | None:
        """Why a table is missing: ``build step 'x' failed: <error>``, or ``None``."""
        for step, entry in self.manifest.get("failed_steps", {}).items():
            if name in entry.get("tables", ()):
                return f"build step {step!r} failed: {entry.get('error')}"
        return None

    def table_path(self, name: str) -> Path:
        """The parquet file of one table."""
        if name not in self.manifest["tables"]:
            raise SnapshotError(
                f"analytics store {self.folder}: no table {name!r}; "
                f"tables: {', '.join(self.tables) or '(none)'}"
            )
        return self.folder / f"{name}.parquet"

    def read(self, name: str) -> pd.DataFrame:
        """Read one table into a new DataFrame."""
        return pq.read_table(self.table_path(name)).to_pandas()


def store_folder(analytics_dir: Path, snapshot: Snapshot, code_version: str | None = None) -> Path:
    """Where the store of ``snapshot`` under ``code_version`` lives (built or not)."""
    version = code_version or store_code_version()
    return Path(analytics_dir) / snapshot.snapshot_id / store_key(snapshot.checksum, version)


def find_store(
    analytics_dir: Path, snapshot: Snapshot, code_version: str | None = None
) -> Store | None:
    """The built store of a snapshot for the current code, or ``None`` if it is not built.

    Args:
        analytics_dir: The analytics store root (``Settings.analytics_dir``).
        snapshot: The snapshot.
        code_version: Code version; defaults to :func:`store_code_version`.

    Returns:
        The store, or ``None``.

    Raises:
        SnapshotError: If the folder exists but its manifest is unreadable or names another
            snapshot (a store is never trusted for a snapshot it was not built from).
    """
    folder = store_folder(analytics_dir, snapshot, code_version)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"analytics store {folder}: unreadable {MANIFEST} ({exc})") from None
    if manifest.get("snapshot_checksum") != snapshot.checksum:
        raise SnapshotError(
            f"analytics store {folder}: built from snapshot checksum "
            f"{manifest.get('snapshot_checksum')!r}, not {snapshot.checksum!r}; delete the folder"
        )
    return Store(folder, manifest)


def write_store(
    analytics_dir: Path,
    snapshot: Snapshot,
    tables: Mapping[str, pd.DataFrame],
    steps: Mapping[str, float],
    code_version: str | None = None,
    failed_steps: Mapping[str, Mapping[str, Any]] | None = None,
) -> Store:
    """Write a store atomically: every table and the manifest, then one rename into place.

    If another process finished the same store first, its folder is kept and returned (the
    content is a function of the same snapshot and code).

    Args:
        analytics_dir: The analytics store root.
        snapshot: The snapshot the tables were computed from.
        tables: Table name (``an_…``) -> frame.
        steps: Build step name -> seconds it took (recorded in the manifest).
        code_version: Code version; defaults to :func:`store_code_version`.
        failed_steps: Build steps that raised: name -> ``{"error": one line, "tables": [...]}``
            (recorded in the manifest; their tables are absent).

    Returns:
        The store as written (or as found).

    Raises:
        SnapshotError: If a table name is not ``an_<snake_case>``.
    """
    version = code_version or store_code_version()
    target = store_folder(analytics_dir, snapshot, version)
    for name in tables:
        if not TABLE_NAME.match(name):
            raise SnapshotError(f"analytics table name {name!r} must match {TABLE_NAME.pattern}")
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        entries: dict[str, Any] = {}
        for name in sorted(tables):
            path = temp / f"{name}.parquet"
            table = pa.Table.from_pandas(tables[name], preserve_index=False)
            pq.write_table(table, path)
            entries[name] = {
                "rows": table.num_rows,
                "columns": table.column_names,
                "sha256": sha256_file(path),
            }
        manifest = {
            "snapshot_id": snapshot.snapshot_id,
            "snapshot_checksum": snapshot.checksum,
            "code_version": version,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "steps": {name: round(float(seconds), 3) for name, seconds in steps.items()},
            "failed_steps": {name: dict(entry) for name, entry in (failed_steps or {}).items()},
            "tables": entries,
        }
        (temp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.chmod(temp, 0o755)
        try:
            os.rename(temp, target)
        except OSError:
            if not (target / MANIFEST).is_file():
                raise
            shutil.rmtree(temp, ignore_errors=True)  # another build won the race
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    found = find_store(analytics_dir, snapshot, version)
    assert found is not None
    return found
