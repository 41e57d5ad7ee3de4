"""What the report shows of the pipeline-based quarter forecast: a sentence, tables, a chart.

Every function takes a
:class:`~salesops_lib.analytics.forecasting.pipeline_quarter.QuarterForecast` (or its win
model) and returns one display: escaped HTML, a formatted table or a PNG chart. Region names
come from the snapshot (untrusted) and are escaped; tables escape all text.
"""

from __future__ import annotations

import html

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from salesops_lib.analytics.forecasting.pipeline_quarter import QuarterForecast
from salesops_lib.analytics.forecasting.win_probability import WinModelResult
from salesops_lib.reports import charts, narrative

TOP_DEALS = 10


def _share(value: float, of: float) -> str:
    return narrative.format_pct(value / of) if of > 0 else "n/a"


def quarter_sentence(forecast: QuarterForecast) -> narrative.Html:
    """One paragraph: expected bookings with range, commit / best case, against quota and target.

    Args:
        forecast: The quarter forecast.

    Returns:
        Escaped HTML.
    """
    money = narrative.format_money
    name = html.escape(forecast.region_name)
    text = f"<p><b>{name}, {forecast.quarter_label}: expected bookings {money(forecast.expected)}"
    if forecast.range:
        text += f" (80% range {money(forecast.range['p10'])} to {money(forecast.range['p90'])})"
    text += (
        f"</b>, {_share(forecast.expected, forecast.target)} of the {money(forecast.target)} "
        f"target and {_share(forecast.expected, forecast.quota)} of the "
        f"{money(forecast.quota)} quota. Closed so far {money(forecast.closed_so_far)}; commit "
        f"{money(forecast.commit)}, best case {money(forecast.best_case)}.</p>"
    )
    return narrative.Html(text)


def quarter_table(forecast: QuarterForecast) -> charts.DisplayTable:
    """Commit, best case, expected and the range against quota and target, one row each.

    Args:
        forecast: The quarter forecast.

    Returns:
        A table: measure, amount, share of quota, share of target, gap to target.
    """
    rows = [
        ("Closed so far", forecast.closed_so_far),
        ("Commit", forecast.commit),
        ("Best case", forecast.best_case),
        ("Expected", forecast.expected),
    ]
    for key, label in (("p10", "Low (P10)"), ("p50", "Median (P50)"), ("p90", "High (P90)")):
        if key in forecast.range:
            rows.append((label, forecast.range[key]))
    table = pd.DataFrame(rows, columns=["measure", "amount"])
    quota = forecast.quota if forecast.quota > 0 else np.nan
    target = forecast.target if forecast.target > 0 else np.nan
    table = table.assign(
        of_quota=table["amount"] / quota,
        of_target=table["amount"] / target,
        gap_to_target=table["amount"] - forecast.target,
    )
    return charts.format_table(
        table,
        money=["amount", "gap_to_target"],
        pct=["of_quota", "of_target"],
        labels={
            "measure": "Measure",
            "amount": "Amount",
            "of_quota": f"% of quota ({narrative.format_money(forecast.quota)})",
            "of_target": f"% of target ({narrative.format_money(forecast.target)})",
            "gap_to_target": "Gap to target",
        },
    )


def components_table(forecast: QuarterForecast) -> charts.DisplayTable:
    """Where the expected number comes from, per region and for all regions.

    Args:
        forecast: The quarter forecast (its ``by_region`` table).

    Returns:
        A table: region, closed so far, pipeline expected, run-rate, expected, P10, P90,
        commit, best case, quota, target.
    """
    columns = [
        "closed_so_far",
        "pipeline_expected",
        "run_rate",
        "expected",
        "p10",
        "p90",
        "commit",
        "best_case",
        "quota",
        "target",
    ]
    table = forecast.by_region[columns].reset_index()
    return charts.format_table(
        table,
        money=columns,
        labels={
            "region_id": "Region",
            "closed_so_far": "Closed so far",
            "pipeline_expected": "Pipeline (expected)",
            "run_rate": "Run-rate",
            "expected": "Expected",
            "p10": "P10",
            "p90": "P90",
            "commit": "Commit",
            "best_case": "Best case",
            "quota": "Quota",
            "target": "Target",
        },
    )


def top_deals_table(forecast: QuarterForecast, n: int = TOP_DEALS) -> charts.DisplayTable:
    """The open deals with the largest expected value (probability x amount).

    Args:
        forecast: The quarter forecast.
        n: Number of deals.

    Returns:
        A table: opportunity, region, stage, forecast category, amount, close date, pushes,
        win probability, expected value.
    """
    deals = forecast.deals.head(n)
    table = deals[
        [
            "opportunity_id",
            "region_id",
            "stage",
            "forecast_category",
            "amount",
            "close_date",
            "push_count",
            "probability",
            "expected_value",
        ]
    ].assign(close_date=pd.to_datetime(deals["close_date"]).dt.strftime("%Y-%m-%d"))
    return charts.format_table(
        table,
        money=["amount", "expected_value"],
        pct=["probability"],
        counts=["push_count"],
        labels={
            "opportunity_id": "Opportunity",
            "region_id": "Region",
            "stage": "Stage",
            "forecast_category": "Category",
            "amount": "Amount",
            "close_date": "Close date",
            "push_count": "Pushes",
            "probability": "Win probability",
            "expected_value": "Expected value",
        },
    )


def calibration_sentence(win: WinModelResult) -> narrative.Html:
    """How good the win probabilities have been: Brier score against the stage-only baseline.

    Args:
        win: The win model.

    Returns:
        Escaped HTML (the method note included).
    """
    note = html.escape(win.method_note)
    if np.isnan(win.brier_model):
        return narrative.Html(f"<p>{note}</p>")
    better = win.brier_model < win.brier_stage_only
    relative = 1 - win.brier_model / win.brier_stage_only if win.brier_stage_only > 0 else 0.0
    verdict = f"{relative:.0%} better than" if better else "no better than"  # lower is better
    return narrative.Html(
        f"<p>Win probabilities (closing won within {win.horizon_days} days, the rest of the "
        f"quarter) scored a Brier score of {win.brier_model:.3f} on {win.n_examples:,} past "
        f"examples ({win.n_deals:,} deals, out of fold), {verdict} the stage-only baseline "
        f"({win.brier_stage_only:.3f}). {note}</p>"
    )


def slip_table(win: WinModelResult) -> charts.DisplayTable:
    """Win probability by number of pushes: the model's (partial dependence) and history's.

    Args:
        win: The win model.

    Returns:
        A table: pushes, model probability (all open examples and those in Negotiation),
        closed deals that reached Negotiation, their win rate.
    """
    empirical = win.empirical_slips[["push_count", "closed", "win_rate"]]
    if win.slip_effect.empty:
        table = empirical
        pct = ["win_rate"]
    else:
        table = win.slip_effect.merge(empirical, on="push_count", how="outer")
        pct = ["mean_probability", "mean_probability_negotiation", "win_rate"]
    table = table.assign(
        push_count=table["push_count"].map(lambda k: f"{k}+" if k >= 3 else str(k))
    )
    return charts.format_table(
        table,
        pct=pct,
        counts=["closed"],
        labels={
            "push_count": "Pushes",
            "mean_probability": "Model: win probability (all open deals)",
            "mean_probability_negotiation": "Model: in Negotiation",
            "closed": "Closed deals that reached Negotiation",
            "win_rate": "Their win rate",
        },
    )


def reliability_chart(win: WinModelResult) -> charts.PngFigure:
    """Reliability curve: observed win rate against predicted probability, dot size = examples.

    Args:
        win: The win model.

    Returns:
        The chart (an empty frame with the diagonal when there is no model).
    """
    table = win.reliability
    with mpl.rc_context(charts.HOUSE_RC | {"axes.grid.axis": "both"}):
        figure = Figure(figsize=(5.5, 4.5), layout="constrained")
        axes = figure.add_subplot()
        axes.plot([0, 1], [0, 1], color="#949494", linestyle="--", label="Perfectly calibrated")
        if len(table):
            sizes = 20 + 300 * table["examples"] / table["examples"].max()
            axes.plot(table["mean_predicted"], table["observed_rate"], color=charts.HOUSE_COLORS[0])
            axes.scatter(
                table["mean_predicted"],
                table["observed_rate"],
                s=sizes,
                color=charts.HOUSE_COLORS[0],
                label="Model (out of fold)",
                zorder=3,
            )
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_title("Predicted win probability against what happened", parse_math=False)
        axes.set_xlabel("Predicted probability")
        axes.set_ylabel("Observed win rate")
        axes.legend(loc="upper left")
    return charts.PngFigure(figure)
