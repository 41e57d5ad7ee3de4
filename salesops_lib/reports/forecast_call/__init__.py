"""The weekly forecast call behind ``notebooks/15-forecast-call.ipynb``.

1. :func:`load_forecast_call` (:mod:`.load`) reads the scope's submitted calls (the latest
   version of each submitter and week), bookings, deals of this and earlier snapshots and its
   scope of the analytics store (pipeline-based and statistical quarter forecasts).
2. :func:`analyse` (:mod:`.compute`) rolls the calls up, scores closed quarters, builds the flow
   matrix and pacing (formulas in :mod:`salesops_lib.analytics.forecast_call`).
3. The display helpers (:mod:`.display`) turn the result into what one notebook cell shows.
"""

from __future__ import annotations

from salesops_lib.reports.base import open_report_warehouse
from salesops_lib.reports.forecast_call.compute import ForecastCall, analyse
from salesops_lib.reports.forecast_call.display import (
    accuracy_table,
    flow_table,
    headline_numbers,
    headlines,
    movement_sentences,
    number_table,
    overrides_table,
    pacing_chart,
    pacing_table,
    provenance,
    region_table,
    reps_table,
    summary_html,
    summary_sentences,
)
from salesops_lib.reports.forecast_call.load import ForecastCallData, load_forecast_call
from salesops_lib.reports.left_out import left_out

__all__ = [
    "ForecastCall",
    "ForecastCallData",
    "accuracy_table",
    "analyse",
    "flow_table",
    "headline_numbers",
    "headlines",
    "left_out",
    "load_forecast_call",
    "movement_sentences",
    "number_table",
    "open_report_warehouse",
    "overrides_table",
    "pacing_chart",
    "pacing_table",
    "provenance",
    "region_table",
    "reps_table",
    "summary_html",
    "summary_sentences",
]
