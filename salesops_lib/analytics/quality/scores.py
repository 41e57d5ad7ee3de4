"""Scores from findings: scorecards, the to-fix list and import counts, per scope (pure).

The *score* of a group of records is the share of its records with no problem (corrected values
do not count against it: they were fixed by a documented rule). A *scope* is a region id (the
records, findings and issues of that region only) or ``all`` (the whole company).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from salesops_lib.analytics.quality.checks import CHECKS, NOT_SCORED
from salesops_lib.core.config import ALL_REGIONS

TO_FIX_PER_OWNER = 10
UNKNOWN = "(unknown)"
"""Group id of records whose owner or region is not known."""

GRAINS: dict[str, str | None] = {"company": None, "region": "region_id", "owner": "owner_rep_id"}
"""Scorecard grain -> the column it groups by (``None``: one row for the whole scope)."""

SCORE_COLUMNS: list[str] = ["records", *CHECKS, "problem_records", "score"]
"""Columns of a scorecard after its group column."""

SCORECARD_COLUMNS: list[str] = ["scope", "grain", "group_id", *SCORE_COLUMNS, "quarantined_rows"]
"""Columns of ``an_quality_scorecard``."""
TREND_COLUMNS: list[str] = ["scope", "snapshot", "records", "problem_records", "score"]
"""Columns of ``an_quality_trend``."""
FIX_COLUMNS: list[str] = [
    "scope",
    "owner_rep_id",
    "position",
    "check",
    "record",
    "region_id",
    "detail",
]
"""Columns of ``an_quality_fix_items``."""
IMPORT_RULE_COLUMNS: list[str] = ["scope", "action", "rule", "file", "column", "issues"]
"""Columns of ``an_quality_import_rules``."""


def in_scope(frame: pd.DataFrame, scope: str) -> pd.DataFrame:
    """The rows of ``frame`` (which has ``region_id``) in a scope: a region's, or all of them."""
    if scope == ALL_REGIONS:
        return frame
    return frame[frame["region_id"] == scope]


def scorecard(records: pd.DataFrame, findings: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Count records and findings per check, and the score, per group.

    Args:
        records: One row per record (see
            :func:`~salesops_lib.analytics.quality.checks.deal_records`).
        findings: Deal and issue findings together.
        by: ``region_id``, ``owner_rep_id`` or ``None`` for one company row.

    Returns:
        One row per group: the group column (if any; ``(unknown)`` for a missing one), records,
        one column per check id (findings counted once per record), problem_records, score (0-1;
        NaN with no records). No rows when there are neither records nor findings.
    """

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        if by is None:
            return frame.assign(_group="all")
        return frame.assign(_group=frame[by].fillna(UNKNOWN))

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


def company_row(records: pd.DataFrame, findings: pd.DataFrame) -> pd.Series:
    """The one-group scorecard of the records given: zero counts and no score without records.

    Args:
        records: One row per record.
        findings: The records' findings.

    Returns:
        A Series indexed by :data:`SCORE_COLUMNS`.
    """
    table = scorecard(records, findings, None)
    if table.empty:
        zeros = dict.fromkeys(["records", *CHECKS, "problem_records"], 0)
        return pd.Series({**zeros, "score": float("nan")})
    return table.iloc[0][SCORE_COLUMNS]


def quarantined_rows(issues: pd.DataFrame, by: str | None = None) -> pd.Series:
    """Distinct source rows (file, row) the import quarantined, per group.

    Args:
        issues: The import's issue list.
        by: ``region_id``, ``owner_rep_id`` or ``None`` for one total.

    Returns:
        Count per group id (``all`` for ``by=None``; ``(unknown)`` for a missing group).
    """
    rows = issues.loc[issues["action"] == "quarantined"]
    group = rows[by].fillna(UNKNOWN) if by is not None else pd.Series("all", index=rows.index)
    keyed = pd.DataFrame({"group_id": group, "file": rows["file"], "row": rows["row"]})
    counts = keyed.drop_duplicates().groupby("group_id").size()
    if by is None and counts.empty:
        return pd.Series({"all": 0})
    return counts


def to_fix(findings: pd.DataFrame, per_owner: int = TO_FIX_PER_OWNER) -> pd.DataFrame:
    """The first ``per_owner`` findings per owner (corrections left out), in a stable order.

    Args:
        findings: Findings (see :data:`~salesops_lib.analytics.quality.checks.FINDING_COLUMNS`).
        per_owner: Most items per owner.

    Returns:
        One row per item to fix: the finding's columns (owner ``(unknown)`` where missing),
        ordered by owner, check (report order) and record.
    """
    open_items = findings[findings["check"] != "corrected"].assign(
        owner_rep_id=lambda f: f["owner_rep_id"].fillna(UNKNOWN),
        check_order=lambda f: f["check"].map({c: i for i, c in enumerate(CHECKS)}),
    )
    ordered = open_items.sort_values(["owner_rep_id", "check_order", "record"], kind="stable")
    return (
        ordered.groupby("owner_rep_id")
        .head(per_owner)
        .drop(columns="check_order")
        .reset_index(drop=True)
    )


def import_rule_counts(issues: pd.DataFrame) -> pd.DataFrame:
    """Import issues per action, rule, file and column.

    Args:
        issues: The import's issue list.

    Returns:
        One row per action x rule x file x column: action, rule, file, column, issues.
    """
    return (
        issues.groupby(["action", "rule", "file", "column"]).size().rename("issues").reset_index()
    )


def scope_scorecards(
    records: pd.DataFrame,
    findings: pd.DataFrame,
    issues: pd.DataFrame,
    scopes: Sequence[str],
) -> pd.DataFrame:
    """Scorecards of every scope at every grain.

    Args:
        records: One row per record of the snapshot.
        findings: The snapshot's findings.
        issues: The snapshot's import issue list.
        scopes: ``all`` and region ids.

    Returns:
        One row per scope x grain (``company``, ``region``, ``owner``) x group (``all`` for the
        company grain, else a region or owner rep id): :data:`SCORECARD_COLUMNS`. Every scope
        has its company row, with zero counts and a NaN score when it has no records.
    """
    parts: list[pd.DataFrame] = []
    for scope in scopes:
        recs, finds, scope_issues = (in_scope(f, scope) for f in (records, findings, issues))
        for grain, by in GRAINS.items():
            if by is None:
                table = company_row(recs, finds).to_frame().T.assign(group_id="all")
            else:
                table = scorecard(recs, finds, by).rename(columns={by: "group_id"})
            counts = quarantined_rows(scope_issues, by)
            parts.append(
                table.assign(
                    scope=scope,
                    grain=grain,
                    quarantined_rows=table["group_id"].map(counts).fillna(0),
                )[SCORECARD_COLUMNS]
            )
    out = pd.concat(parts, ignore_index=True)
    ints = ["records", *CHECKS, "problem_records", "quarantined_rows"]
    return out.astype({c: "int64" for c in ints} | {"score": "float64"})


def scope_trend_rows(
    snapshot_id: str, records: pd.DataFrame, findings: pd.DataFrame, scopes: Sequence[str]
) -> pd.DataFrame:
    """One snapshot's record count and score in every scope.

    Args:
        snapshot_id: The snapshot's id.
        records: Its records.
        findings: Its findings.
        scopes: ``all`` and region ids.

    Returns:
        One row per scope: :data:`TREND_COLUMNS`.
    """
    rows = []
    for scope in scopes:
        row = company_row(in_scope(records, scope), in_scope(findings, scope))
        rows.append(
            {
                "scope": scope,
                "snapshot": snapshot_id,
                "records": int(row["records"]),
                "problem_records": int(row["problem_records"]),
                "score": float(row["score"]),
            }
        )
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def scope_fix_items(
    findings: pd.DataFrame, scopes: Sequence[str], per_owner: int = TO_FIX_PER_OWNER
) -> pd.DataFrame:
    """The to-fix list of every scope.

    Args:
        findings: The snapshot's findings.
        scopes: ``all`` and region ids.
        per_owner: Most items per owner.

    Returns:
        One row per scope x item to fix: :data:`FIX_COLUMNS`; ``position`` (1, 2, ...) is the
        item's place in its owner's list.
    """
    parts = []
    for scope in scopes:
        items = to_fix(in_scope(findings, scope), per_owner)
        position = items.groupby("owner_rep_id").cumcount() + 1
        parts.append(items.assign(scope=scope, position=position.astype("int64")))
    out = pd.concat(parts, ignore_index=True)
    return out.reindex(columns=FIX_COLUMNS).astype({"position": "int64"})


def scope_import_rules(issues: pd.DataFrame, scopes: Sequence[str]) -> pd.DataFrame:
    """Import issue counts per action, rule, file and column in every scope.

    Args:
        issues: The snapshot's import issue list.
        scopes: ``all`` and region ids.

    Returns:
        One row per scope x action x rule x file x column: :data:`IMPORT_RULE_COLUMNS`.
    """
    parts = [import_rule_counts(in_scope(issues, s)).assign(scope=s) for s in scopes]
    out = pd.concat(parts, ignore_index=True).reindex(columns=IMPORT_RULE_COLUMNS)
    return out.astype({c: "object" for c in IMPORT_RULE_COLUMNS[:-1]} | {"issues": "int64"})
