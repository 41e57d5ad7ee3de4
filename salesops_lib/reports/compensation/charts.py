"""The compensation report's summary chart: how payouts spread against target pay."""

from __future__ import annotations

import seaborn as sns

from salesops_lib.reports import narrative
from salesops_lib.reports.charts import PngFigure, new_axes
from salesops_lib.reports.compensation.load import CompReport
from salesops_lib.reports.compensation.summary import payouts_gap, rep_period_table


def payout_distribution_chart(report: CompReport) -> PngFigure | narrative.Html:
    """Histogram of each rep's payout as a percent of their target variable pay."""
    gap = payouts_gap(report, "the payout distribution chart")
    if gap is not None:
        return gap
    table = rep_period_table(report)
    table = table[table["payout_vs_target"].notna()] if not table.empty else table
    if table.empty:
        return narrative.paragraph("No payouts with a target variable pay in the period.")
    shares = table["payout_vs_target"].astype(float) * 100
    figure, axes = new_axes()
    sns.histplot(x=shares, bins=20, ax=axes, color="#4C72B0")
    axes.axvline(100, color="grey", linestyle="--", linewidth=1)
    above = int((shares > 100).sum())
    axes.set_title(
        f"{report.period}: {above} of {len(shares)} reps paid above target variable pay",
        loc="left",
    )
    axes.set_xlabel("Payout as % of target variable pay for the period")
    axes.set_ylabel("Reps")
    return PngFigure(figure)
