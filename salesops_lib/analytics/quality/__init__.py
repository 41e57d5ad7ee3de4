"""CRM data quality: which record breaks which rule, per owner and region, and the score.

A *record* is a deal in the snapshot (by opportunity id) or a source row the import
quarantined; a *finding* is one record breaking one check (:data:`CHECKS`). The *score* is the
share of records with no problem (corrections by a documented rule do not count against it).
Every function is pure (frames in, new frames out) except the loaders in
:mod:`~salesops_lib.analytics.quality.build`, which read the marts and the snapshot's import
issue list for the build step (``STEPS``).

Entry points:

* :func:`deal_findings`: one row per deal x check it breaks (record, check, owner_rep_id,
  region_id, detail);
* :func:`issue_findings`: one row per import issue that counts (same columns);
* :func:`deal_records`: one row per record the score is over (record, owner_rep_id, region_id);
* :func:`snapshot_findings`: both of a snapshot, ``(records, findings)``;
* :func:`scorecard`: one row per group (region, owner, or one company row): records, findings
  per check, problem_records, score;
* :func:`to_fix`: one row per item to fix, up to ten per owner;
* :func:`scope_scorecards`, :func:`scope_trend_rows`, :func:`scope_fix_items`,
  :func:`scope_import_rules`: the same per scope (``all`` or a region id), as the store holds
  them;
* :func:`load_deals` (one row per opportunity, from the marts) and :func:`load_issues` (one row
  per import issue, from the snapshot).
"""

from salesops_lib.analytics.quality.build import STEPS, load_deals, load_issues
from salesops_lib.analytics.quality.checks import (
    CHECKS,
    DUPLICATE_DAYS,
    EXTREME_FACTOR,
    NOT_SCORED,
    STALE_DAYS,
    deal_findings,
    deal_records,
    duplicate_deals,
    issue_findings,
    mark_imputed_amounts,
    snapshot_findings,
)
from salesops_lib.analytics.quality.scores import (
    TO_FIX_PER_OWNER,
    company_row,
    import_rule_counts,
    quarantined_rows,
    scope_fix_items,
    scope_import_rules,
    scope_scorecards,
    scope_trend_rows,
    scorecard,
    to_fix,
)

__all__ = [
    "CHECKS",
    "DUPLICATE_DAYS",
    "EXTREME_FACTOR",
    "NOT_SCORED",
    "STALE_DAYS",
    "STEPS",
    "TO_FIX_PER_OWNER",
    "company_row",
    "deal_findings",
    "deal_records",
    "duplicate_deals",
    "import_rule_counts",
    "issue_findings",
    "load_deals",
    "load_issues",
    "mark_imputed_amounts",
    "quarantined_rows",
    "scope_fix_items",
    "scope_import_rules",
    "scope_scorecards",
    "scope_trend_rows",
    "scorecard",
    "snapshot_findings",
    "to_fix",
]
