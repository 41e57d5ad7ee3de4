"""The incentive compensation report (``notebooks/40-compensation.ipynb``) and rep statements.

The analytics store holds every rep's payouts and lines per snapshot (see
:mod:`salesops_lib.analytics.compensation.build`); this package reads the report's region slice
(:mod:`.load`), sums and words it (:mod:`.summary`, :mod:`.charts`), models plan changes
(:mod:`.whatif_view`) and writes one statement per rep (:mod:`.statements`).

The names below are what the notebook calls, one per cell.
"""

from salesops_lib.reports.base import open_report_warehouse
from salesops_lib.reports.compensation.charts import payout_distribution_chart
from salesops_lib.reports.compensation.load import CompReport, choose_period, load_report
from salesops_lib.reports.compensation.statements import statement_html, write_statements
from salesops_lib.reports.compensation.summary import (
    adjustments_table,
    anomalies,
    anomaly_table,
    exceptions_table,
    executive_summary,
    headline_numbers,
    headlines,
    payout_table,
    period_summary,
    provenance,
    rep_period_table,
)
from salesops_lib.reports.compensation.whatif_view import (
    cliffs_table,
    curve_chart,
    exposure_summary,
    scenarios_table,
    winners_losers_table,
)
from salesops_lib.reports.left_out import left_out

__all__ = [
    "CompReport",
    "adjustments_table",
    "anomalies",
    "anomaly_table",
    "choose_period",
    "cliffs_table",
    "curve_chart",
    "exceptions_table",
    "executive_summary",
    "exposure_summary",
    "headline_numbers",
    "headlines",
    "left_out",
    "load_report",
    "open_report_warehouse",
    "payout_distribution_chart",
    "payout_table",
    "period_summary",
    "provenance",
    "rep_period_table",
    "scenarios_table",
    "statement_html",
    "winners_losers_table",
    "write_statements",
]
