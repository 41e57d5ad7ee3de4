"""The customer segmentation report (``notebooks/30-segmentation.ipynb``).

The analytics store holds every segmentation result per scope (see
:mod:`salesops_lib.analytics.segmentation.build`); this package reads the report's region
slice (:mod:`.load`), words it (:mod:`.summary`), and shows it as tables (:mod:`.tables`) and
charts (:mod:`.charts`). Definitions of segments, clusters, CLV and the action lists live in
:mod:`salesops_lib.analytics.segmentation`.

The names below are what the notebook calls, one per cell.
"""

from salesops_lib.reports.base import open_report_warehouse
from salesops_lib.reports.left_out import left_out
from salesops_lib.reports.segmentation.charts import (
    abc_chart,
    cluster_chart,
    clv_chart,
    rfm_grid_chart,
)
from salesops_lib.reports.segmentation.load import (
    SegmentationReport,
    check_n_clusters,
    load_report,
    report_from_result,
    resolve_compare_to,
)
from salesops_lib.reports.segmentation.summary import (
    executive_summary,
    headline_numbers,
    headlines,
    method_appendix,
    provenance,
    summary_sentences,
)
from salesops_lib.reports.segmentation.tables import (
    abc_table,
    action_table,
    cluster_descriptions,
    cluster_notes,
    cluster_selection_table,
    cluster_table,
    clv_parameters,
    migration_summary,
    migration_table,
    rfm_rules_table,
    segment_table,
    top_customers_table,
)

__all__ = [
    "SegmentationReport",
    "abc_chart",
    "abc_table",
    "action_table",
    "check_n_clusters",
    "cluster_chart",
    "cluster_descriptions",
    "cluster_notes",
    "cluster_selection_table",
    "cluster_table",
    "clv_chart",
    "clv_parameters",
    "executive_summary",
    "headline_numbers",
    "headlines",
    "left_out",
    "load_report",
    "method_appendix",
    "migration_summary",
    "migration_table",
    "open_report_warehouse",
    "provenance",
    "report_from_result",
    "resolve_compare_to",
    "rfm_grid_chart",
    "rfm_rules_table",
    "segment_table",
    "summary_sentences",
    "top_customers_table",
]
