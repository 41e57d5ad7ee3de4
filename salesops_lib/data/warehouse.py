"""An in-process DuckDB warehouse over one verified snapshot: staging -> intermediate -> marts.

Every ``.sql`` file under ``salesops_lib/sql/<layer>/`` is one ``SELECT`` and becomes a view named
after the file. The raw parquet files reach SQL as relation views ``raw_<table>`` built through the
Python API (no path is ever formatted into SQL); the as-of date reaches SQL through the one-row
table ``snapshot_meta(as_of DATE, snapshot_id VARCHAR)``; the stage catalogue through
``ref_stages``, built from the stage model the snapshot records, which must be the workspace's
(:mod:`salesops_lib.data.stage_model`). After set-up the connection may read only the
snapshot's parquet files (``allowed_paths``) and a private spill folder, and the configuration is
locked, so SQL cannot read other files; :meth:`Warehouse.query` runs only read-only statements
(``allowed_paths`` also permits writing to those paths, so COPY, ATTACH, CREATE, DROP and SET are
refused before they reach DuckDB). Staging trims text and turns blank text into NULL, so the
contracts' ``not_null`` tests catch blank ids and names.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.core.errors import ParameterError, WorkbenchError
from salesops_lib.core.stages import StageModel
from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import Snapshot, open_snapshot
from salesops_lib.data.stage_model import check_stage_model, snapshot_stage_model, stage_rows
from salesops_lib.data.store import Store, find_store

SQL_DIR = Path(__file__).resolve().parent / "sql"
LAYERS: tuple[str, ...] = ("staging", "intermediate", "marts")
MODEL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
REGION_COLUMN = "region_id"
_READ_ONLY = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})


def model_files(layer: str) -> dict[str, Path]:
    """Return the SQL files of one layer by model name, sorted by name.

    Args:
        layer: One of :data:`LAYERS`.

    Returns:
        Model name (file stem) -> path of its ``.sql`` file.
    """
    files = {path.stem: path for path in sorted((SQL_DIR / layer).glob("*.sql"))}
    for name, path in files.items():
        if not MODEL_NAME.match(name):
            raise WorkbenchError(f"{path}: model file names must be lowercase snake_case")
    return files


def dependency_order(sql_by_model: dict[str, str]) -> list[str]:
    """Order models so that each comes after the models of the same layer it references.

    Args:
        sql_by_model: Model name -> its SQL text.

    Returns:
        The model names, dependencies first; ties broken by name, so the order is deterministic.

    Raises:
        WorkbenchError: If the references form a cycle; the message names the models involved.
    """
    needs = {
        name: {
            other
            for other in sql_by_model
            if other != name and re.search(rf"\b{re.escape(other)}\b", sql)
        }
        for name, sql in sql_by_model.items()
    }
    ordered: list[str] = []
    while len(ordered) < len(needs):
        ready = sorted(n for n, deps in needs.items() if n not in ordered and deps <= set(ordered))
        if not ready:
            stuck = sorted(set(needs) - set(ordered))
            raise WorkbenchError(f"SQL models reference each other in a cycle: {', '.join(stuck)}")
        ordered.append(ready[0])
    return ordered


class Warehouse:
    """Read-only in-process DuckDB over one verified snapshot, with views staging -> marts.

    Args:
        snapshot: An opened (and verified) snapshot; see :meth:`open`.
        threads: DuckDB worker threads.
        memory_limit: DuckDB memory limit such as ``"4GB"``.

    Attributes:
        snapshot: The snapshot the views read.
        as_of: The snapshot's as-of date.
        stage_model: The snapshot's stage model (``ref_stages``); equal in stages to the
            workspace's configured model (checked on opening).

    Raises:
        StageModelMismatch: If the snapshot's stages are not the configured ones.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        threads: int = 2,
        memory_limit: str = "4GB",
        analytics_dir: Path | None = None,
        store: Store | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.as_of: dt.date = snapshot.as_of
        self.stage_model: StageModel = snapshot_stage_model(snapshot)
        check_stage_model(snapshot, self.stage_model, settings().stages)
        if store is not None and store.manifest.get("snapshot_checksum") != snapshot.checksum:
            raise WorkbenchError(f"analytics store {store.folder} is not of this snapshot")
        self.store: Store | None = store
        if store is None and analytics_dir is not None:
            self.store = find_store(analytics_dir, snapshot)
        self._lock = threading.RLock()
        self._region_ids: list[str] | None = None
        self._columns: dict[str, list[str]] = {}
        self._con = duckdb.connect(
            ":memory:", config={"threads": int(threads), "memory_limit": str(memory_limit)}
        )
        self._spill_dir = Path(tempfile.mkdtemp(prefix="salesops-duckdb-"))
        try:
            self._models = self._build()
            self._lock_down()
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(
        cls,
        as_of: str | dt.date | None = None,
        snapshots_dir: Path | None = None,
        store: Store | None = None,
    ) -> Warehouse:
        """Open and verify a snapshot, then build the warehouse over it.

        Args:
            as_of: As-of date (``YYYY-MM-DD`` or a date); ``None`` opens the latest snapshot.
            snapshots_dir: Folder of snapshots; defaults to the configured one.
            store: The snapshot's analytics store to register (as built by
                :func:`salesops_lib.analytics.build.build_store`); by default the store of
                this snapshot and code version is looked up beside the snapshots folder.

        Returns:
            The warehouse; use it as a context manager or call :meth:`close`.

        Raises:
            SnapshotError: If the snapshot is missing or does not match its manifest.
        """
        cfg = settings()
        folder = snapshots_dir or cfg.snapshots_dir
        snapshot = open_snapshot(folder, as_of, verify=True)
        return cls(
            snapshot,
            threads=cfg.duckdb.threads,
            memory_limit=cfg.duckdb.memory_limit,
            analytics_dir=cfg.analytics_dir_for(folder),
            store=store,
        )

    # -- set-up -----------------------------------------------------------------------------

    def _build(self) -> list[str]:
        con = self._con
        for name in TABLES:
            path = self.snapshot.table_path(name).resolve()
            con.read_parquet(str(path)).create_view(f"raw_{name}")
        con.execute(
            "CREATE TABLE snapshot_meta AS "
            "SELECT CAST(? AS DATE) AS as_of, CAST(? AS VARCHAR) AS snapshot_id",
            [self.snapshot.as_of, self.snapshot.snapshot_id],
        )
        con.execute(
            "CREATE TABLE ref_stages (stage VARCHAR, stage_order INTEGER, is_closed BOOLEAN, "
            "is_won BOOLEAN, is_lost BOOLEAN, forecast_categories VARCHAR[], "
            "default_forecast_category VARCHAR, default_probability DOUBLE)"
        )
        con.executemany(
            "INSERT INTO ref_stages VALUES (?, ?, ?, ?, ?, ?, ?, ?)", stage_rows(self.stage_model)
        )
        models: list[str] = []
        for layer in LAYERS:
            sql_by_model = {n: p.read_text(encoding="utf-8") for n, p in model_files(layer).items()}
            for name in dependency_order(sql_by_model):
                body = sql_by_model[name].strip().rstrip(";")
                try:
                    con.execute(f'CREATE VIEW "{name}" AS {body}')
                except duckdb.Error as exc:
                    raise WorkbenchError(
                        f"sql/{layer}/{name}.sql does not compile: {exc}"
                    ) from None
                models.append(name)
        if self.store is not None:
            for name in self.store.tables:
                con.read_parquet(str(self.store.table_path(name).resolve())).create_view(name)
                models.append(name)
        return models

    def _lock_down(self) -> None:
        """Allow reads of the snapshot's parquet files and the spill folder only; lock config."""
        paths = [str(self.snapshot.table_path(name).resolve()) for name in TABLES]
        if self.store is not None:
            paths += [str(self.store.table_path(name).resolve()) for name in self.store.tables]
        con = self._con
        con.execute("SET temp_directory = ?", [str(self._spill_dir)])
        con.execute("SET allowed_paths = ?", [paths])
        con.execute("SET allowed_directories = ?", [[f"{self._spill_dir}/"]])
        con.execute("SET enable_external_access = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET lock_configuration = true")

    # -- catalogue --------------------------------------------------------------------------

    def models(self) -> list[str]:
        """Return every model (view) name, staging first, then intermediate, then marts."""
        return list(self._models)

    def columns(self, model: str) -> list[str]:
        """Return the columns of a model in order.

        Args:
            model: A name from :meth:`models`.

        Returns:
            The column names, checked against DuckDB's ``information_schema``.

        Raises:
            ParameterError: If the model is unknown; the message lists the models.
        """
        self._check_model(model)
        return list(self._view_columns()[model])

    def _view_columns(self) -> dict[str, list[str]]:
        """Every view's columns in order, read once from ``information_schema`` (one query)."""
        if not self._columns:
            frame = self.query(
                "SELECT c.table_name, c.column_name FROM information_schema.columns c "
                "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
                "AND t.table_name = c.table_name "
                "WHERE c.table_schema = 'main' AND t.table_type = 'VIEW' "
                "ORDER BY c.table_name, c.ordinal_position"
            )
            for name, part in frame.groupby("table_name", sort=False):
                self._columns[str(name)] = part["column_name"].tolist()
        return self._columns

    def _check_model(self, model: str) -> None:
        if (problem := self._missing_store_table(model)) is not None:
            raise ParameterError(problem)
        if model not in self._models or model not in self._view_columns():
            raise ParameterError(f"unknown model {model!r}; models: {', '.join(self._models)}")

    def _missing_store_table(self, name: str) -> str | None:
        """Why an analytics table is not there (store not built, or its step failed), if so."""
        snapshot_id = self.snapshot.snapshot_id
        if not name.startswith("an_"):
            return None
        if self.store is None:
            return (
                f"{name}: the analytics store of snapshot {snapshot_id} is not built for this "
                f"code; run `salesops build --as-of {snapshot_id}`"
            )
        if (failure := self.store.failure_of(name)) is not None:
            return (
                f"{name}: {failure} (snapshot {snapshot_id}); "
                f"fix it, then `salesops build --as-of {snapshot_id}`"
            )
        return None

    def region_ids(self) -> list[str]:
        """Return the snapshot's region ids, sorted."""
        if self._region_ids is None:
            frame = self.query("SELECT region_id FROM dim_regions ORDER BY region_id")
            self._region_ids = frame["region_id"].tolist()
        return list(self._region_ids)

    def check_region(self, region: str | None) -> str | None:
        """Validate a region parameter.

        Args:
            region: A region id, ``"all"`` or ``None``.

        Returns:
            The region id, or ``None`` for the whole company.

        Raises:
            ParameterError: If the snapshot has no such region; the message lists its regions.
        """
        if region is None or region == ALL_REGIONS:
            return None
        known = self.region_ids()
        if region not in known:
            raise ParameterError(
                f"unknown region {region!r}; snapshot {self.snapshot.snapshot_id} has regions: "
                f"{', '.join(known)} (or {ALL_REGIONS!r})"
            )
        return region

    # -- reading ----------------------------------------------------------------------------

    def table(
        self, model: str, region: str | None = None, columns: list[str] | None = None
    ) -> pd.DataFrame:
        """Read a model, optionally one region's rows and some columns only.

        Rows come back in a deterministic order (all selected columns, left to right).

        Args:
            model: A name from :meth:`models`, such as ``"fct_bookings"``.
            region: A region id; ``None`` or ``"all"`` means the whole company.
            columns: Columns to return; ``None`` returns all.

        Returns:
            A new DataFrame (DATE -> datetime64, DECIMAL -> float64).

        Raises:
            ParameterError: If the model, a column or the region is unknown, or a region is
                given for a model without a ``region_id`` column.
        """
        sql, params = self._table_sql(model, region, columns)
        return self.query(sql, params)

    def _table_sql(
        self, model: str, region: str | None, columns: list[str] | None
    ) -> tuple[str, list[Any]]:
        """The checked SELECT (and its parameters) behind :meth:`table` and :meth:`table_arrow`."""
        available = self.columns(model)
        selected = list(columns) if columns is not None else available
        unknown = [c for c in selected if c not in available]
        if unknown or not selected:
            raise ParameterError(
                f"model {model}: unknown column(s) {', '.join(map(repr, unknown)) or '(none)'}; "
                f"columns: {', '.join(available)}"
            )
        region_id = self.check_region(region)
        select = ", ".join(f'"{c}"' for c in selected)
        sql = f'SELECT {select} FROM "{model}"'
        params: list[Any] = []
        if region_id is not None:
            if REGION_COLUMN not in available:
                raise ParameterError(
                    f"model {model} has no {REGION_COLUMN} column; read it with region=None"
                )
            sql += f' WHERE "{REGION_COLUMN}" = ?'
            params.append(region_id)
        sql += " ORDER BY ALL"
        return sql, params

    def table_arrow(
        self, model: str, region: str | None = None, columns: list[str] | None = None
    ) -> pa.Table:
        """:meth:`table` as an Arrow table (text stays compact; nothing becomes Python objects).

        Args:
            model: A name from :meth:`models`.
            region: A region id; ``None`` or ``"all"`` means the whole company.
            columns: Columns to return; ``None`` returns all.

        Returns:
            The rows, in the same deterministic order as :meth:`table`.
        """
        sql, params = self._table_sql(model, region, columns)
        with self._lock:
            return self._con.execute(sql, params).fetch_arrow_table()

    def query(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one read-only ad-hoc query with bound parameters and return the result.

        Args:
            sql: One ``SELECT`` (or ``WITH ... SELECT``, ``EXPLAIN``) statement; use ``?`` or
                ``$name`` placeholders for values.
            params: Values for the placeholders.

        Returns:
            A new DataFrame.

        Raises:
            ParameterError: If the SQL is not exactly one read-only statement (COPY, ATTACH,
                CREATE, DROP, SET, ... are refused: they could write files or change the views).
        """
        with self._lock:
            return self._execute_read_only(sql, params).df()

    def query_one(
        self, sql: str, params: list[Any] | dict[str, Any] | None = None
    ) -> tuple[Any, ...] | None:
        """:meth:`query`'s first row as a tuple, or ``None`` without rows.

        For one-row answers such as counts, where building a DataFrame costs more than the query.

        Raises:
            ParameterError: As :meth:`query`.
        """
        with self._lock:
            return self._execute_read_only(sql, params).fetchone()

    def _execute_read_only(
        self, sql: str, params: list[Any] | dict[str, Any] | None
    ) -> duckdb.DuckDBPyConnection:
        """Execute one read-only statement (checked as :meth:`query` says); hold the lock."""
        statements = self._con.extract_statements(sql)
        kinds = [s.type for s in statements]
        if len(kinds) != 1 or kinds[0] not in _READ_ONLY:
            shown = ", ".join(k.name for k in kinds) or "nothing"
            raise ParameterError(
                f"Warehouse.query runs one read-only SELECT statement; got {shown}"
            )
        try:
            return self._con.execute(sql, params or [])
        except duckdb.CatalogException as exc:
            missing = re.search(r"name (an_[a-z0-9_]+) does not exist", str(exc))
            problem = None if missing is None else self._missing_store_table(missing[1])
            if problem is None:
                raise
            raise ParameterError(problem) from None

    def regions(self) -> pd.DataFrame:
        """Return ``dim_regions``: one row per region (region_id, region_name)."""
        return self.table("dim_regions")

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection and remove the private spill folder."""
        with self._lock:
            self._con.close()
        shutil.rmtree(self._spill_dir, ignore_errors=True)

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Warehouse(snapshot={self.snapshot.snapshot_id!r}, models={len(self._models)})"
