"""How far to trust the forecast: backtest scores, earlier runs scored, and the method.

Every function takes the :class:`~salesops_lib.reports.forecast.load.ForecastReport` and returns
one display (escaped HTML, a PNG chart or a formatted table).
"""

from __future__ import annotations

import html

import matplotlib as mpl
import pandas as pd

from salesops_lib.analytics.forecasting import ledger as forecast_ledger
from salesops_lib.analytics.forecasting import ledger_scoring
from salesops_lib.analytics.forecasting.coherence import BOTTOM_UP_MODEL
from salesops_lib.reports import charts, narrative
from salesops_lib.reports.forecast.display import BASELINE, no_series
from salesops_lib.reports.forecast.load import DEFAULT_HORIZON, ForecastReport
from salesops_lib.reports.missing_data import missing_note

ROLE_LABELS = {
    forecast_ledger.CHOSEN_ROLE: "Forecast used",
    forecast_ledger.BASELINE_MODEL: "Seasonal naive (baseline)",
}


def backtest_table(report: ForecastReport) -> charts.DisplayTable | narrative.Html:
    """Backtest scores per series and model, the chosen model marked, against seasonal naive."""
    if (gap := no_series(report)) is not None:
        return gap
    picks = report.table("an_forecast_model_choices")[["unique_id", "model"]]
    scores = report.table("an_forecast_backtest_scores")
    bottom_up = scores["model"] == BOTTOM_UP_MODEL
    table = scores.merge(picks.assign(chosen="yes"), on=["unique_id", "model"], how="left")
    table = table.assign(chosen=table["chosen"].fillna("").where(~bottom_up.to_numpy(), "shown"))
    table = table.sort_values(["unique_id", "mase"], kind="stable").assign(
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


def method_notes(report: ForecastReport) -> narrative.Html:
    """One sentence per modelled series on how it was forecast (fallbacks say why)."""
    if (gap := no_series(report)) is not None:
        return gap
    chosen = report.table("an_forecast_model_choices").sort_values("unique_id")
    items = [
        f"<li><b>{html.escape(str(row.unique_id))}</b>: {html.escape(str(row.method_note))}</li>"
        for row in chosen.itertuples()
    ]
    if not report.from_store:
        items.append(
            f"<li>Horizon {report.horizon} months: the analytics store holds the "
            f"{DEFAULT_HORIZON}-month forecast, so this run backtested and fitted the report's "
            "series itself (same method, at this horizon).</li>"
        )
    return narrative.Html(f"<ul>{''.join(items)}</ul>")


def backtest_by_horizon(report: ForecastReport) -> charts.DisplayTable | narrative.Html:
    """Backtest error by months ahead, chosen model against seasonal naive (the report series)."""
    if (gap := no_series(report)) is not None:
        return gap
    points = report.table("an_forecast_backtest_points")
    cv = points[points["unique_id"] == report.shown_id]
    if report.context.is_company:
        picked = BOTTOM_UP_MODEL
    else:
        choices = report.table("an_forecast_model_choices").set_index("unique_id")
        picked = choices.loc[report.shown_id, "model"]
    rows = pd.concat([cv[cv["model"] == picked], cv[cv["model"] == BASELINE]], ignore_index=True)
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


def _ledger_rows(report: ForecastReport, table: pd.DataFrame) -> pd.DataFrame:
    """The report series' rows of a ledger accuracy table."""
    mine = table[(table["level"] == "series") & (table["unique_id"] == report.shown_id)]
    return mine.reset_index(drop=True)


def _no_scores_note(report: ForecastReport) -> narrative.Html:
    ledger = report.ledger
    runs = ledger.loc[ledger["as_of"] < pd.Timestamp(report.context.as_of), "as_of"].nunique()
    return missing_note(
        f"No earlier forecast of this series can be scored yet: the ledger holds {runs} earlier "
        "forecast date(s), and scores appear once a month they forecast is fully booked. "
        "Until then, the backtest below shows the accuracy by months ahead."
    )


def ledger_accuracy_table(report: ForecastReport) -> charts.DisplayTable | narrative.Html:
    """Earlier runs' forecasts scored against what was booked, by months ahead, vs the baseline."""
    if report.scored.empty:
        return _no_scores_note(report)
    rows = _ledger_rows(report, ledger_scoring.accuracy_by_horizon(report.scored))
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


def ledger_accuracy_chart(report: ForecastReport) -> charts.PngFigure | narrative.Html:
    """MASE of each forecast date's forecasts, chosen model against seasonal naive."""
    if report.scored.empty:
        return missing_note(
            "The accuracy-over-time chart appears once earlier forecasts are scored."
        )
    rows = _ledger_rows(report, ledger_scoring.accuracy_over_time(report.scored))
    chosen = rows[rows["role"] == forecast_ledger.CHOSEN_ROLE]
    title = (
        f"Scored forecasts from {rows['as_of'].nunique()} forecast date(s): MASE "
        f"{chosen['mase'].mean():.2f} for the forecast used"
    )
    with mpl.rc_context(charts.HOUSE_RC):
        figure, axes = charts.new_axes(height=3.4)
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
    "family, and for the company; only complete months (a month ending on the as-of date is "
    "complete); months with no bookings count as zero.",
    "Models (statsforecast): seasonal naive (same month last year), automatic ETS, automatic "
    "ARIMA and automatic Theta with a 12-month season, and their average (Ensemble). Short "
    "series (under two years) use non-seasonal methods and mostly-zero series use methods for "
    "intermittent demand; the notes below say which series did.",
    "Choice: each series keeps the model with the lowest mean MASE over a rolling-origin "
    "backtest at the report's horizon (ties go to the simpler model).",
    "Coherence: the company total is the sum of the regions' forecasts (bottom-up); its range "
    "keeps the width of the total's own model. Families split their region by their share of "
    "the last twelve months, so they add up to the region.",
    "Quarters: booked to date (complete months plus the current month so far, the pipeline "
    "section's closed so far) plus a forecast of the rest: the current month counts no less "
    "than it has booked, so a quarter is never expected below what is booked; the quarter's "
    "range adds the months' bounds, which is cautious (it assumes the months miss in the same "
    "direction).",
    "Pipeline: a logistic regression on stage, days in stage, age, deal size, past slips, "
    "forecast category and close date, trained on deals open in earlier snapshots and what "
    "became of them; all regions train one model, so regional and company numbers agree.",
)


def method_appendix(report: ForecastReport) -> narrative.Html:
    """The method in plain words, plus the pipeline model's own notes."""
    items = list(METHOD_TEXT)
    notes = report.table("an_pipeline_quarter_notes").sort_values("note_number")
    items.extend(str(note) for note in notes["note"])
    body = "".join(f"<li>{html.escape(str(t))}</li>" for t in items)
    return narrative.Html(f"<ul>{body}</ul>")
