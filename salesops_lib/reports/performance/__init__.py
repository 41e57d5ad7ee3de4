"""The regional performance diagnosis behind ``notebooks/10-performance.ipynb``.

Three layers, each a plain function:

1. :func:`load_performance` (:mod:`.load`) reads the marts of two snapshots (``as_of`` and
   ``compare_to``, by default the weekly snapshot before ``as_of``).
2. :func:`diagnose` (:mod:`.diagnosis`) runs the formula modules of
   :mod:`salesops_lib.analytics.performance` once and keeps every section's frames.
3. The display helpers turn a diagnosis into what one notebook cell shows: tables
   (:mod:`.tables`), one-sentence findings (:mod:`.notes`), charts (:mod:`.charts`), the
   executive summary (:mod:`.summary`), and the appendix, headlines and provenance
   (:mod:`.appendix`). A section whose snapshot tables are empty (e.g. an imported snapshot
   without quotas or stage history) shows one sentence naming the data that would enable it
   (:func:`~salesops_lib.reports.base.needs`).

Every metric has one definition, in its analytics module; :data:`DEFINITIONS` repeats them in
words for readers (the notebook's appendix).
"""

from __future__ import annotations

from salesops_lib.reports.base import open_report_warehouse
from salesops_lib.reports.left_out import left_out
from salesops_lib.reports.performance.appendix import (
    DEFINITIONS,
    definitions_table,
    headline_numbers,
    headlines,
    provenance,
)
from salesops_lib.reports.performance.charts import (
    anomaly_chart,
    attainment_chart,
    bottleneck_chart,
    pvm_chart,
    velocity_chart,
    waterfall_chart,
)
from salesops_lib.reports.performance.diagnosis import Diagnosis, diagnose
from salesops_lib.reports.performance.load import (
    PerformanceData,
    load_performance,
    resolve_compare_to,
)
from salesops_lib.reports.performance.notes import (
    attainment_note,
    bottleneck_note,
    ramp_note,
    reconciliation_note,
    risk_note,
    target_note,
)
from salesops_lib.reports.performance.summary import summary_html, summary_sentences
from salesops_lib.reports.performance.tables import (
    anomaly_table,
    attainment_table,
    bottleneck_table,
    conversion_table,
    coverage_table,
    leaderboard_table,
    pvm_table,
    risk_table,
    trend_break_table,
    velocity_table,
    waterfall_deal_table,
    waterfall_table,
    win_rate_table,
)

__all__ = [
    "DEFINITIONS",
    "Diagnosis",
    "PerformanceData",
    "anomaly_chart",
    "anomaly_table",
    "attainment_chart",
    "attainment_note",
    "attainment_table",
    "bottleneck_chart",
    "bottleneck_note",
    "bottleneck_table",
    "conversion_table",
    "coverage_table",
    "definitions_table",
    "diagnose",
    "headline_numbers",
    "headlines",
    "leaderboard_table",
    "left_out",
    "load_performance",
    "open_report_warehouse",
    "provenance",
    "pvm_chart",
    "pvm_table",
    "ramp_note",
    "reconciliation_note",
    "resolve_compare_to",
    "risk_note",
    "risk_table",
    "summary_html",
    "summary_sentences",
    "target_note",
    "trend_break_table",
    "velocity_chart",
    "velocity_table",
    "waterfall_chart",
    "waterfall_deal_table",
    "waterfall_table",
    "win_rate_table",
]
