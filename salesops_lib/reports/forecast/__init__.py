"""The 20-forecast report: one module per part, re-exported here for the notebook.

* :mod:`~salesops_lib.reports.forecast.load`: the report's slice of the analytics store
  (:func:`load_forecast`) and :func:`record_to_ledger`;
* :mod:`~salesops_lib.reports.forecast.display`: executive summary, chart, forecast tables,
  headlines and provenance;
* :mod:`~salesops_lib.reports.forecast.accuracy_display`: backtest, ledger accuracy, method;
* :mod:`~salesops_lib.reports.forecast.pipeline_display`: the pipeline-based quarter forecast.

Nothing here fits a model on the default path: the numbers come from the store built once per
snapshot (:mod:`salesops_lib.analytics.forecasting.build`).
"""

from salesops_lib.reports.base import open_report_warehouse
from salesops_lib.reports.forecast.accuracy_display import (
    backtest_by_horizon,
    backtest_table,
    ledger_accuracy_chart,
    ledger_accuracy_table,
    method_appendix,
    method_notes,
)
from salesops_lib.reports.forecast.display import (
    backtest_summary,
    breakdown_table,
    executive_summary,
    forecast_chart,
    forecast_table,
    headline_numbers,
    headlines,
    provenance,
    summary_sentences,
)
from salesops_lib.reports.forecast.load import (
    ForecastReport,
    check_parameters,
    load_forecast,
    record_to_ledger,
)
from salesops_lib.reports.forecast.pipeline_display import (
    calibration_chart,
    calibration_note,
    pipeline_components_table,
    pipeline_deals_table,
    pipeline_summary,
    pipeline_table,
    slip_table,
)
from salesops_lib.reports.left_out import left_out

__all__ = [
    "ForecastReport",
    "backtest_by_horizon",
    "backtest_summary",
    "backtest_table",
    "breakdown_table",
    "calibration_chart",
    "calibration_note",
    "check_parameters",
    "executive_summary",
    "forecast_chart",
    "forecast_table",
    "headline_numbers",
    "headlines",
    "ledger_accuracy_chart",
    "ledger_accuracy_table",
    "left_out",
    "load_forecast",
    "method_appendix",
    "method_notes",
    "open_report_warehouse",
    "pipeline_components_table",
    "pipeline_deals_table",
    "pipeline_summary",
    "pipeline_table",
    "provenance",
    "record_to_ledger",
    "slip_table",
    "summary_sentences",
]
