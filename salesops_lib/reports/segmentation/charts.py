"""The segmentation report's charts, in the house style of :mod:`salesops_lib.reports.charts`.

The figure builders (``rfm_grid_heatmap`` ...) take frames and return figures; the cells
(``rfm_grid_chart`` ...) take the report and return a PNG, or the sentence that stands in for a
chart without data. Titles state the finding and are drawn with ``parse_math=False`` (they may
carry untrusted region names); figures are built without pyplot.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from salesops_lib.analytics.segmentation.clv import CLV_MONTHS
from salesops_lib.reports import charts, narrative
from salesops_lib.reports.base import needs
from salesops_lib.reports.charts import HOUSE_COLORS, HOUSE_RC, money_formatter
from salesops_lib.reports.narrative import format_money, format_pct
from salesops_lib.reports.segmentation.load import BOOKINGS_NEEDS, SegmentationReport
from salesops_lib.reports.segmentation.summary import paragraph

CLV_FLOOR = 10.0
"""CLV below this is drawn in the first bar of the (log-scale) histogram."""

DEVIATION_LIMIT = 2.5
"""Colour scale of the cluster profile heatmap, in standard deviations either side of 0."""


def _axes(width: float = 9.0, height: float = 4.2) -> tuple[Figure, Axes]:
    with mpl.rc_context(HOUSE_RC):
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.add_subplot()
    return figure, axes


def rfm_grid_heatmap(rfm: pd.DataFrame, region_name: str) -> Figure:
    """Customers per (recency score, frequency score) cell, with counts written in.

    Args:
        rfm: Output of :func:`salesops_lib.analytics.segmentation.rfm.rfm_table` (r_score, f_score).
        region_name: For the title (untrusted text).

    Returns:
        The figure: rows r = 5 (top) .. 1, columns f = 1 .. 5.
    """
    grid = (
        rfm.groupby(["r_score", "f_score"]).size().unstack(fill_value=0)
        .reindex(index=[5, 4, 3, 2, 1], columns=[1, 2, 3, 4, 5], fill_value=0)
    )  # fmt: skip
    with mpl.rc_context(HOUSE_RC | {"axes.grid": False}):
        figure, axes = _axes(width=6.5, height=4.6)
        axes.grid(False)
        axes.imshow(grid.to_numpy(), cmap="Blues", aspect="auto")
        peak = max(int(grid.to_numpy().max()), 1)
        for i, r in enumerate(grid.index):
            for j, f in enumerate(grid.columns):
                count = int(grid.loc[r, f])
                colour = "white" if count > peak * 0.6 else "#222222"
                axes.text(j, i, f"{count:,}", ha="center", va="center", color=colour)
        axes.set_xticks(range(5), [str(c) for c in grid.columns])
        axes.set_yticks(range(5), [str(r) for r in grid.index])
        axes.set_xlabel("Frequency score (5 = most orders)")
        axes.set_ylabel("Recency score (5 = most recent)")
        axes.set_title(f"{region_name}: {len(rfm):,} customers by RFM score", parse_math=False)
    return figure


def abc_curve(curve: pd.DataFrame, abc_customers: pd.DataFrame) -> Figure:
    """The concentration curve, with the A/B boundaries marked.

    Args:
        curve: Output of :func:`salesops_lib.analytics.segmentation.abc.concentration_curve`.
        abc_customers: Output of :func:`salesops_lib.analytics.segmentation.abc.abc_classes` for
            customers.

    Returns:
        The figure.
    """
    a_count = int((abc_customers["abc_class"] == "A").sum())
    a_share = float(abc_customers.loc[abc_customers["abc_class"] == "A", "share"].sum())
    total = len(abc_customers)
    with mpl.rc_context(HOUSE_RC):
        figure, axes = _axes(width=7.0, height=4.2)
        axes.plot(curve["key_share"], curve["value_share"], color=HOUSE_COLORS[0], linewidth=2)
        axes.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1, label="Even spread")
        if total:
            axes.axvline(a_count / total, color=HOUSE_COLORS[1], linestyle="--", linewidth=1)
            axes.annotate(
                f"A: {a_count:,} customers",
                (a_count / total, a_share),
                xytext=(8, -14),
                textcoords="offset points",
                color=HOUSE_COLORS[1],
            )
        axes.set_xlabel("Customers, largest first (share of customers)")
        axes.set_ylabel("Share of revenue")
        axes.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1.02)
        axes.legend(loc="lower right")
        axes.set_title(
            f"{format_pct(a_count / total if total else None)} of customers bring "
            f"{format_pct(a_share)} of revenue",
            parse_math=False,
        )
    return figure


def cluster_profile_chart(deviations: pd.DataFrame) -> Figure:
    """Heatmap: rows are clusters, columns features, colour the deviation in sd from average.

    Args:
        deviations: :attr:`salesops_lib.analytics.segmentation.clusters.ClusterResult.deviations`.

    Returns:
        The figure.
    """
    labels = [c.removeprefix("share_") + (" (share of lines)" if c.startswith("share_") else "")
              for c in deviations.columns]  # fmt: skip
    values = deviations.to_numpy(dtype=float)
    height = 1.6 + 0.45 * len(deviations)
    with mpl.rc_context(HOUSE_RC | {"axes.grid": False}):
        figure, axes = _axes(width=10.0, height=height)
        axes.grid(False)
        image = axes.imshow(
            np.clip(values, -DEVIATION_LIMIT, DEVIATION_LIMIT),
            cmap="RdBu_r",
            vmin=-DEVIATION_LIMIT,
            vmax=DEVIATION_LIMIT,
            aspect="auto",
        )
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                axes.text(j, i, f"{values[i, j]:+.1f}", ha="center", va="center", fontsize=8)
        axes.set_xticks(range(len(labels)), labels, rotation=40, ha="right")
        names = [str(n) for n in deviations.index]
        axes.set_yticks(range(len(names)), names)
        for label in axes.get_yticklabels():
            label.set_parse_math(False)
        figure.colorbar(image, ax=axes, label="sd from average")
        axes.set_title(
            f"What sets each of the {len(names)} clusters apart (sd from average)",
            parse_math=False,
        )
    return figure


def clv_distribution(clv: pd.Series, months: int) -> Figure:
    """Histogram of customer CLV (log-spaced bins from :data:`CLV_FLOOR`), with median and total.

    Args:
        clv: One CLV per customer.
        months: The CLV horizon, for labels.

    Returns:
        The figure.
    """
    values = clv.astype(float)
    shown = values.clip(lower=CLV_FLOOR)
    with mpl.rc_context(HOUSE_RC):
        figure, axes = _axes(height=3.6)
        if len(shown):
            high = float(shown.max())
            bins = np.geomspace(CLV_FLOOR, high * 1.0001, 30) if high > CLV_FLOOR else 10
            axes.hist(shown, bins=bins, color=HOUSE_COLORS[0], edgecolor="white")
            if high > CLV_FLOOR:
                axes.set_xscale("log")
        axes.xaxis.set_major_formatter(money_formatter())
        axes.set_xlabel(
            f"Expected spend over the next {months} months (USD, log scale; under "
            f"{format_money(CLV_FLOOR)} in the first bar)"
        )
        axes.set_ylabel("Customers (count)")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(
            f"Median customer CLV {format_money(float(values.median()) if len(values) else None)}, "
            f"total {format_money(float(values.sum()))}",
            parse_math=False,
        )
    return figure


# --- the chart cells -------------------------------------------------------------------------


def rfm_grid_chart(report: SegmentationReport) -> charts.PngFigure | narrative.Html:
    """Customers per recency x frequency score cell."""
    gap = needs(report.context, BOOKINGS_NEEDS, "the RFM grid")
    if gap is not None:
        return gap
    return charts.PngFigure(rfm_grid_heatmap(report.rfm, report.context.region_name))


def abc_chart(report: SegmentationReport) -> charts.PngFigure | narrative.Html:
    """The concentration curve of revenue over customers."""
    gap = needs(report.context, BOOKINGS_NEEDS, "the revenue concentration curve")
    if gap is not None:
        return gap
    if report.curve is None or report.result.abc_customers is None:
        return paragraph("There is no revenue, so there is no concentration curve.")
    return charts.PngFigure(abc_curve(report.curve, report.result.abc_customers))


def cluster_chart(report: SegmentationReport) -> charts.PngFigure | narrative.Html:
    """Heatmap of each cluster's deviation from the average customer, per feature."""
    gap = needs(report.context, BOOKINGS_NEEDS, "the cluster profiles")
    if gap is not None:
        return gap
    if report.clusters.k <= 1:
        return paragraph("One group only, so there are no cluster profiles to compare.")
    return charts.PngFigure(cluster_profile_chart(report.clusters.deviations))


def clv_chart(report: SegmentationReport) -> charts.PngFigure | narrative.Html:
    """Distribution of customers' 12-month CLV, or why there is none."""
    gap = needs(report.context, BOOKINGS_NEEDS, "customer lifetime value")
    if gap is not None:
        return gap
    if report.clv.table is None:
        return paragraph(report.clv.note)
    return charts.PngFigure(clv_distribution(report.clv.table["clv"], CLV_MONTHS))
