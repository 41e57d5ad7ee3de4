"""What the forecast report shows: sentences, the forecast chart and the tables.

Every function takes the :class:`~salesops_lib.reports.forecast.ForecastResult` and returns one
display (escaped HTML, a PNG chart or a formatted table), so each notebook cell is one call.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
import pandas as pd

from salesops_lib.analytics.forecasting import ledger as forecast_ledger
from salesops_lib.analytics.forecasting.coherence import BOTTOM_UP_MODEL
from salesops_lib.analytics.forecasting.series import TOTAL_SERIES_ID
from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.reports import charts, narrative, pipeline_forecast_display
from salesops_lib.reports.base import Headlines
from salesops_lib.reports.forecast import (
    BACKTEST_ORIGINS,
    ForecastResult,
    bottom_up_scores,
    has_series,
)
from salesops_lib.reports.missing_data import missing_note
from salesops_lib.reports.provenance import provenance as report_provenance

HISTORY_MONTHS_SHOWN = 36
BASELINE = "SeasonalNaive"


def _series_id(result: ForecastResult) -> str:
    return TOTAL_SERIES_ID if result.data.region == ALL_REGIONS else result.data.region


def _no_series_text(result: ForecastResult) -> str | None:
    """Why the statistical sections are empty, or ``None`` when there is a forecast."""
    if has_series(result):
        return None
    if "order_lines" in result.data.empty_tables:
        return (
            "This snapshot has no order lines (bookings): loading them would enable the "
            "statistical forecast and its backtest."
        )
    return f"There is no complete month of bookings before {result.data.as_of} to forecast from."


def _no_series(result: ForecastResult) -> narrative.Html | None:
    """The sentence standing in for a statistical section when there is nothing to forecast."""
    text = _no_series_text(result)
    return None if text is None else missing_note(text)


def backtest_summary(result: ForecastResult) -> dict[str, Any]:
    """The report series' backtest in numbers: chosen model, its MASE, the baseline's, coverage.

    For the all-regions report this is the bottom-up total (the number the report shows).

    Args:
        result: The computed report.

    Returns:
        ``model``, ``mase``, ``baseline_mase``, ``improvement`` (1 - mase / baseline_mase),
        ``coverage_80``, ``coverage_95``; values are ``None`` when the series was not backtested.
    """
    series_id = _series_id(result)
    if not has_series(result):
        return dict.fromkeys(
            ("model", "mase", "baseline_mase", "improvement", "coverage_80", "coverage_95")
        )
    if result.data.region == ALL_REGIONS:
        scores = bottom_up_scores(result)
        if scores.empty:
            return dict.fromkeys(
                ("model", "mase", "baseline_mase", "improvement", "coverage_80", "coverage_95")
            )
        chosen = scores[scores["model"] == BOTTOM_UP_MODEL].iloc[0]
        naive = scores[scores["model"] == BASELINE].iloc[0]
        model = "bottom-up sum of the regions' models"
    else:
        scores = result.backtest.scores
        mine = scores[scores["unique_id"] == series_id].set_index("model")
        picked = result.backtest.chosen.set_index("unique_id").loc[series_id, "model"]
        baseline = next((b for b in (BASELINE, "Naive") if b in mine.index), None)
        if picked not in mine.index or baseline is None:
            return {"model": picked, "mase": None, "baseline_mase": None, "improvement": None,
                    "coverage_80": None, "coverage_95": None}  # fmt: skip
        chosen, naive, model = mine.loc[picked], mine.loc[baseline], str(picked)
    mase, base = float(chosen["mase"]), float(naive["mase"])
    return {
        "model": model,
        "mase": mase,
        "baseline_mase": base,
        "improvement": 1.0 - mase / base if base > 0 else None,
        "coverage_80": float(chosen["coverage_80"]),
        "coverage_95": float(chosen["coverage_95"]),
    }


def summary_sentences(result: ForecastResult) -> list[str]:
    """The executive summary as plain sentences (numbers first, then how far to trust them).

    Args:
        result: The computed report.

    Returns:
        Sentences in reading order.
    """
    data, level = result.data, result.data.level
    sentences = []
    gap = _no_series_text(result)
    if gap is not None:
        sentences.append(gap)
        if result.pipeline is not None:
            sentences.append(_pipeline_sentence(result))
        return sentences
    for _, row in result.quarters.iterrows():
        if row["forecast"] is None or pd.isna(row["forecast"]):
            sentences.append(
                f"{row['quarter']}: the {data.horizon}-month horizon does not reach the quarter's "
                f"end ({int(row['months_missing'])} month(s) short); raise the horizon to see it."
            )
            continue
        text = (
            f"{row['quarter']}: {narrative.format_money(row['forecast'])} expected "
            f"({level}% range {narrative.format_money(row['low'])} to "
            f"{narrative.format_money(row['high'])}"
        )
        text += (
            f"; {narrative.format_money(row['booked'])} already booked)"
            if row["months_booked"]
            else ")"
        )
        if row["target"] is not None and not pd.isna(row["target"]) and row["target"] > 0:
            gap = row["forecast"] - row["target"]
            word = "above" if gap >= 0 else "below"
            text += (
                f", {narrative.format_money(abs(gap))} {word} the target of "
                f"{narrative.format_money(row['target'])}"
            )
        sentences.append(text + ".")
    if result.pipeline is not None:
        sentences.append(_pipeline_sentence(result))
        disagreement = _disagreement_sentence(result)
        if disagreement:
            sentences.append(disagreement)
    sentences.append(_accuracy_sentence(result))
    return sentences


def _pipeline_sentence(result: ForecastResult) -> str:
    p = result.pipeline
    assert p is not None
    if pd.isna(p.expected):
        return "The pipeline-based forecast needs more deal history; see its section."
    spread = (
        f" (P10 {narrative.format_money(p.range['p10'])} to P90 "
        f"{narrative.format_money(p.range['p90'])})"
        if p.range
        else ""
    )
    return (
        f"From the pipeline, {p.quarter_label} is expected at "
        f"{narrative.format_money(p.expected)}{spread}; commit "
        f"{narrative.format_money(p.commit)}, best case {narrative.format_money(p.best_case)}."
    )


DISAGREEMENT = 0.10
"""The two quarter forecasts are called out when they differ by more than this share."""


def _disagreement_sentence(result: ForecastResult) -> str | None:
    """A warning when the statistical and pipeline-based quarter forecasts disagree."""
    pipeline, this_quarter = result.pipeline, result.quarters.iloc[0]
    statistical = this_quarter["forecast"]
    if (
        pipeline is None
        or pd.isna(pipeline.expected)
        or statistical is None
        or pd.isna(statistical)
    ):
        return None
    if statistical <= 0 or abs(pipeline.expected / statistical - 1) <= DISAGREEMENT:
        return None
    higher = "higher" if pipeline.expected > statistical else "lower"
    return (
        f"Check before committing: the pipeline-based number is "
        f"{narrative.format_pct(abs(pipeline.expected / statistical - 1))} {higher} than the "
        f"statistical forecast ({narrative.format_money(pipeline.expected)} against "
        f"{narrative.format_money(statistical)}); the pipeline, its win rates or the run-rate "
        "business have moved away from the booking history."
    )


def _accuracy_sentence(result: ForecastResult) -> str:
    summary = backtest_summary(result)
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


def executive_summary(result: ForecastResult) -> narrative.Html:
    """The executive summary as escaped HTML bullet points."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in summary_sentences(result))
    return narrative.Html(f'<ul class="summary">{items}</ul>')


def forecast_chart(result: ForecastResult) -> charts.PngFigure | narrative.Html:
    """History (last three years) and the forecast with its interval band.

    Args:
        result: The computed report.

    Returns:
        The chart, or a sentence when there is nothing to draw.
    """
    if (gap := _no_series(result)) is not None:
        return gap
    series_id, level = _series_id(result), result.data.level
    history = result.data.monthly[result.data.monthly["unique_id"] == series_id]
    history = history.sort_values("ds").tail(HISTORY_MONTHS_SHOWN)
    shown = result.shown.sort_values("ds")
    if shown.empty:
        return missing_note("There is no forecast to draw.")
    last = shown.iloc[-1]
    title = (
        f"{result.data.region_name}: {narrative.format_money(shown['point'].sum())} forecast over "
        f"the next {len(shown)} months (to {last['ds']:%b %Y})"
    )
    with mpl.rc_context(charts.HOUSE_RC):
        figure, axes = charts._new_axes()
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
            [history.tail(1).rename(columns={"y": "point"})[["ds", "point"]], shown]
        )
        axes.plot(
            joined["ds"], joined["point"], color=charts.HOUSE_COLORS[1], ls="--", label="Forecast"
        )
        axes.set_title(title, parse_math=False)
        axes.set_xlabel("Month")
        axes.set_ylabel("Bookings (USD)")
        axes.yaxis.set_major_formatter(charts.money_formatter())
        axes.legend(loc="upper left")
    return charts.PngFigure(figure)


def forecast_table(result: ForecastResult) -> charts.DisplayTable | narrative.Html:
    """The forecast month by month with its 80% and 95% ranges."""
    if (gap := _no_series(result)) is not None:
        return gap
    shown = result.shown.sort_values("ds").assign(month=lambda f: f["ds"].dt.strftime("%b %Y"))
    return charts.format_table(
        shown[["month", "point", "lo_80", "hi_80", "lo_95", "hi_95"]],
        money=["point", "lo_80", "hi_80", "lo_95", "hi_95"],
        labels={"month": "Month", "point": "Forecast", "lo_80": "80% low", "hi_80": "80% high",
                "lo_95": "95% low", "hi_95": "95% high"},
    )  # fmt: skip


def breakdown_table(result: ForecastResult) -> charts.DisplayTable | narrative.Html:
    """Where the forecast comes from: regions (all-regions report) or product families.

    Regions are each region's own chosen model and add up to the company total; families are
    the region's forecast split by their share of the last twelve months.
    """
    if (gap := _no_series(result)) is not None:
        return gap
    if result.data.region == ALL_REGIONS:
        frame = result.regions.assign(
            name=lambda f: f["unique_id"].map(result.data.region_names).fillna(f["unique_id"])
        )
        label = "Region"
    else:
        frame = result.families.rename(columns={"product_family": "name"})
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


def backtest_table(result: ForecastResult) -> charts.DisplayTable | narrative.Html:
    """Backtest scores per series and model, the chosen model marked, against seasonal naive."""
    if (gap := _no_series(result)) is not None:
        return gap
    scores = result.backtest.scores.merge(
        result.backtest.chosen[["unique_id", "model"]].assign(chosen="yes"),
        on=["unique_id", "model"],
        how="left",
    ).fillna({"chosen": ""})
    extra = bottom_up_scores(result)
    if not extra.empty:
        extra = extra[extra["model"] == BOTTOM_UP_MODEL].assign(
            unique_id=TOTAL_SERIES_ID, chosen="shown", n_points=pd.NA
        )
        scores = pd.concat([scores, extra], ignore_index=True)
    table = scores.sort_values(["unique_id", "mase"]).assign(
        mase=lambda f: f["mase"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.2f}"),
        smape=lambda f: f["smape"] / 100.0,  # forecast_metrics.smape is in percent
        relative_bias=lambda f: f["relative_bias"].map(
            lambda v: "n/a" if pd.isna(v) else f"{v * 100:+.1f}%"
        ),
    )
    columns = ["unique_id", "model", "chosen", "mase", "smape", "relative_bias", "coverage_80",
               "coverage_95"]  # fmt: skip
    return charts.format_table(
        table[columns],
        pct=["smape", "coverage_80", "coverage_95"],
        labels={"unique_id": "Series", "model": "Model", "chosen": "Chosen", "mase": "MASE",
                "smape": "sMAPE", "relative_bias": "Bias (share of actuals)",
                "coverage_80": "80% coverage", "coverage_95": "95% coverage"},
    )  # fmt: skip


def method_notes(result: ForecastResult) -> narrative.Html:
    """One sentence per modelled series on how it was forecast (fallbacks say why)."""
    if (gap := _no_series(result)) is not None:
        return gap
    chosen = result.backtest.chosen.sort_values("unique_id")
    items = "".join(
        f"<li><b>{html.escape(str(row.unique_id))}</b>: {html.escape(str(row.method_note))}</li>"
        for row in chosen.itertuples()
    )
    return narrative.Html(f"<ul>{items}</ul>")


def backtest_by_horizon(result: ForecastResult) -> charts.DisplayTable | narrative.Html:
    """Backtest error by months ahead, chosen model against seasonal naive (the report series)."""
    if (gap := _no_series(result)) is not None:
        return gap
    series_id = _series_id(result)
    if result.data.region == ALL_REGIONS and not result.total_backtest.empty:
        cv = result.backtest.cv
        naive = cv[(cv["unique_id"] == series_id) & (cv["model"] == BASELINE)]
        frames = [result.total_backtest.assign(model=BOTTOM_UP_MODEL), naive]
    else:
        cv = result.backtest.cv[result.backtest.cv["unique_id"] == series_id]
        picked = result.backtest.chosen.set_index("unique_id").loc[series_id, "model"]
        frames = [cv[cv["model"] == picked], cv[cv["model"] == BASELINE]]
    rows = pd.concat(frames, ignore_index=True)
    if rows.empty:
        return charts.format_table(pd.DataFrame({"Months ahead": []}))
    rows = rows.assign(
        months_ahead=(rows["ds"].dt.to_period("M") - rows["cutoff"].dt.to_period("M")).map(
            lambda d: d.n
        ),
        ape=(rows["point"] - rows["y"]).abs() / rows["y"].abs().where(rows["y"] != 0),
    )
    table = rows.groupby(["months_ahead", "model"])["ape"].mean().unstack("model")
    table = table.rename_axis(columns=None).reset_index()
    models = [c for c in table.columns if c != "months_ahead"]
    return charts.format_table(
        table,
        pct=models,
        labels={"months_ahead": "Months ahead", **{m: f"{m} MAPE" for m in models}},
    )


def _ledger_rows(result: ForecastResult, table: pd.DataFrame) -> pd.DataFrame:
    """The report series' rows of a ledger accuracy table."""
    mine = table[(table["level"] == "series") & (table["unique_id"] == _series_id(result))]
    return mine.reset_index(drop=True)


def _no_scores_note(result: ForecastResult) -> narrative.Html:
    earlier = result.data.ledger[result.data.ledger["as_of"] < pd.Timestamp(result.data.as_of)]
    runs = earlier["as_of"].nunique()
    return missing_note(
        f"No earlier forecast of this series can be scored yet: the ledger holds {runs} earlier "
        "forecast date(s), and scores appear once a month they forecast is fully booked. "
        "Until then, the backtest below shows the accuracy by months ahead."
    )


ROLE_LABELS = {
    forecast_ledger.CHOSEN_ROLE: "Forecast used",
    forecast_ledger.BASELINE_MODEL: "Seasonal naive (baseline)",
}


def ledger_accuracy_table(result: ForecastResult) -> charts.DisplayTable | narrative.Html:
    """Earlier runs' forecasts scored against what was booked, by months ahead, vs the baseline."""
    if result.scored.empty:
        return _no_scores_note(result)
    rows = _ledger_rows(result, forecast_ledger.accuracy_by_horizon(result.scored))
    chosen_first = rows["role"] != forecast_ledger.CHOSEN_ROLE
    rows = rows.assign(
        mase=rows["mase"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.2f}"),
        smape=rows["smape"] / 100.0,  # forecast_metrics.smape is in percent
        role=rows["role"].map(ROLE_LABELS).fillna(rows["role"]),
        order=chosen_first,
    ).sort_values(["horizon", "order"])
    return charts.format_table(
        rows[["horizon", "role", "n_forecasts", "mase", "smape", "bias", "coverage_80",
              "coverage_95"]],
        pct=["smape", "coverage_80", "coverage_95"],
        money=["bias"],
        counts=["n_forecasts"],
        labels={"horizon": "Months ahead", "role": "Forecast", "n_forecasts": "Forecasts scored",
                "mase": "MASE", "smape": "sMAPE", "bias": "Bias (USD per month)",
                "coverage_80": "80% coverage", "coverage_95": "95% coverage"},
    )  # fmt: skip


def ledger_accuracy_chart(result: ForecastResult) -> charts.PngFigure | narrative.Html:
    """MASE of each forecast date's forecasts, chosen model against seasonal naive."""
    if result.scored.empty:
        return missing_note(
            "The accuracy-over-time chart appears once earlier forecasts are scored."
        )
    rows = _ledger_rows(result, forecast_ledger.accuracy_over_time(result.scored))
    chosen = rows[rows["role"] == forecast_ledger.CHOSEN_ROLE]
    title = (
        f"Scored forecasts from {rows['as_of'].nunique()} forecast date(s): MASE "
        f"{chosen['mase'].mean():.2f} for the forecast used"
    )
    with mpl.rc_context(charts.HOUSE_RC):
        figure, axes = charts._new_axes(height=3.4)
        for i, (role, frame) in enumerate(rows.groupby("role", sort=True)):
            axes.plot(frame["as_of"], frame["mase"], marker="o", color=charts.HOUSE_COLORS[i],
                      label=ROLE_LABELS.get(str(role), str(role)))  # fmt: skip
        axes.axhline(1.0, color="#949494", ls=":", lw=1)
        axes.set_title(title, parse_math=False)
        axes.set_xlabel("Forecast made on")
        axes.set_ylabel("MASE (1 = seasonal naive in-sample error)")
        axes.legend(loc="upper left")
    return charts.PngFigure(figure)


METHOD_TEXT: tuple[str, ...] = (
    "Series: monthly bookings (order lines, after discount) per region, per region and product "
    "family, and for the company; only complete months before the as-of date; months with no "
    "bookings count as zero.",
    "Models (statsforecast): seasonal naive (same month last year), automatic ETS, automatic "
    "ARIMA and automatic Theta with a 12-month season, and their average (Ensemble). Short "
    "series (under two years) use non-seasonal methods and mostly-zero series use methods for "
    "intermittent demand; the notes below say which series did.",
    "Choice: each series keeps the model with the lowest mean MASE over a rolling-origin "
    "backtest at the report's horizon (ties go to the simpler model).",
    "Coherence: the company total is the sum of the regions' forecasts (bottom-up); its range "
    "keeps the width of the total's own model. Families split their region by their share of "
    "the last twelve months, so they add up to the region.",
    "Quarters: booked months plus forecast months; the quarter's range adds the months' "
    "bounds, which is cautious (it assumes the months miss in the same direction).",
    "Pipeline: a logistic regression on stage, days in stage, age, deal size, past slips, "
    "forecast category and close date, trained on deals open in earlier snapshots and what "
    "became of them; all regions train one model, so regional and company numbers agree.",
)


def method_appendix(result: ForecastResult) -> narrative.Html:
    """The method in plain words, plus the pipeline model's own notes."""
    items = list(METHOD_TEXT)
    if result.pipeline is not None:
        items.extend(result.pipeline.notes)
    body = "".join(f"<li>{html.escape(str(t))}</li>" for t in items)
    return narrative.Html(f"<ul>{body}</ul>")


NO_PIPELINE = (
    "This snapshot has no opportunities, so there is no pipeline-based forecast; import "
    "opportunities (with their stage history) to enable this section."
)


def _pipeline_part(result: ForecastResult, show: Callable[[Any], Any], win: bool = False) -> Any:
    """Show one part of the pipeline section, or the sentence saying why it is missing."""
    if result.pipeline is None:
        return missing_note(NO_PIPELINE)
    return show(result.pipeline.win if win else result.pipeline)


def pipeline_summary(result: ForecastResult) -> Any:
    """The pipeline-based quarter forecast in one sentence (expected, range, commit, plan)."""
    return _pipeline_part(result, pipeline_forecast_display.quarter_sentence)


def pipeline_table(result: ForecastResult) -> Any:
    """Closed so far, pipeline, run-rate, expected, range, commit and best case against plan."""
    return _pipeline_part(result, pipeline_forecast_display.quarter_table)


def pipeline_components_table(result: ForecastResult) -> Any:
    """The quarter forecast's components region by region."""
    return _pipeline_part(result, pipeline_forecast_display.components_table)


def pipeline_deals_table(result: ForecastResult) -> Any:
    """The open deals that carry the most expected value, with their win probability."""
    return _pipeline_part(result, pipeline_forecast_display.top_deals_table)


def calibration_note(result: ForecastResult) -> Any:
    """How well calibrated the win model is: its Brier score against the stage-only baseline."""
    return _pipeline_part(result, pipeline_forecast_display.calibration_sentence, win=True)


def calibration_chart(result: ForecastResult) -> Any:
    """Reliability curve: predicted win probability against the observed win rate."""
    return _pipeline_part(result, pipeline_forecast_display.reliability_chart, win=True)


def slip_table(result: ForecastResult) -> Any:
    """What past slips do to the chance of winning: model and closed-deal history."""
    return _pipeline_part(result, pipeline_forecast_display.slip_table, win=True)


def headline_numbers(result: ForecastResult) -> dict[str, Any]:
    """The report's headline numbers for the runner's index page (plain JSON values)."""
    empty_quarter = {"quarter": None, "forecast": None, "gap_to_target": None}
    this_quarter = result.quarters.iloc[0] if has_series(result) else empty_quarter
    summary = backtest_summary(result)

    def rounded(value: Any, digits: int = 2) -> float | None:
        return None if value is None or pd.isna(value) else round(float(value), digits)

    return {
        "region": result.data.region,
        "region_name": result.data.region_name,
        "snapshot_id": result.data.snapshot_id,
        "snapshot_checksum": result.data.snapshot_checksum,
        "quarter": this_quarter["quarter"],
        "quarter_forecast": rounded(this_quarter["forecast"]),
        "quarter_gap_to_target": rounded(this_quarter["gap_to_target"]),
        "pipeline_expected": None if result.pipeline is None else rounded(result.pipeline.expected),
        "backtest_mase": rounded(summary["mase"], 4),
        "seasonal_naive_mase": rounded(summary["baseline_mase"], 4),
    }


def headlines(result: ForecastResult) -> Headlines:
    """The headline numbers as a display for the cell tagged ``headlines``."""
    return Headlines(headline_numbers(result))


def provenance(
    result: ForecastResult, region: str, as_of: str, horizon: int, level: int
) -> narrative.Html:
    """The report's provenance block: snapshot, parameters, code version, run time, command."""
    return report_provenance(
        "20-forecast",
        result.data.region,
        result.data.snapshot_id,
        result.data.snapshot_checksum,
        {"region": region, "as_of": as_of, "horizon": horizon, "level": level},
    )
