"""The overview report (``notebooks/00-overview.ipynb``): bookings, pipeline, attainment YTD.

* :mod:`.load` reads the region's marts once (:func:`load_overview`);
* :mod:`.sections` turns them into what each notebook cell shows, computing every number with
  the one definition in :mod:`salesops_lib.analytics.performance` (bookings of the last 12
  complete months, open pipeline, attainment year to date);
* :mod:`.summary` writes the executive summary and chart titles; :mod:`.charts` draws.

Definitions (see the analytics modules for the exact rules):

* *Last 12 months* are the 12 complete calendar months ending with the last complete month on the
  as-of date; *prior 12 months* are the 12 months before those.
* *Open pipeline* is the amount of opportunities that are not closed, by stage and forecast
  category.
* *Attainment year to date* is bookings / quota over the complete months of the as-of year.
  A team's figure is its reps' total bookings over their total quota; a rep with zero quota has
  no attainment of their own and is left out of the share of reps at or above 100%.
"""

from __future__ import annotations

from salesops_lib.reports.base import open_report_warehouse
from salesops_lib.reports.left_out import left_out
from salesops_lib.reports.overview.load import OverviewData, load_overview
from salesops_lib.reports.overview.sections import (
    attainment_chart,
    attainment_region_table,
    attainment_table,
    bookings_trend_chart,
    bookings_trend_table,
    executive_summary,
    headline_numbers,
    headlines,
    pipeline_chart,
    pipeline_table,
    provenance,
)

__all__ = [
    "OverviewData",
    "attainment_chart",
    "attainment_region_table",
    "attainment_table",
    "bookings_trend_chart",
    "bookings_trend_table",
    "executive_summary",
    "headline_numbers",
    "headlines",
    "left_out",
    "load_overview",
    "open_report_warehouse",
    "pipeline_chart",
    "pipeline_table",
    "provenance",
]
