"""Charts of the performance report, in the house style of :mod:`salesops_lib.reports.charts`.

Every function takes a :class:`~salesops_lib.reports.performance.diagnosis.Diagnosis` and returns
a :class:`~salesops_lib.reports.charts.PngFigure` whose title states the finding, or an HTML
sentence: what data would enable the chart (:func:`~salesops_lib.reports.base.needs`) or why
there is nothing to draw.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from salesops_lib.analytics.performance.velocity import FACTORS
from salesops_lib.core.frames import to_cents
from salesops_lib.reports import charts, missing_data, narrative
from salesops_lib.reports.charts import HOUSE_COLORS, HOUSE_RC, PngFigure, money_formatter
from salesops_lib.reports.narrative import format_money, format_pct
from salesops_lib.reports.performance.diagnosis import Diagnosis, pvm_missing_sentence, section_gap

UP, DOWN, TOTAL = "#029e73", "#d55e00", "#0173b2"
"""Waterfall colours: rises, falls, start/end totals."""

MAX_REPS_SHOWN = 30


_missing = missing_data.missing_note
_plain = charts.plain_labels
_axes = charts.new_axes


def attainment_title(diagnosis: Diagnosis) -> str:
    """Title: how many reps are at or above 100% and where the team stands."""
    d = diagnosis.distribution.iloc[0]
    team = diagnosis.region_attainment["attainment"].iloc[0]
    return (
        f"{round(d['share_at_or_above_100'] * d['reps_with_quota'])} of "
        f"{int(d['reps_with_quota'])} reps at or above 100% of quota "
        f"{diagnosis.data.period_label}; team at {format_pct(team)}"
    )


def attainment_chart(diagnosis: Diagnosis) -> PngFigure | narrative.Html:
    """Horizontal bars of rep attainment for the period with a line at 100%."""
    if gap := section_gap(diagnosis, "attainment", "the rep attainment chart"):
        return gap
    reps = diagnosis.rep_attainment.dropna(subset=["attainment"])
    if reps.empty:
        return _missing("No rep has a quota this period: load quotas to chart attainment.")
    shown = reps.sort_values("attainment").tail(MAX_REPS_SHOWN)
    with mpl.rc_context(HOUSE_RC | {"axes.grid.axis": "x"}):
        figure, axes = _axes(height=max(3.0, 0.22 * len(shown) + 1.2))
        colours = [UP if a >= 1 else (DOWN if a < 0.5 else TOTAL) for a in shown["attainment"]]
        axes.barh(np.arange(len(shown)), shown["attainment"], color=colours)
        axes.set_yticks(np.arange(len(shown)), _plain(shown["rep_name"]))
        axes.axvline(1.0, color="#444444", linestyle="--", linewidth=1)
        axes.set_title(attainment_title(diagnosis), parse_math=False)
        axes.set_xlabel(f"Attainment {diagnosis.data.period_label} (% of quota)")
        axes.set_ylabel("Rep")
        axes.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    return PngFigure(figure)


def waterfall_title(diagnosis: Diagnosis) -> str:
    """Title: the pipeline's change and its largest flow."""
    amounts = diagnosis.waterfall.set_index("category")["amount"]
    start, end = float(amounts["start"]), float(amounts["end"])
    flows = amounts.drop(["start", "end"])
    verb = "grew" if end > start else ("shrank" if end < start else "held")
    text = f"Pipeline due this period {verb} from {format_money(start)} to {format_money(end)}"
    if (flows != 0).any():
        biggest = flows.abs().idxmax()
        text += f"; largest flow: {str(biggest).replace('_', ' ')} {format_money(flows[biggest])}"
    return text


def waterfall_chart(diagnosis: Diagnosis) -> PngFigure | narrative.Html:
    """Start bar, one floating bar per flow, end bar."""
    if gap := section_gap(diagnosis, "waterfall", "the pipeline change waterfall"):
        return gap
    bars = diagnosis.waterfall
    if bars.empty:
        return _missing(
            "There is no earlier snapshot: a second weekly snapshot would enable the waterfall."
        )
    cents = to_cents(bars["amount"]).to_numpy()
    labels, bottoms, heights, colours = [], [], [], []
    level = 0
    for category, amount in zip(bars["category"], cents, strict=True):
        labels.append(str(category).replace("_", " "))
        if category in ("start", "end"):
            bottoms.append(0)
            heights.append(amount)
            colours.append(TOTAL)
            level = amount
        else:
            bottoms.append(level if amount >= 0 else level + amount)
            heights.append(abs(amount))
            colours.append(UP if amount >= 0 else DOWN)
            level += amount
    with mpl.rc_context(HOUSE_RC):
        figure, axes = _axes()
        axes.bar(
            labels,
            np.asarray(heights) / 100,
            bottom=np.asarray(bottoms) / 100,
            color=colours,
            width=0.7,
        )
        axes.set_title(waterfall_title(diagnosis), parse_math=False)
        axes.set_xlabel(
            f"Flow from the {diagnosis.data.compare_to} snapshot to the {diagnosis.data.as_of} "
            "snapshot (definitions in the appendix)"
        )
        axes.set_ylabel("Open pipeline due in the period (USD)")
        axes.yaxis.set_major_formatter(money_formatter())
        axes.tick_params(axis="x", labelrotation=30)
    return PngFigure(figure)


def bottleneck_title(diagnosis: Diagnosis) -> str:
    """Title: the flagged stage(s) or that none is flagged."""
    tests = diagnosis.bottlenecks
    flagged = tests[tests["is_bottleneck"]] if len(tests) else tests
    if flagged.empty:
        return "No stage is significantly slower or weaker than the rest of the company"
    first = flagged.iloc[0]
    parts = []
    if first["is_slow"]:
        parts.append(f"takes {first['time_ratio']:.1f}x as long")
    if first["is_weak"]:
        parts.append(
            f"converts {format_pct(first['conversion_group'])} "
            f"(rest: {format_pct(first['conversion_rest'])})"
        )
    more = f" (+{len(flagged) - 1} more)" if len(flagged) > 1 else ""
    return f"Bottleneck: {first['stage']} in {first['region_id']} {' and '.join(parts)}{more}"


def bottleneck_chart(diagnosis: Diagnosis) -> PngFigure | narrative.Html:
    """Median days in each open stage: the region against the rest of the company."""
    if gap := section_gap(diagnosis, "funnel", "the time in stage chart"):
        return gap
    tests = diagnosis.bottlenecks
    if tests.empty:
        return _missing("Time in stage needs opportunity stage history.")
    if diagnosis.data.context.is_company:
        wide = tests.pivot(index="stage", columns="region_id", values="time_ratio")
        wide = wide.reindex(list(diagnosis.data.stages.open_stages))
        with mpl.rc_context(HOUSE_RC):
            figure, axes = _axes()
            palette = charts.region_palette(diagnosis.data.context.region_ids)
            width = 0.8 / max(len(wide.columns), 1)
            x = np.arange(len(wide.index))
            for i, region in enumerate(wide.columns):
                axes.bar(
                    x + i * width, wide[region], width, color=palette.get(region), label=region
                )
            axes.set_xticks(x + 0.4 - width / 2, wide.index)
            axes.axhline(1.0, color="#444444", linestyle="--", linewidth=1)
            axes.set_ylabel("Median days / rest of company (ratio)")
            axes.legend(title="Region", loc="upper left", bbox_to_anchor=(1.0, 1.0))
            axes.set_title(bottleneck_title(diagnosis), parse_math=False)
            axes.set_xlabel("Stage")
        return PngFigure(figure)
    x = np.arange(len(tests))
    with mpl.rc_context(HOUSE_RC):
        figure, axes = _axes()
        axes.bar(
            x - 0.2,
            tests["median_days_group"],
            0.4,
            color=HOUSE_COLORS[0],
            label=diagnosis.data.context.region_name,
        )
        axes.bar(
            x + 0.2, tests["median_days_rest"], 0.4, color=HOUSE_COLORS[-1], label="Rest of company"
        )
        axes.set_xticks(x, tests["stage"])
        for i, flagged in enumerate(tests["is_bottleneck"]):
            if flagged:
                top = np.nanmax([tests["median_days_group"].iloc[i], 0])
                axes.annotate("bottleneck", (i - 0.2, top), ha="center", va="bottom", color=DOWN)
        axes.set_title(bottleneck_title(diagnosis), parse_math=False)
        axes.set_xlabel("Stage")
        axes.set_ylabel("Median days in stage (days)")
        axes.legend(loc="upper left")
    return PngFigure(figure)


def velocity_title(diagnosis: Diagnosis) -> str:
    """Title: the velocity change and the factor that moved it most."""
    row = diagnosis.velocity_change.iloc[0]
    if pd.isna(row["change"]):
        return "Velocity cannot be compared: a period has no closed or won deal"
    parts = {f: row[f"contribution_{f}"] for f in FACTORS}
    main = max(parts, key=lambda f: abs(parts[f]))
    verb = "rose" if row["change"] > 0 else "fell"
    return (
        f"Velocity {verb} by {format_money(abs(row['change']))} a day to "
        f"{format_money(row['velocity_current'])}; mostly {main.replace('_', ' ')} "
        f"({format_money(parts[main])})"
    )


def velocity_chart(diagnosis: Diagnosis) -> PngFigure | narrative.Html:
    """Contribution of each factor to the change of velocity (they sum to the change)."""
    if gap := section_gap(diagnosis, "velocity", "the velocity chart"):
        return gap
    change = diagnosis.velocity_change
    if change.empty or pd.isna(change["change"].iloc[0]):
        return _missing(
            "Velocity needs won and closed deals in both periods; none in one of them here."
        )
    row = change.iloc[0]
    names = ["open deals", "win rate", "average deal", "cycle length"]
    values = [row[f"contribution_{f}"] for f in FACTORS]
    colours = [UP if v >= 0 else DOWN for v in values]
    with mpl.rc_context(HOUSE_RC):
        figure, axes = _axes(height=3.4)
        axes.bar([*names, "total change"], [*values, row["change"]], color=[*colours, TOTAL])
        axes.axhline(0, color="#444444", linewidth=0.8)
        axes.set_title(velocity_title(diagnosis), parse_math=False)
        axes.set_xlabel("Factor (Shapley contribution)")
        axes.set_ylabel("Change of velocity (USD per day)")
        axes.yaxis.set_major_formatter(money_formatter())
    return PngFigure(figure)


def anomaly_title(diagnosis: Diagnosis) -> str:
    """Title: how many weeks are flagged and the latest one."""
    flagged = diagnosis.anomalies[diagnosis.anomalies["is_anomaly"]]
    weeks = diagnosis.anomalies["order_week"].nunique()
    if flagged.empty:
        return f"No anomalous week in {weeks} weeks of bookings"
    last = flagged.sort_values("order_week").iloc[-1]
    return (
        f"{len(flagged)} anomalous week(s) in {weeks} weeks; latest: {last['direction']} in "
        f"the week of {last['order_week']:%Y-%m-%d} ({last['region_id']})"
    )


def anomaly_chart(diagnosis: Diagnosis) -> PngFigure | narrative.Html:
    """Weekly bookings against the expected baseline, flagged weeks marked."""
    if gap := section_gap(diagnosis, "anomalies", "the weekly bookings chart"):
        return gap
    scored = diagnosis.anomalies
    if scored.empty:
        return _missing("Weekly bookings need order lines.")
    weekly = scored.groupby("order_week")[["bookings_amount", "baseline"]].sum(min_count=1)
    flagged = scored[scored["is_anomaly"]]
    with mpl.rc_context(HOUSE_RC):
        figure, axes = _axes()
        axes.plot(
            weekly.index,
            weekly["bookings_amount"],
            color=HOUSE_COLORS[0],
            linewidth=1,
            label="Bookings",
        )
        axes.plot(
            weekly.index,
            weekly["baseline"],
            color=HOUSE_COLORS[-1],
            linewidth=1,
            linestyle="--",
            label="Expected",
        )
        if len(flagged):
            axes.scatter(
                flagged["order_week"],
                flagged["bookings_amount"],
                color=DOWN,
                zorder=3,
                label="Flagged week",
            )
        axes.set_title(anomaly_title(diagnosis), parse_math=False)
        axes.set_xlabel("Week")
        axes.set_ylabel("Bookings per week (USD)")
        axes.yaxis.set_major_formatter(money_formatter())
        axes.legend(loc="upper left")
    return PngFigure(figure)


def pvm_title(diagnosis: Diagnosis) -> str:
    """Title: the bookings change and its largest effect."""
    columns = ("volume_effect", "mix_effect", "price_effect", "total_variance")
    totals = {c: float(diagnosis.pvm[c].sum()) for c in columns}
    effects = {k: v for k, v in totals.items() if k != "total_variance"}
    main = max(effects, key=lambda k: abs(effects[k]))
    verb = "up" if totals["total_variance"] >= 0 else "down"
    return (
        f"Bookings {verb} {format_money(abs(totals['total_variance']))} on a year earlier; "
        f"largest effect: {main.split('_')[0]} {format_money(effects[main])}"
    )


def pvm_chart(diagnosis: Diagnosis) -> PngFigure | narrative.Html:
    """Price, volume and mix effect per product family (stacked), against a year earlier."""
    if gap := section_gap(diagnosis, "pvm", "the price, volume and mix chart"):
        return gap
    pvm = diagnosis.pvm
    if pvm.empty:
        return _missing(pvm_missing_sentence(diagnosis))
    effects = ["volume_effect", "mix_effect", "price_effect"]
    x = np.arange(len(pvm))
    with mpl.rc_context(HOUSE_RC):
        figure, axes = _axes()
        for i, effect in enumerate(effects):
            axes.bar(
                x + (i - 1) * 0.27,
                pvm[effect],
                0.27,
                color=HOUSE_COLORS[i],
                label=effect.split("_")[0],
            )
        axes.axhline(0, color="#444444", linewidth=0.8)
        axes.set_xticks(x, _plain(pvm["product_family"]), rotation=20)
        axes.set_title(pvm_title(diagnosis), parse_math=False)
        axes.set_xlabel("Product family")
        axes.set_ylabel("Effect on bookings (USD)")
        axes.yaxis.set_major_formatter(money_formatter())
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return PngFigure(figure)
