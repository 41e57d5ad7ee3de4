"""Data-quality tables of the analytics store, computed once per snapshot.

The step reads the deals from the marts (``fct_opportunities``, ``dim_products``,
``fct_stage_changes``) and the import's issue list from the snapshot (``_quarantine.json``), and
scores every earlier snapshot too (one warehouse per snapshot, fanned out on the build's
executor) for the trend. Tables (``scope`` is ``all`` or a region id; a region's scope holds
the records, findings and issues of that region only):

* ``an_quality_findings``: one row per record x check it breaks (record, check, owner_rep_id,
  region_id, detail); read a region's with ``Warehouse.table(..., region=...)``;
* ``an_quality_scorecard``: one row per scope x grain (company, region, owner) x group;
* ``an_quality_trend``: one row per scope x snapshot up to this one;
* ``an_quality_fix_items``: one row per scope x item to fix (up to ten per owner);
* ``an_quality_import_rules``: one row per scope x import action, rule, file and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.build import BuildContext, BuildStep
from salesops_lib.analytics.quality.checks import DEAL_COLUMNS, FINDING_COLUMNS, snapshot_findings
from salesops_lib.analytics.quality.scores import (
    scope_fix_items,
    scope_import_rules,
    scope_scorecards,
    scope_trend_rows,
)
from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.data.snapshot import Snapshot, list_snapshots, open_snapshot
from salesops_lib.sources.importer.quarantine import QUARANTINE_FILE, empty_issues, from_json_bytes

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

TEXT_COLUMNS: tuple[str, ...] = (
    "scope",
    "grain",
    "group_id",
    "snapshot",
    "record",
    "check",
    "owner_rep_id",
    "region_id",
    "detail",
    "action",
    "rule",
    "file",
    "column",
)
"""Columns stored as text (also when a table has no rows or a column holds only nulls)."""


def load_issues(snapshot: Snapshot) -> pd.DataFrame:
    """The import's issue list of a snapshot (empty for snapshots that were not imported).

    Args:
        snapshot: An opened snapshot.

    Returns:
        One row per issue (see :mod:`salesops_lib.sources.importer.quarantine`).
    """
    if QUARANTINE_FILE not in snapshot.manifest.get("files", {}):
        return empty_issues()
    return from_json_bytes(snapshot.extra_path(QUARANTINE_FILE).read_bytes())


def load_deals(warehouse: Warehouse) -> pd.DataFrame:
    """One row per opportunity with its region, list price and last stage change date.

    Args:
        warehouse: An open warehouse (marts only are read).

    Returns:
        A new frame with :data:`~salesops_lib.analytics.quality.checks.DEAL_COLUMNS`; ``is_open``
        is True for a deal in a known open stage, ``last_stage_date`` is the latest date the
        deal entered a stage (NaT without stage history).
    """
    deals = warehouse.table(
        "fct_opportunities",
        columns=[
            "opportunity_id",
            "owner_rep_id",
            "region_id",
            "account_id",
            "product_id",
            "stage",
            "stage_order",
            "is_closed",
            "amount",
            "created_date",
            "close_date",
        ],
    )
    products = warehouse.table("dim_products", columns=["product_id", "list_price"])
    changes = warehouse.table("fct_stage_changes", columns=["opportunity_id", "entered_date"])
    last = changes.groupby("opportunity_id")["entered_date"].max().rename("last_stage_date")
    out = deals.merge(products, on="product_id", how="left").merge(
        last, left_on="opportunity_id", right_index=True, how="left"
    )
    return out.assign(
        amount=out["amount"].astype(float),
        list_price=out["list_price"].astype(float),
        created_date=pd.to_datetime(out["created_date"]),
        close_date=pd.to_datetime(out["close_date"]),
        last_stage_date=pd.to_datetime(out["last_stage_date"]),
        is_open=out["stage_order"].notna() & ~out["is_closed"].astype("boolean").fillna(False),
    )[DEAL_COLUMNS].astype({"is_open": bool})


def _stored(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with the text columns as pandas strings (stored as parquet strings)."""
    text = [c for c in TEXT_COLUMNS if c in frame.columns]
    return frame.astype(dict.fromkeys(text, "string")).reset_index(drop=True)


@dataclass(frozen=True)
class TrendItem:
    """One earlier snapshot to score for the trend (picklable, for the build's executor).

    Attributes:
        snapshots_dir: The snapshots folder.
        as_of: The snapshot's as-of date ``YYYY-MM-DD``.
        scopes: ``all`` and the region ids to score.
        threads: DuckDB threads of its warehouse.
        memory_limit: DuckDB memory limit of its warehouse.
    """

    snapshots_dir: str
    as_of: str
    scopes: tuple[str, ...]
    threads: int = 2
    memory_limit: str = "4GB"


def snapshot_trend(item: TrendItem) -> pd.DataFrame:
    """Score one snapshot in every scope (opens its own warehouse).

    Args:
        item: Which snapshot and scopes.

    Returns:
        One row per scope (see :func:`~salesops_lib.analytics.quality.scores.scope_trend_rows`).
    """
    from salesops_lib.data.warehouse import Warehouse

    snapshot = open_snapshot(Path(item.snapshots_dir), item.as_of, verify=False)
    with Warehouse(snapshot, threads=item.threads, memory_limit=item.memory_limit) as warehouse:
        deals = load_deals(warehouse)
    records, findings = snapshot_findings(deals, load_issues(snapshot), snapshot.as_of)
    return scope_trend_rows(snapshot.snapshot_id, records, findings, item.scopes)


def compute_quality(context: BuildContext) -> dict[str, pd.DataFrame]:
    """Findings, scorecards, trend, to-fix lists and import counts of the snapshot.

    Args:
        context: The build's context.

    Returns:
        The step's tables (see the module docstring for what one row of each is).
    """
    warehouse = context.warehouse
    snapshot = warehouse.snapshot
    scopes = (ALL_REGIONS, *warehouse.region_ids())
    issues = load_issues(snapshot)
    records, findings = snapshot_findings(load_deals(warehouse), issues, snapshot.as_of)
    duckdb = settings().duckdb
    earlier = [
        TrendItem(
            str(context.snapshots_dir), d.isoformat(), scopes, duckdb.threads, duckdb.memory_limit
        )
        for d in list_snapshots(context.snapshots_dir)
        if d < snapshot.as_of
    ]
    trend = pd.concat(
        [
            *context.executor.map(snapshot_trend, earlier),
            scope_trend_rows(snapshot.snapshot_id, records, findings, scopes),
        ],
        ignore_index=True,
    )
    ordered_findings = findings.sort_values(FINDING_COLUMNS, kind="stable", na_position="first")
    return {
        "an_quality_findings": _stored(ordered_findings),
        "an_quality_scorecard": _stored(scope_scorecards(records, findings, issues, scopes)),
        "an_quality_trend": _stored(trend.sort_values(["scope", "snapshot"], kind="stable")),
        "an_quality_fix_items": _stored(scope_fix_items(findings, scopes)),
        "an_quality_import_rules": _stored(scope_import_rules(issues, scopes)),
    }


STEPS: tuple[BuildStep, ...] = (
    BuildStep(
        name="quality",
        tables=(
            "an_quality_findings",
            "an_quality_scorecard",
            "an_quality_trend",
            "an_quality_fix_items",
            "an_quality_import_rules",
        ),
        compute=compute_quality,
    ),
)
"""The data-quality build step."""
