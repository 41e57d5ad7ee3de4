"""Data contracts: what one row of each model is, and the tests every snapshot must pass.

Each layer's contracts live beside its models in ``salesops_lib/sql/<layer>/_contracts.yml``::

    models:
      - name: stg_erp__order_lines
        grain: one row per line of a booked order
        key: [order_id, line_number]
        tests:
          - unique: [order_id, line_number]          # one check over the combined key
          - not_null: [order_id, order_date]         # one check per column
          - relationships: {column: rep_id, to: stg_crm__reps, field: rep_id}
          - accepted_values: {column: stage, values: STAGES}   # a named list, or a list
          - expression: {name: quantity_positive, rule: "quantity > 0", where: "..."}

Every test compiles to one SQL query that returns the failing rows. Model and column names are
checked against the warehouse catalogue before they are quoted into SQL; accepted values are
bound as a parameter. Expression rules are SQL written in the (committed, trusted) YAML; a row
fails when its rule is false (NULL does not fail: ``not_null`` covers that).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from salesops_lib.core.errors import ContractError
from salesops_lib.data import schema
from salesops_lib.data.warehouse import SQL_DIR, Warehouse

CONTRACT_FILE = "_contracts.yml"
SAMPLE_ROWS = 5
ONE_QUERY_ROWS = 200_000
"""Snapshots with at most this many rows (all tables) have each layer checked in one query."""
NAMED_VALUES: dict[str, tuple[str, ...]] = {
    "FORECAST_CATEGORIES": schema.FORECAST_CATEGORIES,
    "SIZE_BANDS": schema.ACCEPTED_SIZE_BANDS,
    "REP_ROLES": schema.REP_ROLES,
}
"""Fixed value lists a contract may name in ``accepted_values`` (from
:mod:`salesops_lib.data.schema`); the stage lists come from the warehouse's stage model
(:func:`named_values`)."""


def named_values(wh: Warehouse) -> dict[str, tuple[str, ...]]:
    """Every value list a contract may name: the fixed ones and the snapshot's stages.

    Args:
        wh: The warehouse; its ``stage_model`` gives ``STAGES`` (every stage, funnel order)
            and ``OPEN_STAGES``.

    Returns:
        List name -> accepted values.
    """
    model = wh.stage_model
    return {"STAGES": model.names, "OPEN_STAGES": model.open_stages, **NAMED_VALUES}


@dataclass(frozen=True)
class ModelContract:
    """One model's contract as written in YAML.

    Attributes:
        model: The model (view) name.
        grain: What one row is, in words.
        key: Columns that identify a row.
        tests: The raw test entries (one-key dicts: test type -> arguments).
        source: The YAML file it came from.
    """

    model: str
    grain: str
    key: tuple[str, ...]
    tests: tuple[dict[str, Any], ...]
    source: Path


@dataclass(frozen=True)
class Check:
    """One compiled test: a query that returns the failing rows.

    Attributes:
        model: The model tested.
        check: Test type (unique, not_null, relationships, accepted_values, expression).
        column: The column tested, or ``None`` for multi-column and expression tests.
        rule: The rule in words or SQL, for messages.
        sql: The query returning the failing rows.
        params: Values bound to the query's placeholders.
        failing_when: For a test of one row at a time (not_null, accepted_values,
            expression), the condition a row of the model fails by (``sql`` is ``SELECT *
            FROM model WHERE failing_when``), so that several are counted in one scan;
            ``None`` for unique and relationships.
    """

    model: str
    check: str
    column: str | None
    rule: str
    sql: str
    params: tuple[Any, ...] = field(default=())
    failing_when: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes:
        model: The model tested.
        check: Test type.
        column: The column tested, or ``None``.
        rule: The rule in words or SQL.
        failing_rows: How many rows break the rule.
        sample: Up to five offending rows.
    """

    model: str
    check: str
    column: str | None
    rule: str
    failing_rows: int
    sample: pd.DataFrame

    @property
    def passed(self) -> bool:
        """Whether no row breaks the rule."""
        return self.failing_rows == 0


@lru_cache(maxsize=8)
def load_contracts(layer: str) -> tuple[ModelContract, ...]:
    """Read one layer's contract file.

    Args:
        layer: A layer folder name such as ``"staging"``.

    Returns:
        The model contracts in file order (empty if the layer has no contract file).

    Raises:
        ContractError: If the file is not valid YAML or an entry lacks name, grain or tests.
    """
    path = SQL_DIR / layer / CONTRACT_FILE
    if not path.is_file():
        return ()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from None
    contracts = []
    for entry in raw.get("models", []):
        if not isinstance(entry, dict) or not {"name", "grain", "tests"} <= set(entry):
            raise ContractError(f"{path}: every model needs name, grain and tests: {entry!r}")
        contracts.append(
            ModelContract(
                model=entry["name"],
                grain=entry["grain"],
                key=tuple(entry.get("key", ())),
                tests=tuple(entry["tests"]),
                source=path,
            )
        )
    return tuple(contracts)


def _one_line(text: str) -> str:
    """Collapse a (YAML folded) SQL snippet onto one line."""
    return " ".join(str(text).split())


def _quote(name: str, allowed: Sequence[str], what: str, where: str) -> str:
    """Quote an identifier after checking it against the catalogue."""
    if name not in allowed:
        raise ContractError(f"{where}: unknown {what} {name!r}; known: {', '.join(allowed)}")
    return f'"{name}"'


@dataclass(frozen=True)
class _Target:
    """The model a contract tests, with its catalogue-checked quoted name and columns."""

    wh: Warehouse
    model: str
    table: str
    columns: list[str]
    where: str

    def column(self, name: str) -> str:
        """Return a column of the model, quoted, after checking it exists."""
        return _quote(name, self.columns, "column", self.where)


def _row_check(
    t: _Target,
    check: str,
    column: str | None,
    rule: str,
    failing_when: str,
    params: tuple[Any, ...] = (),
) -> Check:
    """A test of one row at a time: the rows of the model for which ``failing_when`` holds."""
    sql = f"SELECT * FROM {t.table} WHERE {failing_when}"
    return Check(t.model, check, column, rule, sql, params, failing_when)


def _unique(t: _Target, keys: list[str]) -> list[Check]:
    quoted = [t.column(k) for k in keys]
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in quoted)
    sql = (
        f"SELECT * FROM {t.table} WHERE {not_null} "
        f"QUALIFY count(*) OVER (PARTITION BY {', '.join(quoted)}) > 1"
    )
    column = keys[0] if len(keys) == 1 else None
    return [Check(t.model, "unique", column, f"unique({', '.join(keys)})", sql)]


def _not_null(t: _Target, columns: list[str]) -> list[Check]:
    return [_row_check(t, "not_null", c, "is not null", f"{t.column(c)} IS NULL") for c in columns]


def _relationships(t: _Target, args: dict[str, str]) -> list[Check]:
    col = t.column(args["column"])
    parent = _quote(args["to"], t.wh.models(), "model", t.where)
    key = _quote(args["field"], t.wh.columns(args["to"]), "column", f"{t.where} -> {parent}")
    sql = (
        f"SELECT * FROM {t.table} AS child WHERE child.{col} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {parent} AS parent WHERE parent.{key} = child.{col})"
    )
    rule = f"references {args['to']}.{args['field']}"
    return [Check(t.model, "relationships", args["column"], rule, sql)]


def _accepted_values(t: _Target, args: dict[str, Any]) -> list[Check]:
    col = t.column(args["column"])
    values = args["values"]
    if isinstance(values, str):
        named = named_values(t.wh)
        if values not in named:
            raise ContractError(
                f"{t.where}: unknown value list {values!r}; known: {', '.join(named)}"
            )
        label, values = f"{values} ({', '.join(named[values])})", named[values]
    else:
        label = ", ".join(map(str, values))
    failing_when = (
        f"{col} IS NOT NULL AND NOT list_contains(CAST(? AS VARCHAR[]), CAST({col} AS VARCHAR))"
    )
    return [
        _row_check(
            t, "accepted_values", args["column"], f"in {label}", failing_when, (list(values),)
        )
    ]


def _expression(t: _Target, args: dict[str, Any]) -> list[Check]:
    condition = f"({args['where']}) AND " if args.get("where") else ""
    failing_when = f"{condition}NOT ({args['rule']})"
    rule = f"{args['name']}: {_one_line(args['rule'])}"
    if args.get("where"):
        rule += f" (where {_one_line(args['where'])})"
    column = args.get("column")
    if column is not None:
        t.column(column)
    return [_row_check(t, "expression", column, rule, failing_when)]


_COMPILERS: dict[str, Callable[[_Target, Any], list[Check]]] = {
    "unique": _unique,
    "not_null": _not_null,
    "relationships": _relationships,
    "accepted_values": _accepted_values,
    "expression": _expression,
}


def compile_checks(wh: Warehouse, contract: ModelContract) -> list[Check]:
    """Compile one model's tests into queries returning the failing rows.

    Args:
        wh: The warehouse whose catalogue names are checked against.
        contract: The model's contract.

    Returns:
        One :class:`Check` per test (``not_null`` gives one per column).

    Raises:
        ContractError: If the contract names an unknown model, column, value list or test type.
    """
    where = f"{contract.source.name}: {contract.model}"
    table = _quote(contract.model, wh.models(), "model", where)
    target = _Target(wh, contract.model, table, wh.columns(contract.model), where)
    checks: list[Check] = []
    for test in contract.tests:
        if not isinstance(test, dict) or len(test) != 1:
            raise ContractError(f"{where}: a test is a one-key mapping, got {test!r}")
        kind, args = next(iter(test.items()))
        if kind not in _COMPILERS:
            raise ContractError(f"{where}: unknown test {kind!r}; use {', '.join(_COMPILERS)}")
        checks.extend(_COMPILERS[kind](target, args))
    return checks


def _materialized(checks: Sequence[Check]) -> str:
    """A WITH clause that computes each tested model once; the CTE shadows the view's name.

    Model names were checked against the catalogue when the checks were compiled.
    """
    models = sorted({c.model for c in checks})
    ctes = ", ".join(f'"{m}" AS MATERIALIZED (SELECT * FROM main."{m}")' for m in models)
    return f"WITH {ctes}"


def _counting_sources(checks: Sequence[Check]) -> tuple[str, list[Any], list[int]]:
    """The FROM list that counts each check's failing rows; its parameters; the checks' order.

    Tests of one row at a time are counted together, in one scan of their model (``count(*)
    FILTER``: planning a query per test costs more than the scan on small snapshots); the
    others (unique, relationships) each count their own query. Parameters follow in the order
    their placeholders appear; the order lists each column's check by its position.
    """
    scans: dict[str, list[tuple[int, Check]]] = {}
    others: list[tuple[int, Check]] = []
    for position, check in enumerate(checks):
        if check.failing_when is None:
            others.append((position, check))
        else:
            scans.setdefault(check.model, []).append((position, check))
    sources: list[str] = []
    params: list[Any] = []
    for model, row_checks in scans.items():
        counts = ", ".join(
            f"count(*) FILTER (WHERE {c.failing_when}) AS c{i}" for i, c in row_checks
        )
        sources.append(f'(SELECT {counts} FROM "{model}")')
        params.extend(p for _, c in row_checks for p in c.params)
    if others:
        counts = ", ".join(f"(SELECT count(*) FROM ({c.sql})) AS c{i}" for i, c in others)
        sources.append(f"(SELECT {counts})")
        params.extend(p for _, c in others for p in c.params)
    order = [i for row_checks in scans.values() for i, _ in row_checks] + [i for i, _ in others]
    return ", ".join(sources), params, order


def count_failing(wh: Warehouse, checks: Sequence[Check]) -> list[int]:
    """Count the failing rows of several checks in one round trip.

    Args:
        wh: The warehouse.
        checks: Compiled checks.

    Returns:
        The failing-row count of each check, in order.

    Raises:
        ContractError: If a check's SQL does not run; the message names the checks' models.
    """
    if not checks:
        return []
    sources, params, order = _counting_sources(checks)
    try:
        row = wh.query_one(f"{_materialized(checks)} SELECT * FROM {sources}", params)
    except duckdb.Error as exc:
        models = ", ".join(sorted({c.model for c in checks}))
        raise ContractError(f"contracts of {models} do not run: {exc}") from None
    counts = [0] * len(checks)
    for position, count in zip(order, row or (), strict=True):  # aggregates: always one row
        counts[position] = int(count)
    return counts


def failing_sample(wh: Warehouse, check: Check, limit: int = SAMPLE_ROWS) -> pd.DataFrame:
    """Return up to ``limit`` rows that break a check, in a deterministic order.

    Args:
        wh: The warehouse.
        check: A compiled check.
        limit: Most rows to return.

    Returns:
        The offending rows.
    """
    try:
        return wh.query(
            f"{_materialized([check])} SELECT * FROM ({check.sql}) ORDER BY ALL LIMIT {int(limit)}",
            list(check.params),
        )
    except duckdb.Error as exc:
        raise ContractError(
            f"contract {check.model} {check.check} {check.rule!r} does not run: {exc}"
        ) from None


def run_check(wh: Warehouse, check: Check) -> CheckResult:
    """Run one check: count its failing rows and keep a sample.

    Args:
        wh: The warehouse.
        check: A compiled check.

    Returns:
        The result, with up to five offending rows in a deterministic order.

    Raises:
        ContractError: If the check's SQL does not run; the message names model and rule.
    """
    failing = count_failing(wh, [check])[0]
    sample = failing_sample(wh, check) if failing else pd.DataFrame()
    return CheckResult(check.model, check.check, check.column, check.rule, failing, sample)


def run_contracts(wh: Warehouse, layers: Sequence[str] = ("staging", "marts")) -> list[CheckResult]:
    """Run every contract check of the given layers.

    A small snapshot (at most :data:`ONE_QUERY_ROWS` rows) is counted in one query per layer:
    planning costs more than scanning it. A larger one is counted one model at a time, so that
    one model's rows are held at once. Samples are fetched only for failing checks.

    Args:
        wh: The warehouse over the snapshot to check.
        layers: Layer folders whose ``_contracts.yml`` to run, in order.

    Returns:
        One result per check, in contract-file order.
    """
    files = wh.snapshot.manifest.get("files", {}).values()
    small = sum(int(f.get("rows") or 0) for f in files) <= ONE_QUERY_ROWS
    batches: list[list[Check]] = []
    for layer in layers:
        per_model = [compile_checks(wh, contract) for contract in load_contracts(layer)]
        batches.extend([[c for checks in per_model for c in checks]] if small else per_model)
    results = []
    for checks in batches:
        for check, failing in zip(checks, count_failing(wh, checks), strict=True):
            sample = failing_sample(wh, check) if failing else pd.DataFrame()
            results.append(
                CheckResult(check.model, check.check, check.column, check.rule, failing, sample)
            )
    return results
