"""The one line near the top of every report: what the region's data left out, and why.

An import quarantines rows it cannot use, imputes blanks by documented rules and corrects known
aliases (:mod:`salesops_lib.sources.importer.quarantine`); each issue names its region where the
source says it and the row's amount. A report of one region counts that region's issues; the
company view counts every issue. The line gives rows and money and links to the region's
data-quality report, which lists every issue. A snapshot without issues (the demo) says so.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.quality import load_issues
from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.reports import narrative
from salesops_lib.sources.importer.quarantine import QUARANTINE_FILE

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

QUALITY_REPORT = "00-data-quality.html"
"""The data-quality report's file name beside every report of a region."""


@dataclass(frozen=True)
class LeftOut:
    """What a region's data left out.

    Attributes:
        quarantined_rows: Source rows not in the snapshot (distinct file and row).
        quarantined_amount: Their amounts as the source gives them (rows without one add 0).
        quarantined_rules: Rule -> rows, most rows first.
        imputed_rows: Rows kept with a blank filled by a documented rule.
        imputed_amount: Money of the kept rows whose amount was imputed (from the snapshot).
        corrected_rows: Rows kept with an alias or typo fixed.
        unattributed_rows: Quarantined rows whose region the source does not say (company view
            only counts them; a region's line mentions them).
    """

    quarantined_rows: int
    quarantined_amount: float
    quarantined_rules: tuple[tuple[str, int], ...]
    imputed_rows: int
    imputed_amount: float
    corrected_rows: int
    unattributed_rows: int


def _count(n: int, noun: str) -> str:
    """``1 source row`` / ``2 source rows``: a count with its noun in the right number."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _names(n: int) -> str:
    """The verb after a count of rows: ``names no region`` / ``name no region``."""
    return "names no region" if n == 1 else "name no region"


def _rows(issues: pd.DataFrame) -> int:
    """Distinct source rows; an issue without a line (row 0: a rep's imputed hire date) counts
    once per record it names."""
    row = issues["row"].astype("int64")
    line = row.astype(str).where(row > 0, "record:" + issues["record_id"].astype(str))
    return int(pd.DataFrame({"file": issues["file"], "line": line}).drop_duplicates().shape[0])


def summarize_left_out(
    issues: pd.DataFrame, region: str, imputed_amounts: pd.Series | None = None
) -> LeftOut:
    """Count what an import left out for one region (or the company).

    Args:
        issues: The snapshot's issue list (columns of ``ISSUE_COLUMNS``).
        region: Region id, or ``all`` for every issue.
        imputed_amounts: Amount per record id of the records whose amount was imputed (from the
            snapshot), or ``None``.

    Returns:
        The counts; rows are distinct (file, row) pairs, so a row with two issues counts once.
    """
    unknown = issues["region_id"].isna()
    mine = issues if region == ALL_REGIONS else issues[issues["region_id"] == region]
    quarantined = mine[mine["action"] == "quarantined"]
    per_row = quarantined.drop_duplicates(["file", "row"])
    amount = float(pd.to_numeric(per_row["amount"], errors="coerce").fillna(0).sum())
    rules = quarantined.drop_duplicates(["file", "row", "rule"]).groupby("rule").size()
    ranked = sorted(((str(r), int(n)) for r, n in rules.items()), key=lambda x: (-x[1], x[0]))
    imputed = mine[mine["action"] == "imputed"]
    imputed_money = 0.0
    if imputed_amounts is not None and len(imputed_amounts):
        ids = imputed.loc[imputed["rule"] == "missing_amount", "record_id"].dropna().unique()
        imputed_money = float(imputed_amounts.reindex(ids).fillna(0).sum())
    others = issues[unknown & (issues["action"] == "quarantined")]
    return LeftOut(
        quarantined_rows=_rows(quarantined),
        quarantined_amount=round(amount, 2),
        quarantined_rules=tuple(ranked),
        imputed_rows=_rows(imputed),
        imputed_amount=round(imputed_money, 2),
        corrected_rows=_rows(mine[mine["action"] == "corrected"]),
        unattributed_rows=0 if region == ALL_REGIONS else _rows(others),
    )


def left_out_sentence(left: LeftOut, imported: bool) -> str:
    """The plain-text sentence for :func:`left_out` (deterministic)."""
    if not imported:
        return (
            "Nothing left out: this snapshot was not imported, "
            "no row was quarantined, imputed or corrected."
        )
    if not (left.quarantined_rows or left.imputed_rows or left.corrected_rows):
        unnamed = left.unattributed_rows
        extra = f" ({_count(unnamed, 'quarantined row')} {_names(unnamed)})" if unnamed else ""
        return f"Nothing left out: the import kept every row of this region as it was{extra}."
    parts = []
    if left.quarantined_rows:
        rules = ", ".join(f"{rule} {n:,}" for rule, n in left.quarantined_rules[:3])
        more = ", ..." if len(left.quarantined_rules) > 3 else ""
        parts.append(
            f"{_count(left.quarantined_rows, 'source row')} quarantined "
            f"({narrative.format_money(left.quarantined_amount)}; {rules}{more})"
        )
    else:
        parts.append("no row quarantined")
    if left.imputed_rows:
        money = (
            f", {narrative.format_money(left.imputed_amount)} of amounts imputed"
            if left.imputed_amount
            else ""
        )
        parts.append(f"{_count(left.imputed_rows, 'row')} kept with a blank filled by rule{money}")
    if left.corrected_rows:
        parts.append(f"{_count(left.corrected_rows, 'row')} kept with a value corrected")
    if left.unattributed_rows:
        parts.append(
            f"{_count(left.unattributed_rows, 'quarantined row')} {_names(left.unattributed_rows)}"
        )
    return "Left out or changed by the import: " + "; ".join(parts) + "."


def left_out(warehouse: Warehouse, region: str) -> narrative.Html:
    """One line for the top of a report: what this region's data left out, with a link.

    Args:
        warehouse: The report's open warehouse.
        region: Region id, or ``all``.

    Returns:
        A paragraph (escaped) ending with a link to the region's data-quality report.
    """
    snapshot = warehouse.snapshot
    issues = load_issues(snapshot)
    imported = QUARANTINE_FILE in snapshot.manifest.get("files", {})
    amounts = None
    if imported and (issues["rule"] == "missing_amount").any():
        deals = warehouse.table("fct_opportunities", columns=["opportunity_id", "amount"])
        amounts = deals.set_index("opportunity_id")["amount"]
    sentence = left_out_sentence(summarize_left_out(issues, region, amounts), imported)
    link = f' <a href="{QUALITY_REPORT}">Data-quality report</a>.'
    return narrative.Html(
        f'<p class="left-out">{html.escape(sentence)}{link if imported else ""}</p>'
    )
