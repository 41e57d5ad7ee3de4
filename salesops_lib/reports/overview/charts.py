"""The overview's figures, in the house style of :mod:`salesops_lib.reports.charts`."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from salesops_lib.reports import charts

ATTAINMENT_CAP = 3.0
"""Rep attainment above this ratio is drawn in the last bin, so a few outliers don't squash it."""


def monthly_bookings_chart(monthly: pd.DataFrame, palette: Mapping[str, str], title: str) -> Figure:
    """Stacked monthly bookings per region.

    Args:
        monthly: Rows of (month, region_id, bookings_amount), as from
            :func:`~salesops_lib.analytics.performance.bookings.monthly_bookings`.
        palette: Region id -> colour (:func:`~salesops_lib.reports.charts.region_palette`).
        title: The finding the chart shows.

    Returns:
        The figure.
    """
    wide = monthly.pivot_table(
        index="month", columns="region_id", values="bookings_amount", aggfunc="sum", fill_value=0
    ).sort_index()
    with mpl.rc_context(charts.HOUSE_RC):
        figure, axes = charts.new_axes()
        bottom = pd.Series(0.0, index=wide.index)
        labels = [f"{m:%b %y}" for m in wide.index]
        for region_id in wide.columns:
            axes.bar(
                labels,
                wide[region_id],
                bottom=bottom,
                color=palette.get(region_id),
                label=region_id,
                width=0.8,
            )
            bottom = bottom + wide[region_id]
        axes.set_title(title, parse_math=False)  # untrusted text: never mathtext
        axes.set_xlabel("Order month")
        axes.set_ylabel("Bookings (USD)")
        axes.yaxis.set_major_formatter(charts.money_formatter())
        axes.tick_params(axis="x", labelrotation=90)
        if len(wide.columns) > 1:
            axes.legend(title="Region", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def pipeline_stage_chart(by_stage_and_category: pd.DataFrame, title: str) -> Figure:
    """Horizontal bars of open pipeline per stage, stacked by forecast category.

    Args:
        by_stage_and_category: One row per stage with a column per forecast category, as from
            :func:`~salesops_lib.analytics.performance.pipeline.pipeline_by_stage_and_category`.
        title: The finding the chart shows.

    Returns:
        The figure.
    """
    stages = list(by_stage_and_category["stage"])[::-1]
    frame = by_stage_and_category.set_index("stage").loc[stages]
    with mpl.rc_context(charts.HOUSE_RC | {"axes.grid.axis": "x"}):
        figure, axes = charts.new_axes(height=3.4)
        left = pd.Series(0.0, index=frame.index)
        for category, colour in charts.CATEGORY_COLORS.items():
            values = frame[category] if category in frame else 0.0 * left
            axes.barh(stages, values, left=left, color=colour, label=category)
            left = left + values
        axes.set_title(title, parse_math=False)  # untrusted text: never mathtext
        axes.set_xlabel("Open pipeline amount (USD)")
        axes.set_ylabel("Stage")
        axes.xaxis.set_major_formatter(charts.money_formatter())
        axes.legend(title="Forecast category", loc="lower right")
    return figure


def attainment_distribution_chart(rep_ytd: pd.DataFrame, title: str) -> Figure:
    """Histogram of rep attainment year to date with a line at 100%.

    Args:
        rep_ytd: One row per rep with an ``attainment`` column (ratio; NaN for zero quota).
        title: The finding the chart shows.

    Returns:
        The figure.
    """
    values = rep_ytd["attainment"].dropna().astype(float).clip(upper=ATTAINMENT_CAP)
    with mpl.rc_context(charts.HOUSE_RC):
        figure, axes = charts.new_axes(height=3.4)
        if len(values):
            bins = [step / 10 for step in range(int(ATTAINMENT_CAP * 10) + 2)]
            axes.hist(values, bins=bins, color=charts.HOUSE_COLORS[0], edgecolor="white")
        axes.axvline(1.0, color="#444444", linestyle="--", linewidth=1)
        axes.set_title(title, parse_math=False)  # untrusted text: never mathtext
        axes.set_xlabel(
            f"Attainment year to date (% of quota; {ATTAINMENT_CAP:.0%} or more in the last bar)"
        )
        axes.set_ylabel("Reps (count)")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    return figure
