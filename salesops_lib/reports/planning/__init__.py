"""The planning report behind ``notebooks/50-planning.ipynb`` (issue 15).

Three layers, each a plain function:

1. :func:`load_report` (:mod:`.report`) checks the parameters (:func:`check_parameters`),
   reads the region's rows of the marts (:mod:`.load`) and computes every section once
   (:func:`plan`, :mod:`.compute`, on :mod:`salesops_lib.analytics.planning`).
2. The display helpers turn the report into what one notebook cell shows: tables
   (:mod:`.tables`), findings and the executive summary (:mod:`.notes`), charts, definitions,
   headlines and provenance (:mod:`.appendix`).
3. ``salesops plan quotas`` and ``salesops plan territories`` write the same proposals as CSV
   (:mod:`salesops_lib.cli.plan`).
"""

from __future__ import annotations

from salesops_lib.reports.base import open_report_warehouse
from salesops_lib.reports.left_out import left_out
from salesops_lib.reports.planning.appendix import (
    DEFINITIONS,
    capacity_chart,
    definitions_table,
    headline_numbers,
    headlines,
    provenance,
    territory_chart,
)
from salesops_lib.reports.planning.compute import Plan, plan, planning_targets
from salesops_lib.reports.planning.load import (
    PlanningData,
    PlanningParameters,
    check_parameters,
    load_planning,
)
from salesops_lib.reports.planning.notes import (
    capacity_note,
    health_note,
    quota_note,
    summary_html,
    summary_sentences,
    territory_note,
)
from salesops_lib.reports.planning.report import PlanningReport, load_report
from salesops_lib.reports.planning.tables import (
    capacity_frame,
    capacity_table,
    coverage_table,
    health_cuts_table,
    health_table,
    hiring_table,
    moves_frame,
    moves_table,
    quota_gap_frame,
    quota_rep_table,
    quota_table,
    territory_frame,
    territory_table,
)

__all__ = [
    "DEFINITIONS",
    "Plan",
    "PlanningData",
    "PlanningParameters",
    "PlanningReport",
    "capacity_chart",
    "capacity_frame",
    "capacity_note",
    "capacity_table",
    "check_parameters",
    "coverage_table",
    "definitions_table",
    "headline_numbers",
    "headlines",
    "health_cuts_table",
    "health_note",
    "health_table",
    "hiring_table",
    "left_out",
    "load_planning",
    "load_report",
    "moves_frame",
    "moves_table",
    "open_report_warehouse",
    "plan",
    "planning_targets",
    "provenance",
    "quota_gap_frame",
    "quota_note",
    "quota_rep_table",
    "quota_table",
    "summary_html",
    "summary_sentences",
    "territory_chart",
    "territory_frame",
    "territory_note",
    "territory_table",
]
