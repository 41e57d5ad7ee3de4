"""What the report shows of the pipeline-based quarter forecast: sentences, tables, a chart.

Every function takes the :class:`~salesops_lib.reports.forecast.load.ForecastReport` and shows
its scope's rows of the store's pipeline tables (``an_pipeline_quarter_components``,
``an_deal_win_probabilities``, ``an_win_model_*``), or the sentence saying which data is missing.
A regional report's tables hold its own region only; the company report lists every region.
Region names come from the snapshot (untrusted) and are escaped; tables escape all text.
"""

from __future__ import annotations

import html
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from salesops_lib.core.config import configured_stage_model
from salesops_lib.reports import charts, narrative
from salesops_lib.reports.base import needs
from salesops_lib.reports.forecast.load import ForecastReport

TOP_DEALS = 10
ENABLES = "the pipeline-based quarter forecast"


def _missing(report: ForecastReport) -> narrative.Html | None:
    """The missing-data sentence of the pipeline section, or ``None`` when it has data."""
    if report.has_pipeline:
        return None
    gap = needs(report.context, ["opportunities"], ENABLES)
    return gap or narrative.Html(f'<p class="missing">There is no data for {ENABLES}.</p>')


def _share(value: float, of: float) -> str:
    return narrative.format_pct(value / of) if of > 0 else "n/a"


def pipeline_summary(report: ForecastReport) -> narrative.Html:
    """One paragraph: expected bookings with range, commit / best case, against quota and target."""
    if (gap := _missing(report)) is not None:
        return gap
    row = report.pipeline
    assert row is not None
    money = narrative.format_money
    quarter = pd.Timestamp(row["quarter_start"])
    name = html.escape(report.context.region_name)
    text = (
        f"<p><b>{name}, {quarter.year}-Q{quarter.quarter}: expected bookings "
        f"{money(row['expected'])}"
    )
    if not pd.isna(row["p10"]):
        text += f" (80% range {money(row['p10'])} to {money(row['p90'])})"
    text += (
        f"</b>, {_share(row['expected'], row['target'])} of the {money(row['target'])} "
        f"target and {_share(row['expected'], row['quota'])} of the {money(row['quota'])} "
        f"quota. Closed so far {money(row['closed_so_far'])}; commit {money(row['commit'])}, "
        f"best case {money(row['best_case'])}.</p>"
    )
    return narrative.Html(text)


def pipeline_table(report: ForecastReport) -> charts.DisplayTable | narrative.Html:
    """Closed so far, commit, best case, expected and the range against quota and target."""
    if (gap := _missing(report)) is not None:
        return gap
    row = report.pipeline
    assert row is not None
    rows = [("Closed so far", row["closed_so_far"]), ("Commit", row["commit"]),
            ("Best case", row["best_case"]), ("Expected", row["expected"])]  # fmt: skip
    for key, label in (("p10", "Low (P10)"), ("p50", "Median (P50)"), ("p90", "High (P90)")):
        if not pd.isna(row[key]):
            rows.append((label, row[key]))
    table = pd.DataFrame(rows, columns=["measure", "amount"])
    quota = row["quota"] if row["quota"] > 0 else np.nan
    target = row["target"] if row["target"] > 0 else np.nan
    table = table.assign(
        of_quota=table["amount"] / quota,
        of_target=table["amount"] / target,
        gap_to_target=table["amount"] - row["target"],
    )
    return charts.format_table(
        table,
        money=["amount", "gap_to_target"],
        pct=["of_quota", "of_target"],
        labels={
            "measure": "Measure",
            "amount": "Amount",
            "of_quota": f"% of quota ({narrative.format_money(row['quota'])})",
            "of_target": f"% of target ({narrative.format_money(row['target'])})",
            "gap_to_target": "Gap to target",
        },
    )


COMPONENT_COLUMNS = ["closed_so_far", "pipeline_expected", "run_rate", "expected", "p10", "p90",
                     "commit", "best_case", "quota", "target"]  # fmt: skip


def pipeline_components_table(report: ForecastReport) -> charts.DisplayTable | narrative.Html:
    """Where the expected number comes from: the report's region, or every region and the total.

    A regional report shows its own row only; the company report one row per region plus
    ``all``.
    """
    if (gap := _missing(report)) is not None:
        return gap
    rows = report.table("an_pipeline_quarter_components")
    order = {region: i for i, region in enumerate(sorted(report.region_names))}
    rows = rows.assign(_order=rows["region_id"].map(order).fillna(len(order)))
    rows = rows.sort_values(["_order", "region_id"])
    names = {**report.region_names, "all": "All regions"}
    table = rows.assign(region=rows["region_id"].map(names).fillna(rows["region_id"]))
    return charts.format_table(
        table[["region", *COMPONENT_COLUMNS]],
        money=COMPONENT_COLUMNS,
        labels={"region": "Region", "closed_so_far": "Closed so far",
                "pipeline_expected": "Pipeline (expected)", "run_rate": "Run-rate",
                "expected": "Expected", "p10": "P10", "p90": "P90", "commit": "Commit",
                "best_case": "Best case", "quota": "Quota", "target": "Target"},
    )  # fmt: skip


def pipeline_deals_table(report: ForecastReport, n: int = TOP_DEALS) -> Any:
    """The open deals with the largest expected value (probability x amount)."""
    if (gap := _missing(report)) is not None:
        return gap
    deals = report.table("an_deal_win_probabilities").sort_values("deal_rank").head(n)
    columns = ["opportunity_id", "region_id", "stage", "forecast_category", "amount",
               "close_date", "push_count", "probability", "expected_value"]  # fmt: skip
    table = deals[columns].assign(close_date=deals["close_date"].dt.strftime("%Y-%m-%d"))
    return charts.format_table(
        table,
        money=["amount", "expected_value"],
        pct=["probability"],
        counts=["push_count"],
        labels={"opportunity_id": "Opportunity", "region_id": "Region", "stage": "Stage",
                "forecast_category": "Category", "amount": "Amount", "close_date": "Close date",
                "push_count": "Pushes", "probability": "Win probability",
                "expected_value": "Expected value"},
    )  # fmt: skip


def calibration_note(report: ForecastReport) -> narrative.Html:
    """How good the win probabilities have been: Brier score against the stage-only baseline."""
    if (gap := _missing(report)) is not None:
        return gap
    win = report.win_model
    assert win is not None
    note = html.escape(str(win["method_note"]))
    if pd.isna(win["brier_model"]):
        return narrative.Html(f"<p>{note}</p>")
    model, stage = float(win["brier_model"]), float(win["brier_stage_only"])
    relative = 1 - model / stage if stage > 0 else 0.0
    verdict = f"{relative:.0%} better than" if model < stage else "no better than"
    return narrative.Html(
        f"<p>Win probabilities (closing won within {int(win['horizon_days'])} days, the rest "
        f"of the quarter) scored a Brier score of {model:.3f} on {int(win['n_examples']):,} "
        f"past examples ({int(win['n_deals']):,} deals, out of fold), {verdict} the stage-only "
        f"baseline ({stage:.3f}). The model is trained on every region's deals. {note}</p>"
    )


def calibration_chart(report: ForecastReport) -> charts.PngFigure | narrative.Html:
    """Reliability curve: observed win rate against predicted probability, dot size = examples."""
    if (gap := _missing(report)) is not None:
        return gap
    table = report.table("an_win_model_reliability").sort_values("bin_lower")
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


def slip_table(report: ForecastReport) -> charts.DisplayTable | narrative.Html:
    """Win probability by number of pushes: the model's (partial dependence) and history's."""
    if (gap := _missing(report)) is not None:
        return gap
    slips = report.table("an_win_model_slips").sort_values("push_count")
    modelled = slips["mean_probability"].notna().any()
    columns = ["push_count", *(["mean_probability", "mean_probability_negotiation"]
                               if modelled else []), "closed", "win_rate"]  # fmt: skip
    pct = [c for c in columns if c not in ("push_count", "closed")]
    stage = configured_stage_model().last_open_stage  # = the snapshot's (the warehouse checks)
    table = slips[columns].assign(
        push_count=slips["push_count"].map(lambda k: f"{k}+" if k >= 3 else str(k))
    )
    return charts.format_table(
        table,
        pct=pct,
        counts=["closed"],
        labels={"push_count": "Pushes",
                "mean_probability": "Model: win probability (all open deals)",
                "mean_probability_negotiation": f"Model: in {stage}",
                "closed": f"Closed deals that reached {stage}",
                "win_rate": "Their win rate"},
    )  # fmt: skip
