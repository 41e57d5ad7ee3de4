"""What the forecast report shows first: the executive summary, the chart and forecast tables.

Every function takes the :class:`~salesops_lib.reports.forecast.load.ForecastReport` and returns
one display (escaped HTML, a PNG chart or a formatted table), so each notebook cell is one call.
Accuracy tables are in :mod:`~salesops_lib.reports.forecast.accuracy_display`, the pipeline
section in :mod:`~salesops_lib.reports.forecast.pipeline_display`.
"""

from __future__ import annotations

import html
from typing import Any

import matplotlib as mpl
import pandas as pd

from salesops_lib.analytics.forecasting.coherence import BOTTOM_UP_MODEL
from salesops_lib.reports import charts, narrative
from salesops_lib.reports.base import Headlines, headline_base, needs, report_provenance
from salesops_lib.reports.forecast.load import BACKTEST_ORIGINS, ForecastReport
from salesops_lib.reports.missing_data import missing_note

HISTORY_MONTHS_SHOWN = 36
BASELINE = "SeasonalNaive"
DISAGREEMENT = 0.10
"""The two quarter forecasts are called out when they differ by more than this share."""
NO_SERIES_ENABLES = "the statistical forecast and its backtest"


def no_series(report: ForecastReport) -> narrative.Html | None:
    """The sentence standing in for a statistical section when there is nothing to forecast."""
    if report.has_series:
        return None
    gap = needs(report.context, ["order_lines"], NO_SERIES_ENABLES)
    if gap is not None:
        return gap
    return missing_note(
        f"There is no complete month of bookings before {report.context.as_of} to forecast from."
    )


def _no_series_text(report: ForecastReport) -> str | None:
    """:func:`no_series` as plain text (for the summary's bullet points)."""
    if report.has_series:
        return None
    if "order_lines" in report.context.empty_tables:
        return (
            "This snapshot has no order lines (bookings): loading them would enable "
            f"{NO_SERIES_ENABLES}."
        )
    return f"There is no complete month of bookings before {report.context.as_of} to forecast from."


def backtest_summary(report: ForecastReport) -> dict[str, Any]:
    """The report series' backtest in numbers: chosen model, its MASE, the baseline's, coverage.

    For the company report this is the bottom-up total (the number the report shows).

    Args:
        report: The loaded report.

    Returns:
        ``model``, ``mase``, ``baseline_mase``, ``improvement`` (1 - mase / baseline_mase),
        ``coverage_80``, ``coverage_95``; values are ``None`` when the series was not backtested.
    """
    keys = ("model", "mase", "baseline_mase", "improvement", "coverage_80", "coverage_95")
    if not report.has_series:
        return dict.fromkeys(keys)
    scores = report.table("an_forecast_backtest_scores")
    mine = scores[scores["unique_id"] == report.shown_id].set_index("model")
    if report.context.is_company:
        picked, model = BOTTOM_UP_MODEL, "bottom-up sum of the regions' models"
    else:
        choices = report.table("an_forecast_model_choices").set_index("unique_id")
        picked = str(choices.loc[report.shown_id, "model"])
        model = picked
    baseline = next((b for b in (BASELINE, "Naive") if b in mine.index), None)
    if report.context.is_company and BASELINE not in mine.index:
        baseline = None
    if picked not in mine.index or baseline is None:
        return dict.fromkeys(keys) | ({} if report.context.is_company else {"model": picked})
    chosen, naive = mine.loc[picked], mine.loc[baseline]
    mase, base = float(chosen["mase"]), float(naive["mase"])
    return {
        "model": model,
        "mase": mase,
        "baseline_mase": base,
        "improvement": 1.0 - mase / base if base > 0 else None,
        "coverage_80": float(chosen["coverage_80"]),
        "coverage_95": float(chosen["coverage_95"]),
    }


def _quarter_sentence(report: ForecastReport, row: pd.Series) -> str:
    level, money = report.level, narrative.format_money
    if pd.isna(row["forecast"]):
        return (
            f"{row['quarter']}: the {report.horizon}-month horizon does not reach the quarter's "
            f"end ({int(row['months_missing'])} month(s) short); raise the horizon to see it."
        )
    text = (
        f"{row['quarter']}: {money(row['forecast'])} expected ({level}% range "
        f"{money(row[f'low_{level}'])} to {money(row[f'high_{level}'])}"
    )
    booked = row["booked"] if not pd.isna(row["booked"]) else 0.0
    text += f"; {money(booked)} booked so far)" if booked > 0 else ")"
    if not pd.isna(row["target"]) and row["target"] > 0:
        gap = row["forecast"] - row["target"]
        word = "above" if gap >= 0 else "below"
        text += f", {money(abs(gap))} {word} the target of {money(row['target'])}"
    return text + "."


def summary_sentences(report: ForecastReport) -> list[str]:
    """The executive summary as plain sentences (numbers first, then how far to trust them).

    Args:
        report: The loaded report.

    Returns:
        Sentences in reading order.
    """
    gap = _no_series_text(report)
    if gap is not None:
        return [gap, *([_pipeline_sentence(report)] if report.has_pipeline else [])]
    quarters = report.table("an_forecast_quarters").sort_values("quarter_start")
    sentences = [_quarter_sentence(report, row) for _, row in quarters.iterrows()]
    if report.has_pipeline:
        sentences.append(_pipeline_sentence(report))
        disagreement = disagreement_sentence(report)
        if disagreement:
            sentences.append(disagreement)
    sentences.append(_accuracy_sentence(report))
    return sentences


def _pipeline_sentence(report: ForecastReport) -> str:
    p = report.pipeline
    assert p is not None
    money = narrative.format_money
    if pd.isna(p["expected"]):
        return "The pipeline-based forecast needs more deal history; see its section."
    spread = "" if pd.isna(p["p10"]) else f" (P10 {money(p['p10'])} to P90 {money(p['p90'])})"
    quarter = pd.Timestamp(p["quarter_start"])
    return (
        f"From the pipeline, {quarter.year}-Q{quarter.quarter} is expected at "
        f"{money(p['expected'])}{spread}; commit {money(p['commit'])}, best case "
        f"{money(p['best_case'])}."
    )


def disagreement_sentence(report: ForecastReport) -> str | None:
    """A warning when the statistical and pipeline-based quarter forecasts disagree."""
    pipeline = report.pipeline
    quarters = report.table("an_forecast_quarters").sort_values("quarter_start")
    if pipeline is None or pd.isna(pipeline["expected"]) or quarters.empty:
        return None
    statistical, expected = quarters.iloc[0]["forecast"], float(pipeline["expected"])
    if pd.isna(statistical) or statistical <= 0 or abs(expected / statistical - 1) <= DISAGREEMENT:
        return None
    higher = "higher" if expected > statistical else "lower"
    return (
        f"Check before committing: the pipeline-based number is "
        f"{narrative.format_pct(abs(expected / statistical - 1))} {higher} than the "
        f"statistical forecast ({narrative.format_money(expected)} against "
        f"{narrative.format_money(statistical)}); the pipeline, its win rates or the run-rate "
        "business have moved away from the booking history."
    )


def _accuracy_sentence(report: ForecastReport) -> str:
    summary = backtest_summary(report)
    if summary["mase"] is None:
        return "The series is too short to backtest, so its accuracy is unknown; see the appendix."
    better = summary["improvement"]
    compare = (
        f"{narrative.format_pct(abs(better))} {'better' if better >= 0 else 'worse'} than"
        if better is not None
        else "compared with"
    )
    return (
        f"Accuracy: over {BACKTEST_ORIGINS} backtest origins the forecast "
        f"({summary['model']}) missed by a MASE of {summary['mase']:.2f}, {compare} the naive "
        f"baseline ({summary['baseline_mase']:.2f}); its 80% ranges held "
        f"{narrative.format_pct(summary['coverage_80'])} of the actual months."
    )


def executive_summary(report: ForecastReport) -> narrative.Html:
    """The executive summary as escaped HTML bullet points."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in summary_sentences(report))
    return narrative.Html(f'<ul class="summary">{items}</ul>')


def forecast_chart(report: ForecastReport) -> charts.PngFigure | narrative.Html:
    """History (last three years) and the forecast with its interval band."""
    if (gap := no_series(report)) is not None:
        return gap
    level = report.level
    history = report.history.tail(HISTORY_MONTHS_SHOWN)
    shown = report.shown
    last = shown.iloc[-1]
    title = (
        f"{report.context.region_name}: {narrative.format_money(shown['point'].sum())} forecast "
        f"over the next {len(shown)} months (to {last['ds']:%b %Y})"
    )
    with mpl.rc_context(charts.HOUSE_RC):
        figure, axes = charts.new_axes()
        axes.plot(history["ds"], history["y"], color=charts.HOUSE_COLORS[0], label="Bookings")
        axes.fill_between(
            shown["ds"],
            shown[f"lo_{level}"],
            shown[f"hi_{level}"],
            color=charts.HOUSE_COLORS[1],
            alpha=0.25,
            label=f"{level}% range",
        )
        joined = pd.concat(  # start the forecast line at the last booked month
            [history.tail(1).rename(columns={"y": "point"})[["ds", "point"]],
             shown[["ds", "point"]]]
        )  # fmt: skip
        axes.plot(joined["ds"], joined["point"], color=charts.HOUSE_COLORS[1], ls="--",
                  label="Forecast")  # fmt: skip
        axes.set_title(title, parse_math=False)
        axes.set_xlabel("Month")
        axes.set_ylabel("Bookings (USD)")
        axes.yaxis.set_major_formatter(charts.money_formatter())
        axes.legend(loc="upper left")
    return charts.PngFigure(figure)


def forecast_table(report: ForecastReport) -> charts.DisplayTable | narrative.Html:
    """The forecast month by month with its 80% and 95% ranges."""
    if (gap := no_series(report)) is not None:
        return gap
    shown = report.shown.assign(month=lambda f: f["ds"].dt.strftime("%b %Y"))
    return charts.format_table(
        shown[["month", "point", "lo_80", "hi_80", "lo_95", "hi_95"]],
        money=["point", "lo_80", "hi_80", "lo_95", "hi_95"],
        labels={"month": "Month", "point": "Forecast", "lo_80": "80% low", "hi_80": "80% high",
                "lo_95": "95% low", "hi_95": "95% high"},
    )  # fmt: skip


def breakdown_table(report: ForecastReport) -> charts.DisplayTable | narrative.Html:
    """Where the forecast comes from: regions (company report) or product families.

    Regions are each region's own chosen model and add up to the company total; families are
    the region's forecast split by their share of the last twelve months.
    """
    if (gap := no_series(report)) is not None:
        return gap
    if report.context.is_company:
        frame = report.months("region")
        frame = frame.assign(name=frame["unique_id"].map(report.region_names).fillna(
            frame["unique_id"]))  # fmt: skip
        label = "Region"
    else:
        frame = report.months("family").rename(columns={"product_family": "name"})
        label = "Product family"
    if frame.empty:
        return charts.format_table(pd.DataFrame({label: []}))
    wide = frame.pivot_table(index="name", columns="ds", values="point", aggfunc="sum")
    wide = wide.sort_index()
    wide.columns = [f"{c:%b %Y}" for c in wide.columns]
    wide["Total"] = wide.sum(axis=1)
    totals = wide.sum(axis=0).rename("Total")
    table = pd.concat([wide, totals.to_frame().T]).reset_index(names=label)
    return charts.format_table(table, money=[c for c in table.columns if c != label])


def headline_numbers(report: ForecastReport) -> dict[str, Any]:
    """The report's headline numbers for the runner's index page (plain JSON values)."""
    quarters = report.table("an_forecast_quarters").sort_values("quarter_start")
    empty = {
        "quarter": None,
        "booked": None,
        "forecast": None,
        "gap_to_target": None,
        "low_80": None,
        "high_80": None,
    }
    this_quarter = quarters.iloc[0] if report.has_series and len(quarters) else empty
    summary = backtest_summary(report)
    pipeline = report.pipeline

    def rounded(value: Any, digits: int = 2) -> float | None:
        return None if value is None or pd.isna(value) else round(float(value), digits)

    return headline_base(report.context) | {
        "quarter": this_quarter["quarter"],
        "quarter_booked": rounded(this_quarter["booked"]),
        "quarter_forecast": rounded(this_quarter["forecast"]),
        "quarter_gap_to_target": rounded(this_quarter["gap_to_target"]),
        "quarter_forecast_low_80": rounded(this_quarter["low_80"]),
        "quarter_forecast_high_80": rounded(this_quarter["high_80"]),
        "pipeline_expected": None if pipeline is None else rounded(pipeline["expected"]),
        "backtest_mase": rounded(summary["mase"], 4),
        "seasonal_naive_mase": rounded(summary["baseline_mase"], 4),
    }


def headlines(report: ForecastReport) -> Headlines:
    """The headline numbers as a display for the cell tagged ``headlines``."""
    return Headlines(headline_numbers(report))


def provenance(
    report: ForecastReport, region: str, as_of: str, horizon: int, level: int
) -> narrative.Html:
    """The report's provenance block: snapshot, parameters, code version, run time, command."""
    parameters = {"region": region, "as_of": as_of, "horizon": horizon, "level": level}
    return report_provenance(report.context, "20-forecast", parameters)
