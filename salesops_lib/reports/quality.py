"""The CRM data-integrity report (``notebooks/00-data-quality.ipynb``): read, format, draw.

Everything it shows is computed once per snapshot by the build
(:mod:`salesops_lib.analytics.quality`) and read here from the analytics store, the report's
scope only (its region, or ``all``): the scorecards (``an_quality_scorecard``), the score of
every snapshot up to this one (``an_quality_trend``), the items to fix per owner
(``an_quality_fix_items``) and what the import did (``an_quality_import_rules``). Rep names come
from ``dim_reps``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from salesops_lib.analytics.quality import CHECKS, NOT_SCORED
from salesops_lib.reports import charts, narrative
from salesops_lib.reports.base import (
    Headlines,
    ReportContext,
    headline_base,
    needs,
    report_context,
    report_provenance,
    store_slice,
)
from salesops_lib.reports.base import open_report_warehouse as open_report_warehouse
from salesops_lib.reports.left_out import left_out as left_out

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

NOTEBOOK = "00-data-quality"
DEALS_NEEDS: tuple[str, ...] = ("opportunities",)
"""Snapshot tables every deal section needs."""


@dataclass(frozen=True)
class QualityData:
    """Everything the data-quality report shows, for its scope.

    Attributes:
        context: The report's context (region, snapshot, empty tables).
        scorecard: One row per grain (company, region, owner) x group: records, findings per
            check, problem_records, score, quarantined_rows.
        trend: One row per snapshot up to this one: snapshot, records, problem_records, score.
        fix_items: One row per item to fix: owner_rep_id, position, check, record, detail.
        import_rules: One row per import action x rule x file x column: issues.
        rep_names: Rep id -> name (untrusted text).
    """

    context: ReportContext
    scorecard: pd.DataFrame
    trend: pd.DataFrame
    fix_items: pd.DataFrame
    import_rules: pd.DataFrame
    rep_names: dict[str, str]


def load_quality(warehouse: Warehouse, region: str) -> QualityData:
    """Read the report's slice of the quality tables of the analytics store.

    Args:
        warehouse: An open warehouse (validated parameters, store built).
        region: Region id or ``all``.

    Returns:
        The report's data.
    """
    context = report_context(warehouse, region)
    reps = warehouse.table("dim_reps", columns=["rep_id", "rep_name"])
    return QualityData(
        context=context,
        scorecard=store_slice(warehouse, "an_quality_scorecard", context),
        trend=store_slice(warehouse, "an_quality_trend", context),
        fix_items=store_slice(warehouse, "an_quality_fix_items", context),
        import_rules=store_slice(warehouse, "an_quality_import_rules", context),
        rep_names=dict(zip(reps["rep_id"], reps["rep_name"], strict=True)),
    )


def _grain(data: QualityData, grain: str) -> pd.DataFrame:
    """The scorecard rows of one grain, in group order."""
    rows = data.scorecard[data.scorecard["grain"] == grain]
    return rows.sort_values("group_id", kind="stable").reset_index(drop=True)


def _company(data: QualityData) -> pd.Series:
    """The scope's one company row (zero counts and a NaN score without records)."""
    return _grain(data, "company").iloc[0]


def _score(row: pd.Series) -> float | None:
    return None if pd.isna(row["score"]) else float(row["score"])


def summary(data: QualityData) -> narrative.Html:
    """Two sentences: the score and the most frequent problem (escaped HTML)."""
    row = _company(data)
    counts = {c: int(row[c]) for c in CHECKS if c not in NOT_SCORED and row[c] > 0}
    score = narrative.format_pct(_score(row))
    rows = int(row["quarantined_rows"])
    quarantined = f"{rows:,} source {'row was' if rows == 1 else 'rows were'} quarantined at import"
    if "opportunities" in data.context.empty_tables:
        # An order book has no deals: a deal score over its quarantined rows alone reads 0%.
        text = (
            f"{data.context.region_name}: the snapshot has no deals (no opportunities were "
            f"imported), so there is no deal-record score; {quarantined}."
        )
        return narrative.Html(f"<p>{html.escape(text)}</p>")
    text = (
        f"{data.context.region_name}: {score} of {int(row['records']):,} deal records have no "
        f"data problem; {quarantined}."
    )
    if counts:
        top = max(counts, key=lambda c: (counts[c], c))
        text += (
            f" The most frequent problem is \u201c{CHECKS[top]}\u201d ({counts[top]:,} records)."
        )
    return narrative.Html(f"<p>{html.escape(text)}</p>")


def _score_table(table: pd.DataFrame, first: dict[str, str]) -> charts.DisplayTable:
    shown = [c for c in CHECKS if table[c].sum() > 0] if len(table) else []
    labels = {
        **first,
        "records": "Records",
        "problem_records": "With problems",
        "score": "Score",
        **{c: CHECKS[c] for c in shown},
    }
    frame = table[[*first, "records", *shown, "problem_records", "score"]]
    return charts.format_table(
        frame, pct=["score"], counts=["records", *shown, "problem_records"], labels=labels
    )


def region_scorecard_table(data: QualityData) -> charts.DisplayTable | narrative.Html:
    """Scorecard per region (checks with no finding anywhere are left out)."""
    gap = needs(data.context, DEALS_NEEDS, "the data-quality scorecard by region")
    if gap is not None:
        return gap
    table = _grain(data, "region").rename(columns={"group_id": "region_id"})
    return _score_table(table, {"region_id": "Region"})


def owner_scorecard_table(data: QualityData) -> charts.DisplayTable | narrative.Html:
    """Scorecard per owner rep, worst score first."""
    gap = needs(data.context, DEALS_NEEDS, "the data-quality scorecard by owner")
    if gap is not None:
        return gap
    table = _grain(data, "owner")
    table = table.assign(
        owner=table["group_id"].map(data.rep_names).fillna(table["group_id"])
    ).sort_values(["score", "group_id"], kind="stable")
    return _score_table(table, {"owner": "Owner"})


def quarantine_table(data: QualityData) -> charts.DisplayTable:
    """Import issues per action, rule, file and column with their counts."""
    columns = ["action", "rule", "file", "column", "issues"]
    if data.import_rules.empty:
        frame = pd.DataFrame([["none", "(no import issues)", "", "", 0]], columns=columns)
    else:
        frame = data.import_rules.sort_values(columns[:-1], kind="stable")[columns]
    return charts.format_table(
        frame.reset_index(drop=True),
        counts=["issues"],
        labels={
            "action": "Action",
            "rule": "Rule",
            "file": "File",
            "column": "Column",
            "issues": "Issues",
        },
    )


def _trend(data: QualityData) -> pd.DataFrame:
    columns = ["snapshot", "records", "problem_records", "score"]
    return data.trend.sort_values("snapshot", kind="stable")[columns].reset_index(drop=True)


def trend_table(data: QualityData) -> charts.DisplayTable | narrative.Html:
    """Score of every snapshot up to this one."""
    gap = needs(data.context, DEALS_NEEDS, "the data-quality trend table")
    if gap is not None:
        return gap
    return charts.format_table(
        _trend(data),
        pct=["score"],
        counts=["records", "problem_records"],
        labels={
            "snapshot": "Snapshot",
            "records": "Records",
            "problem_records": "With problems",
            "score": "Score",
        },
    )


def trend_chart(data: QualityData) -> charts.PngFigure | narrative.Html:
    """The score of every snapshot up to this one as a line, titled with the latest score."""
    gap = needs(data.context, DEALS_NEEDS, "the data-quality trend")
    if gap is not None:
        return gap
    trend = _trend(data)
    with mpl.rc_context(charts.HOUSE_RC):
        figure = Figure(figsize=(9.0, 3.2), layout="constrained")
        axes = figure.add_subplot()
    axes.plot(
        trend["snapshot"].astype(str),
        trend["score"] * 100,
        marker="o",
        color=charts.HOUSE_COLORS[0],
    )
    axes.set_ylim(0, 100)
    axes.set_ylabel("Deal records with no problem (%)")
    axes.set_xlabel("Snapshot")
    latest = trend["score"].iloc[-1] if len(trend) else None
    shown = narrative.format_pct(None if latest is None or pd.isna(latest) else float(latest))
    axes.set_title(f"{data.context.region_name}: data-quality score {shown}", loc="left")
    return charts.PngFigure(figure)


def to_fix_table(data: QualityData) -> charts.DisplayTable | narrative.Html:
    """Up to ten findings per owner to fix, with file, row and value."""
    gap = needs(data.context, DEALS_NEEDS, "the list of records to fix")
    if gap is not None:
        return gap
    items = data.fix_items.sort_values(["owner_rep_id", "position"], kind="stable")
    items = items.assign(
        owner=items["owner_rep_id"].map(data.rep_names).fillna(items["owner_rep_id"]),
        check=items["check"].map(CHECKS),
    )
    return charts.format_table(
        items[["owner", "check", "record", "detail"]].reset_index(drop=True),
        labels={"owner": "Owner", "check": "Problem", "record": "Record", "detail": "Detail"},
    )


def headline_numbers(data: QualityData) -> dict[str, Any]:
    """Headline numbers for the runner's index page (plain JSON values)."""
    row = _company(data)
    score = None if "opportunities" in data.context.empty_tables else _score(row)
    return {
        **headline_base(data.context),
        "records": int(row["records"]),
        "problem_records": int(row["problem_records"]),
        "quality_score": None if score is None else round(score, 4),
        "quarantined_rows": int(row["quarantined_rows"]),
    }


def headlines(data: QualityData) -> Headlines:
    """The headline numbers as a display for the cell tagged ``headlines``."""
    return Headlines(headline_numbers(data))


def provenance(data: QualityData, region: str, as_of: str) -> narrative.Html:
    """The report's provenance block: snapshot, parameters, code version, run time, command."""
    return report_provenance(data.context, NOTEBOOK, {"region": region, "as_of": as_of})
