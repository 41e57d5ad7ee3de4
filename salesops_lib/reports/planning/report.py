"""The planning report as one object: its context, parameters, and every section's frames.

:func:`load_report` checks the parameters, reads the region's rows and computes every section
(:func:`~salesops_lib.reports.planning.compute.plan`) unless the snapshot lacks the tables the
report rests on: then :attr:`PlanningReport.missing` holds the sentence that stands in for
every section (:func:`~salesops_lib.reports.base.needs`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from salesops_lib.core.errors import ParameterError
from salesops_lib.reports import narrative
from salesops_lib.reports.base import ReportContext, needs, report_context
from salesops_lib.reports.planning.compute import Plan, plan
from salesops_lib.reports.planning.load import PlanningParameters, check_parameters, load_planning

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

REQUIRED_TABLES = ("reps", "quotas", "order_lines", "accounts")
"""Snapshot tables every section of the planning report needs."""


@dataclass(frozen=True)
class PlanningReport:
    """A planning report on one region (or the company).

    Attributes:
        context: The report's context.
        parameters: The checked parameters.
        plan: Every section's frames, or None when the snapshot lacks a table.
        missing: The sentence standing in for the sections when ``plan`` is None.
    """

    context: ReportContext
    parameters: PlanningParameters
    plan: Plan | None
    missing: narrative.Html | None


def load_report(
    warehouse: Warehouse,
    region: str,
    planning_year: int = 0,
    target_growth: float = 0.1,
    over_assignment: float = 0.1,
    method: str = "t12m",
    attrition: float = 0.1,
    tolerance: float = 0.1,
    key_accounts: str = "",
) -> PlanningReport:
    """Check the parameters, read the region's data and compute the report.

    Args:
        warehouse: An open warehouse (from
            :func:`~salesops_lib.reports.base.open_report_warehouse`).
        region: Region id or ``all``.
        planning_year: Year to plan; 0 = the year after the snapshot.
        target_growth: Growth of next year's target over this year's, for the months the
            snapshot has no target for yet (0.1 = +10%).
        over_assignment: Quota above target in the top-down proposal (0.1 = 10%).
        method: ``prior_year``, ``t12m``, ``potential`` or ``even``.
        attrition: Yearly share of the team expected to leave, in [0, 1).
        tolerance: Allowed deviation of a territory from its region's mean (0.1 = +-10%).
        key_accounts: Comma-separated account ids that stay with their owner.

    Returns:
        The report.

    Raises:
        ParameterError: For a bad parameter (naming it and the rule). A history too short to
            plan on (e.g. no complete quarter with a ramped rep) is not an error: the report's
            sections then show the sentence saying so.
    """
    parameters = check_parameters(
        warehouse.as_of,
        planning_year=planning_year,
        target_growth=target_growth,
        over_assignment=over_assignment,
        method=method,
        attrition=attrition,
        tolerance=tolerance,
        key_accounts=key_accounts,
    )
    context = report_context(warehouse, region)
    missing = needs(context, REQUIRED_TABLES, "capacity, quota, plan health and territory planning")
    if missing is not None:
        return PlanningReport(context, parameters, None, missing)
    data = load_planning(warehouse, region, parameters)
    try:
        return PlanningReport(context, parameters, plan(data), None)
    except ParameterError as exc:  # the parameters are checked: the history is too short
        note = html.escape(f"This snapshot's history is too short to plan: {exc}")
        return PlanningReport(
            context, parameters, None, narrative.Html(f'<p class="missing">{note}</p>')
        )
