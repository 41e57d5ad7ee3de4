"""The read-only ad-hoc SQL console: one snapshot's marts and analytics store, for analysts.

:class:`Console` is a :class:`~salesops_lib.data.warehouse.Warehouse` (same views, same DuckDB
lock-down) with what ad-hoc work needs on top:

- **Two lines of defence.** A statement is parsed first and anything but one ``SELECT`` (or
  ``WITH``/``DESCRIBE``/``SUMMARIZE``/``EXPLAIN``) is refused before it reaches DuckDB, with a
  one-line reason (COPY writes files, ATTACH opens databases, INSTALL/LOAD add extensions, SET
  changes settings). Whatever DuckDB itself refuses under the warehouse's lock-down
  (``enable_external_access = false``, ``allowed_paths`` = the snapshot's and store's parquet
  files, ``allowed_directories`` = a private spill folder, ``lock_configuration = true``), such as
  ``read_csv('/etc/passwd')``, becomes the same kind of one-line error.
- **Bound parameters.** ``$region`` and ``$as_of`` (and any ``$name`` the caller passes) bind as
  parameters, never by formatting text into SQL. ``$region`` is a region id, or ``'all'`` for the
  whole company (write ``WHERE $region = 'all' OR region_id = $region``); ``$as_of`` is the
  snapshot's as-of date (a DATE).
- **Streaming.** :meth:`Console.batches` yields Arrow record batches, so a result larger than
  memory goes to a file batch by batch.
- **Catalogue.** :meth:`Console.catalogue` lists the marts and analytics tables with what one row
  is (marts: the ``grain`` of their contract; analytics tables: as the caller describes them) and
  their columns and types.

Example::

    from salesops_lib.data.console import Console

    with Console.open() as con:                      # latest snapshot, read-only
        con.sql("select region_id, sum(amount) as bookings from fct_bookings "
                "where order_date > $as_of - interval 90 day group by 1 order by 2 desc")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.core.errors import WorkbenchError
from salesops_lib.data.contracts import load_contracts
from salesops_lib.data.warehouse import Warehouse

BUILT_IN_PARAMETERS: tuple[str, ...] = ("region", "as_of")
"""Named parameters every console query may use without passing them."""

BATCH_ROWS = 100_000
"""Rows per Arrow record batch when a result is streamed."""

MART_PREFIXES: tuple[str, ...] = ("fct_", "dim_")
ANALYTICS_PREFIX = "an_"

_ALLOWED = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
_REFUSED_BECAUSE: dict[str, str] = {
    "COPY": "COPY writes or reads files",
    "EXPORT": "EXPORT writes files",
    "ATTACH": "ATTACH opens another database",
    "DETACH": "DETACH changes the attached databases",
    "LOAD": "INSTALL/LOAD adds extensions",
    "SET": "SET/RESET changes settings",
    "VARIABLE_SET": "SET VARIABLE changes settings",
    "PRAGMA": "PRAGMA changes settings",
    "CREATE": "CREATE changes the catalogue",
    "CREATE_FUNC": "CREATE MACRO changes the catalogue",
    "DROP": "DROP changes the catalogue",
    "ALTER": "ALTER changes the catalogue",
    "INSERT": "INSERT writes data",
    "UPDATE": "UPDATE writes data",
    "DELETE": "DELETE writes data",
    "CALL": "CALL runs table functions outside a SELECT",
}


class QueryRefused(WorkbenchError):
    """A statement the read-only console does not run (a write, attach, extension, setting)."""


class QueryFailed(WorkbenchError):
    """DuckDB could not run a query (syntax, unknown table or column, type error)."""


@dataclass(frozen=True)
class TableInfo:
    """One queryable table of the console's catalogue.

    Attributes:
        name: The view name (``fct_bookings``, ``an_forecast_months``).
        kind: ``"mart"`` or ``"analytics"``.
        grain: What one row is, in words.
        columns: ``(column name, DuckDB type)`` in order.
    """

    name: str
    kind: str
    grain: str
    columns: tuple[tuple[str, str], ...]


def _one_line(text: str) -> str:
    """The first non-empty line of a DuckDB error, without its ``LINE n:`` caret block."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


def check_read_only(sql: str) -> set[str]:
    """Refuse anything but exactly one read-only statement; return its named parameters.

    Args:
        sql: The query text (comments and one trailing semicolon are fine).

    Returns:
        The ``$name`` parameters the statement uses.

    Raises:
        QueryRefused: For no statement, several statements, or a statement that could write
            files, attach databases, load extensions or change settings.
        QueryFailed: If the text does not parse.
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryFailed(f"query does not parse: {_one_line(exc)}") from None
    if len(statements) != 1:
        raise QueryRefused(
            f"refused: the console runs exactly one statement, got {len(statements)} "
            "(split them, or combine them with WITH ... SELECT)"
        )
    statement = statements[0]
    if statement.type not in _ALLOWED:
        kind = statement.type.name
        reason = _REFUSED_BECAUSE.get(kind, f"{kind} is not a read-only query")
        raise QueryRefused(f"refused: {reason}; the console is read-only (one SELECT statement)")
    return set(statement.named_parameters)


class Console(Warehouse):
    """A read-only warehouse for ad-hoc SQL with bound ``$region``/``$as_of`` and streaming.

    Open it with :meth:`Console.open` (latest or given snapshot), like a warehouse. Every view
    of the warehouse (staging, intermediate, marts, the ``an_*`` store tables when the store is
    built) can be queried.
    """

    def bind(
        self, sql: str, region: str | None = None, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Check a query and return the values of the named parameters it uses.

        Args:
            sql: One read-only statement.
            region: A region id, ``"all"`` or ``None`` (whole company) for ``$region``.
            params: Values for further ``$name`` parameters (these may not be ``region`` or
                ``as_of``).

        Returns:
            Parameter name -> value, for exactly the parameters the statement uses.

        Raises:
            QueryRefused: If the statement is not read-only.
            ParameterError: For an unknown region.
            QueryFailed: If the statement uses a parameter nobody gave, or a given parameter is
                not used (a typo would otherwise go unnoticed).
        """
        used = check_read_only(sql)
        given = dict(params or {})
        clash = sorted(set(given) & set(BUILT_IN_PARAMETERS))
        if clash:
            raise QueryFailed(
                f"${', $'.join(clash)} come(s) from --region/--as-of, not from --param"
            )
        region_id = self.check_region(region)
        values: dict[str, Any] = {
            "region": region_id or ALL_REGIONS,
            "as_of": self.as_of,
            **given,
        }
        missing = sorted(used - set(values))
        if missing:
            raise QueryFailed(f"the query uses ${', $'.join(missing)}; pass --param name=value")
        unused = sorted(set(given) - used)
        if unused:
            raise QueryFailed(f"parameter(s) {', '.join(unused)} given but the query never uses")
        return {name: values[name] for name in sorted(used)}

    def _failed(self, exc: duckdb.Error) -> WorkbenchError:
        message = _one_line(exc)
        if isinstance(exc, duckdb.PermissionException):
            return QueryRefused(f"refused by the read-only console: {message}")
        if self.store is None and ANALYTICS_PREFIX in message:
            message += (
                f" (the analytics store of snapshot {self.snapshot.snapshot_id} is not built; "
                f"run `salesops build --as-of {self.snapshot.snapshot_id}`)"
            )
        return QueryFailed(f"query failed: {message}")

    def sql(
        self, sql: str, region: str | None = None, params: Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        """Run one read-only query with bound parameters and return the whole result.

        Args:
            sql: One read-only statement using ``$region``, ``$as_of`` or ``$name`` parameters.
            region: Region id for ``$region`` (``None`` or ``"all"``: the whole company).
            params: Further named parameter values.

        Returns:
            A new DataFrame.

        Raises:
            QueryRefused: For a statement that is not read-only or that DuckDB refuses under
                the lock-down (a file outside the snapshot, an extension).
            QueryFailed: For any other DuckDB error.
        """
        values = self.bind(sql, region, params)
        with self._lock:
            try:
                return self._con.execute(sql, values).df()
            except duckdb.Error as exc:
                raise self._failed(exc) from None

    def batches(
        self,
        sql: str,
        region: str | None = None,
        params: Mapping[str, Any] | None = None,
        rows_per_batch: int = BATCH_ROWS,
    ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """Run one read-only query and stream its result as Arrow record batches.

        The query runs (and fails, if it fails) before this returns; the batches are fetched
        as they are iterated, so memory holds one batch at a time. Do not run another query on
        this console until the iterator is exhausted.

        Args:
            sql: One read-only statement.
            region: Region id for ``$region``.
            params: Further named parameter values.
            rows_per_batch: Rows per batch.

        Returns:
            The result's schema and an iterator over its batches.

        Raises:
            QueryRefused: As for :meth:`sql`.
            QueryFailed: As for :meth:`sql`.
        """
        values = self.bind(sql, region, params)
        with self._lock:
            try:
                reader = self._con.execute(sql, values).fetch_record_batch(rows_per_batch)
            except duckdb.Error as exc:
                raise self._failed(exc) from None

        def read() -> Iterator[pa.RecordBatch]:
            with self._lock:
                try:
                    yield from reader
                except duckdb.Error as exc:
                    raise self._failed(exc) from None

        return reader.schema, read()

    def catalogue(self, analytics_grains: Mapping[str, str] | None = None) -> list[TableInfo]:
        """The marts and analytics tables with what one row is and their columns.

        Args:
            analytics_grains: ``an_*`` table -> what one row is (from the build steps, which
                this layer cannot import); a table without one says so.

        Returns:
            Marts (``dim_``, ``fct_``) by name, then the store's ``an_*`` tables by name (none
            when the store is not built).
        """
        grains = {contract.model: contract.grain for contract in load_contracts("marts")}
        described = dict(analytics_grains or {})
        names = [n for n in self.models() if n.startswith(MART_PREFIXES)]
        names = sorted(names) + sorted(n for n in self.models() if n.startswith(ANALYTICS_PREFIX))
        types = self.query(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        )
        tables = []
        for name in names:
            rows = types[types["table_name"] == name]
            is_mart = not name.startswith(ANALYTICS_PREFIX)
            grain = (grains if is_mart else described).get(name, "(grain not documented)")
            tables.append(
                TableInfo(
                    name=name,
                    kind="mart" if is_mart else "analytics",
                    grain=grain,
                    columns=tuple(zip(rows["column_name"], rows["data_type"], strict=True)),
                )
            )
        return tables


def open_console(as_of: str | dt.date | None = None, snapshots_dir: Path | None = None) -> Console:
    """Open the read-only console over a snapshot (the latest by default) and its store.

    Args:
        as_of: As-of date ``YYYY-MM-DD``; ``None`` opens the latest snapshot.
        snapshots_dir: Snapshots folder; defaults to the configured one.

    Returns:
        The console; use it as a context manager or call ``close()``.
    """
    console = Console.open(as_of or None, snapshots_dir)
    assert isinstance(console, Console)
    return console
