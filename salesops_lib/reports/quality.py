"""The CRM data-integrity report (``notebooks/00-data-quality.ipynb``).

Two sources of findings:

* the import's issue list (``_quarantine.json`` in the snapshot, written by the importers):
  rows quarantined, values imputed (for example a missing close date) or corrected (a product
  alias, a category typo) - each with its rule, file, row, column and, where known, owner rep
  and region;
* checks over the snapshot's deals: open deals whose close date is before the as-of date, open
  deals with no stage change for more than ``STALE_DAYS``, duplicates (same account, product
  and amount created within ``DUPLICATE_DAYS`` of each other), amounts more than
  ``EXTREME_FACTOR`` times the larger of the product's list price and its median deal amount.

A *record* is a deal in the snapshot (by opportunity id) or a quarantined source row. The
*score* is the share of records with no problem (corrected values do not count against it:
they were fixed by a documented rule). Pure functions take frames and return new frames.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.data.schema import OPEN_STAGES
from salesops_lib.data.snapshot import Snapshot, list_snapshots, open_snapshot, read_table
from salesops_lib.reports import charts, missing_data, narrative
from salesops_lib.reports.base import Headlines, open_report_warehouse
from salesops_lib.reports.provenance import provenance as report_provenance
from salesops_lib.sources.importer.quarantine import QUARANTINE_FILE, empty_issues, from_json_bytes

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

STALE_DAYS = 90
DUPLICATE_DAYS = 7
EXTREME_FACTOR = 10.0
TO_FIX_PER_OWNER = 10

CHECKS: dict[str, str] = {
    "missing_owner": "Missing or unknown owner",
    "missing_account": "Missing or unknown account",
    "missing_close_date": "Missing close date",
    "missing_amount": "Missing amount",
    "open_past_close": "Open deal, close date passed",
    "stale": f"No stage change for over {STALE_DAYS} days",
    "duplicate": f"Duplicate (same account, product, amount within {DUPLICATE_DAYS} days)",
    "close_before_create": "Close date before created date",
    "unmapped": "Unmapped stage or product",
    "negative_amount": "Negative amount",
    "extreme_amount": f"Amount over {EXTREME_FACTOR:g}x the product's typical deal",
    "other_rule": "Other import rule broken",
    "corrected": "Value corrected at import (alias, typo)",
}
"""Check id -> label, in report order."""

RULE_CHECK: dict[str, str] = {
    "missing_owner": "missing_owner",
    "unknown_owner": "missing_owner",
    "missing_account": "missing_account",
    "unknown_account": "missing_account",
    "missing_close_date": "missing_close_date",
    "missing_amount": "missing_amount",
    "close_before_create": "close_before_create",
    "unknown_stage": "unmapped",
    "missing_stage": "unmapped",
    "unknown_product": "unmapped",
    "missing_product": "unmapped",
    "negative_amount": "negative_amount",
}
"""Import rule -> check (rules not listed count as ``other_rule``; corrections as ``corrected``)."""

NOT_SCORED = frozenset({"corrected"})
CORRECTION_RULES = frozenset({"product_alias", "category_alias"})
"""Rules that correct a value (also on rows quarantined for another reason)."""
IGNORED_RULES = frozenset({"missing_hire_date", "missing_created_date"})
"""Imputations that are properties of the export format, not of a deal's upkeep."""

FINDING_COLUMNS = ["record", "check", "owner_rep_id", "region_id", "detail"]


# --- loading -----------------------------------------------------------------------------------


def load_issues(snapshot: Snapshot) -> pd.DataFrame:
    """The import's issue list of a snapshot (empty for snapshots that were not imported)."""
    if QUARANTINE_FILE not in snapshot.manifest.get("files", {}):
        return empty_issues()
    return from_json_bytes(snapshot.extra_path(QUARANTINE_FILE).read_bytes())


def load_deals(snapshot: Snapshot) -> pd.DataFrame:
    """One row per opportunity with its region, list price and last stage change date.

    Args:
        snapshot: An opened snapshot.

    Returns:
        A new frame: opportunity_id, owner_rep_id, region_id, account_id, product_id, stage,
        amount, created_date, close_date, is_open, list_price, last_stage_date.
    """
    deals = read_table(snapshot, "opportunities").to_pandas()
    reps = read_table(snapshot, "reps", ["rep_id", "region_id"]).to_pandas()
    products = read_table(snapshot, "products", ["product_id", "list_price"]).to_pandas()
    history = read_table(snapshot, "opportunity_stage_history").to_pandas()
    last = history.groupby("opportunity_id")["entered_date"].max().rename("last_stage_date")
    out = (
        deals.merge(reps.rename(columns={"rep_id": "owner_rep_id"}), on="owner_rep_id", how="left")
        .merge(products, on="product_id", how="left")
        .merge(last, left_on="opportunity_id", right_index=True, how="left")
    )
    for column in ("created_date", "close_date", "last_stage_date"):
        out[column] = pd.to_datetime(out[column])
    out["is_open"] = out["stage"].isin(OPEN_STAGES)
    return out[
        [
            "opportunity_id",
            "owner_rep_id",
            "region_id",
            "account_id",
            "product_id",
            "stage",
            "amount",
            "created_date",
            "close_date",
            "is_open",
            "list_price",
            "last_stage_date",
        ]
    ]


# --- checks (pure) -----------------------------------------------------------------------------


def duplicate_deals(deals: pd.DataFrame, days: int = DUPLICATE_DAYS) -> pd.Series:
    """True for a deal with another deal of the same account, product and amount created within
    ``days`` days of it (both deals of a pair are flagged)."""
    keys = ["account_id", "product_id", "amount"]
    ordered = deals.sort_values([*keys, "created_date", "opportunity_id"], kind="stable")
    same = (ordered[keys] == ordered[keys].shift()).all(axis=1)
    gap = ordered["created_date"] - ordered["created_date"].shift()
    close_to_previous = same & (gap <= pd.Timedelta(days=days))
    flagged = close_to_previous | close_to_previous.shift(-1, fill_value=False)
    return flagged.reindex(deals.index)


def mark_imputed_amounts(deals: pd.DataFrame, issues: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``deals`` with ``amount_is_imputed``: the import filled the amount in."""
    filled = issues.loc[
        (issues["rule"] == "missing_amount") & (issues["action"] == "imputed"), "record_id"
    ]
    return deals.assign(amount_is_imputed=deals["opportunity_id"].isin(set(filled)))


def deal_findings(
    deals: pd.DataFrame,
    as_of: dt.date,
    stale_days: int = STALE_DAYS,
    duplicate_days: int = DUPLICATE_DAYS,
    extreme_factor: float = EXTREME_FACTOR,
) -> pd.DataFrame:
    """Findings from the snapshot's deals (see the module docstring for each check).

    Args:
        deals: Output of :func:`load_deals`; an optional boolean ``amount_is_imputed`` column
            (see :func:`mark_imputed_amounts`) keeps imputed amounts out of the duplicate and
            extreme-amount checks (they are list prices, not what a rep entered).
        as_of: The snapshot's as-of date.
        stale_days: Days without a stage change after which an open deal is stale.
        duplicate_days: Window for duplicates.
        extreme_factor: Multiple of the larger of the list price and the product's median deal
            amount above which an amount is extreme.

    Returns:
        One row per finding: record, check, owner_rep_id, region_id, detail.
    """
    day = pd.Timestamp(as_of)
    imputed = deals.get("amount_is_imputed", pd.Series(False, index=deals.index)).astype(bool)
    real = deals[~imputed]
    # A deal's reference is the larger of its product's list price and the median amount of the
    # product's real deals: a one-unit catalogue (Maven) compares with the list price, a
    # multi-unit pipeline (the demo) with what deals of that product usually come to.
    product_median = real.groupby("product_id")["amount"].median()
    typical_amount = np.maximum(
        deals["list_price"].astype(float),
        deals["product_id"].map(product_median).astype(float).fillna(0.0),
    )
    masks = {
        "open_past_close": deals["is_open"] & (deals["close_date"] < day),
        "stale": deals["is_open"] & ((day - deals["last_stage_date"]).dt.days > stale_days),
        "duplicate": duplicate_deals(real, duplicate_days).reindex(deals.index, fill_value=False),
        "extreme_amount": ~imputed & (deals["amount"] > extreme_factor * typical_amount),
    }
    parts = []
    for check, mask in masks.items():
        rows = deals[mask.fillna(False).astype(bool)]
        parts.append(
            pd.DataFrame(
                {
                    "record": rows["opportunity_id"],
                    "check": check,
                    "owner_rep_id": rows["owner_rep_id"],
                    "region_id": rows["region_id"],
                    "detail": "deal " + rows["opportunity_id"].astype(str),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)[FINDING_COLUMNS]


def issue_findings(issues: pd.DataFrame) -> pd.DataFrame:
    """Findings from the import's issue list, one per issue (imputed hire/created dates aside).

    Args:
        issues: The issue list (see :mod:`salesops_lib.sources.importer.quarantine`).

    Returns:
        One row per finding: record (the record id, or ``file:row``), check, owner_rep_id,
        region_id, detail (file, row, column, value, action).
    """
    kept = issues[~issues["rule"].isin(IGNORED_RULES)]
    check = kept["rule"].map(RULE_CHECK).fillna("other_rule")
    corrected = (kept["action"] == "corrected") | kept["rule"].isin(CORRECTION_RULES)
    check = check.where(~corrected, "corrected")
    location = kept["file"].astype(str) + ":" + kept["row"].astype(str)
    record = kept["record_id"].where(kept["record_id"].notna(), location)
    quarantined = kept["action"] == "quarantined"
    record = record.where(~quarantined, "row " + location)
    detail = (
        kept["action"]
        + " ("
        + kept["rule"]
        + ") "
        + location
        + " column "
        + kept["column"].astype(str)
        + " value "
        + kept["value"].fillna("blank").astype(str)
    )
    out = pd.DataFrame(
        {
            "record": record,
            "check": check,
            "owner_rep_id": kept["owner_rep_id"],
            "region_id": kept["region_id"],
            "detail": detail,
        }
    )
    return out.reset_index(drop=True)[FINDING_COLUMNS]


def deal_records(deals: pd.DataFrame, issues: pd.DataFrame) -> pd.DataFrame:
    """Every record the score is over: snapshot deals and quarantined deal rows.

    Returns:
        One row per record: record, owner_rep_id, region_id.
    """
    snap = pd.DataFrame(
        {
            "record": deals["opportunity_id"],
            "owner_rep_id": deals["owner_rep_id"],
            "region_id": deals["region_id"],
        }
    )
    q = issues[issues["action"] == "quarantined"]
    quarantined = pd.DataFrame(
        {
            "record": "row " + q["file"].astype(str) + ":" + q["row"].astype(str),
            "owner_rep_id": q["owner_rep_id"],
            "region_id": q["region_id"],
        }
    )
    return pd.concat([snap, quarantined], ignore_index=True).drop_duplicates("record")


def scorecard(records: pd.DataFrame, findings: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Count records and findings per check, and the score, per group.

    Args:
        records: Output of :func:`deal_records`.
        findings: Deal and issue findings together.
        by: ``region_id``, ``owner_rep_id`` or ``None`` for one company row.

    Returns:
        One row per group: the group column (if any), records, one column per check id
        (findings counted once per record), problem_records, score (0-1; NaN with no records).
    """

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        if by is None:
            return frame.assign(_group="all")
        return frame.assign(_group=frame[by].fillna("(unknown)"))

    recs, finds = keyed(records), keyed(findings).drop_duplicates(["record", "check"])
    counts = finds.pivot_table(
        index="_group", columns="check", values="record", aggfunc="count", fill_value=0
    )
    counts = counts.reindex(columns=list(CHECKS), fill_value=0)
    scored = finds[~finds["check"].isin(NOT_SCORED) & finds["record"].isin(recs["record"])]
    problems = scored.drop_duplicates("record").groupby("_group").size()
    table = recs.groupby("_group").size().rename("records").to_frame()
    table = table.join(counts, how="outer").fillna(0)
    table["problem_records"] = problems.reindex(table.index).fillna(0)
    table = table.astype("int64")
    table["score"] = 1 - table["problem_records"] / table["records"].where(table["records"] > 0)
    table = table.reset_index(names="_group")
    if by is None:
        return table.drop(columns="_group")
    return table.rename(columns={"_group": by}).sort_values(by).reset_index(drop=True)


def to_fix(findings: pd.DataFrame, per_owner: int = TO_FIX_PER_OWNER) -> pd.DataFrame:
    """The first ``per_owner`` findings per owner (corrections left out), in a stable order."""
    open_items = findings[findings["check"] != "corrected"].assign(
        owner_rep_id=lambda f: f["owner_rep_id"].fillna("(unknown)"),
        check_order=lambda f: f["check"].map({c: i for i, c in enumerate(CHECKS)}),
    )
    ordered = open_items.sort_values(["owner_rep_id", "check_order", "record"], kind="stable")
    return (
        ordered.groupby("owner_rep_id")
        .head(per_owner)
        .drop(columns="check_order")
        .reset_index(drop=True)
    )


def snapshot_score(snapshot: Snapshot, region: str) -> dict[str, Any]:
    """One snapshot's record count and score for a region (or all)."""
    issues = load_issues(snapshot)
    deals = mark_imputed_amounts(load_deals(snapshot), issues)
    findings = pd.concat(
        [deal_findings(deals, snapshot.as_of), issue_findings(issues)], ignore_index=True
    )
    records = deal_records(deals, issues)
    if region != ALL_REGIONS:
        records = records[records["region_id"] == region]
        findings = findings[findings["region_id"] == region]
    row = scorecard(records, findings, None)
    if row.empty:  # no deal records in scope (e.g. a snapshot without opportunities)
        return {"snapshot": snapshot.snapshot_id, "records": 0, "problem_records": 0,
                "score": float("nan")}  # fmt: skip
    return {
        "snapshot": snapshot.snapshot_id,
        "records": int(row["records"].iloc[0]),
        "problem_records": int(row["problem_records"].iloc[0]),
        "score": float(row["score"].iloc[0]),
    }


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityData:
    """Everything the data-quality report shows.

    Attributes:
        region: Region id or ``all``.
        region_name: Display name (untrusted text).
        snapshot: The snapshot.
        records: Records in scope (see :func:`deal_records`).
        findings: Findings in scope.
        issues: The snapshot's import issues in scope.
        rep_names: Rep id -> name.
        trend: One row per snapshot up to this one: snapshot, records, problem_records, score.
    """

    region: str
    region_name: str
    snapshot: Snapshot
    records: pd.DataFrame
    findings: pd.DataFrame
    issues: pd.DataFrame
    rep_names: dict[str, str]
    trend: pd.DataFrame


def open_quality_warehouse(region: str, as_of: str, snapshots_dir: Path | None = None) -> Warehouse:
    """Check the report's parameters and open the warehouse (see overview's validation)."""
    return open_report_warehouse(region, as_of, snapshots_dir)


def load_quality(warehouse: Warehouse, region: str) -> QualityData:
    """Read the snapshot's deals and import issues, filtered to one region (or all).

    Args:
        warehouse: An open warehouse (validated parameters).
        region: Region id or ``all``.

    Returns:
        The report's data, including the score of every snapshot up to this one.
    """
    snapshot = warehouse.snapshot
    regions = warehouse.regions()
    names = dict(zip(regions["region_id"], regions["region_name"], strict=True))
    issues = load_issues(snapshot)
    deals = mark_imputed_amounts(load_deals(snapshot), issues)
    findings = pd.concat(
        [deal_findings(deals, snapshot.as_of), issue_findings(issues)], ignore_index=True
    )
    records = deal_records(deals, issues)
    if region != ALL_REGIONS:
        records = records[records["region_id"] == region]
        findings = findings[findings["region_id"] == region]
        issues = issues[issues["region_id"] == region]
    reps = warehouse.table("dim_reps", columns=["rep_id", "rep_name"])
    folder = snapshot.path.parent
    trend = pd.DataFrame(
        [
            snapshot_score(open_snapshot(folder, d, verify=False), region)
            for d in list_snapshots(folder)
            if d <= snapshot.as_of
        ]
    )
    return QualityData(
        region=region,
        region_name="All regions" if region == ALL_REGIONS else str(names[region]),
        snapshot=snapshot,
        records=records.reset_index(drop=True),
        findings=findings.reset_index(drop=True),
        issues=issues.reset_index(drop=True),
        rep_names=dict(zip(reps["rep_id"], reps["rep_name"], strict=True)),
        trend=trend,
    )


def _quarantined_rows(issues: pd.DataFrame) -> int:
    """Distinct source rows (file, row) the import quarantined."""
    rows = issues.loc[issues["action"] == "quarantined", ["file", "row"]]
    return len(rows.drop_duplicates())


def _company(data: QualityData) -> pd.Series:
    table = scorecard(data.records, data.findings, None)
    if table.empty:  # no deal records in scope: zero counts, no score
        zeros = dict.fromkeys(["records", *CHECKS, "problem_records"], 0)
        return pd.Series({**zeros, "score": float("nan")})
    return table.iloc[0]


def summary(data: QualityData) -> narrative.Html:
    """Two sentences: the score and the most frequent problem (escaped HTML)."""
    row = _company(data)
    counts = {c: int(row[c]) for c in CHECKS if c not in NOT_SCORED and row[c] > 0}
    quarantined = _quarantined_rows(data.issues)
    score = narrative.format_pct(None if pd.isna(row["score"]) else float(row["score"]))
    text = (
        f"{data.region_name}: {score} of {int(row['records']):,} deal records have no "
        f"data problem; {quarantined:,} source rows were quarantined at import."
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


DEALS_NEEDS: tuple[str, ...] = ("opportunities",)


def region_scorecard_table(data: QualityData) -> charts.DisplayTable | narrative.Html:
    """Scorecard per region (checks with no finding anywhere are left out)."""
    empty = missing_data.empty_tables(data.snapshot)
    gap = missing_data.section_gap(empty, DEALS_NEEDS, "the data-quality scorecard by region")
    if gap is not None:
        return gap
    return _score_table(
        scorecard(data.records, data.findings, "region_id"), {"region_id": "Region"}
    )


def owner_scorecard_table(data: QualityData) -> charts.DisplayTable | narrative.Html:
    """Scorecard per owner rep, worst score first."""
    empty = missing_data.empty_tables(data.snapshot)
    gap = missing_data.section_gap(empty, DEALS_NEEDS, "the data-quality scorecard by owner")
    if gap is not None:
        return gap
    table = scorecard(data.records, data.findings, "owner_rep_id")
    table = table.assign(
        owner=table["owner_rep_id"].map(data.rep_names).fillna(table["owner_rep_id"])
    ).sort_values(["score", "owner_rep_id"], kind="stable")
    return _score_table(table.drop(columns="owner_rep_id"), {"owner": "Owner"})


def quarantine_table(data: QualityData) -> charts.DisplayTable:
    """Import issues per action, rule, file and column with their counts."""
    if data.issues.empty:
        frame = pd.DataFrame(
            {
                "action": ["none"],
                "rule": ["(no import issues)"],
                "file": [""],
                "column": [""],
                "issues": [0],
            }
        )
    else:
        frame = (
            data.issues.groupby(["action", "rule", "file", "column"])
            .size()
            .rename("issues")
            .reset_index()
        )
    return charts.format_table(
        frame,
        counts=["issues"],
        labels={
            "action": "Action",
            "rule": "Rule",
            "file": "File",
            "column": "Column",
            "issues": "Issues",
        },
    )


def trend_table(data: QualityData) -> charts.DisplayTable | narrative.Html:
    """Score of every snapshot up to this one."""
    empty = missing_data.empty_tables(data.snapshot)
    gap = missing_data.section_gap(empty, DEALS_NEEDS, "the data-quality trend table")
    if gap is not None:
        return gap
    return charts.format_table(
        data.trend,
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
    empty = missing_data.empty_tables(data.snapshot)
    gap = missing_data.section_gap(empty, DEALS_NEEDS, "the data-quality trend")
    if gap is not None:
        return gap
    with mpl.rc_context(charts.HOUSE_RC):
        figure = Figure(figsize=(9.0, 3.2), layout="constrained")
        axes = figure.add_subplot()
    axes.plot(
        data.trend["snapshot"].astype(str),
        data.trend["score"] * 100,
        marker="o",
        color=charts.HOUSE_COLORS[0],
    )
    axes.set_ylim(0, 100)
    axes.set_ylabel("Deal records with no problem (%)")
    axes.set_xlabel("Snapshot")
    latest = data.trend["score"].iloc[-1] if len(data.trend) else None
    shown = narrative.format_pct(None if latest is None or pd.isna(latest) else float(latest))
    axes.set_title(f"{data.region_name}: data-quality score {shown}", loc="left")
    return charts.PngFigure(figure)


def to_fix_table(data: QualityData) -> charts.DisplayTable | narrative.Html:
    """Up to ten findings per owner to fix, with file, row and value."""
    empty = missing_data.empty_tables(data.snapshot)
    gap = missing_data.section_gap(empty, DEALS_NEEDS, "the list of records to fix")
    if gap is not None:
        return gap
    items = to_fix(data.findings)
    items = items.assign(
        owner=items["owner_rep_id"].map(data.rep_names).fillna(items["owner_rep_id"]),
        check=items["check"].map(CHECKS),
    )
    return charts.format_table(
        items[["owner", "check", "record", "detail"]],
        labels={"owner": "Owner", "check": "Problem", "record": "Record", "detail": "Detail"},
    )


def headline_numbers(data: QualityData) -> dict[str, Any]:
    """Headline numbers for the runner's index page (plain JSON values)."""
    row = _company(data)
    return {
        "region": data.region,
        "region_name": data.region_name,
        "snapshot_id": data.snapshot.snapshot_id,
        "snapshot_checksum": data.snapshot.checksum,
        "records": int(row["records"]),
        "problem_records": int(row["problem_records"]),
        "quality_score": None if pd.isna(row["score"]) else round(float(row["score"]), 4),
        "quarantined_rows": _quarantined_rows(data.issues),
    }


def headlines(data: QualityData) -> Headlines:
    """The headline numbers as a display for the cell tagged ``headlines``."""
    return Headlines(headline_numbers(data))


def provenance(data: QualityData, region: str, as_of: str) -> narrative.Html:
    """The report's provenance block: snapshot, parameters, code version, run time, command."""
    return report_provenance(
        "00-data-quality",
        data.region,
        data.snapshot.snapshot_id,
        data.snapshot.checksum,
        {"region": region, "as_of": as_of},
    )
