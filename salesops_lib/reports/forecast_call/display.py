"""What the forecast call notebook shows: summary, tables, the pacing chart, headlines.

Names (reps, managers, regions) and managers' notes are untrusted text: tables go through
:class:`~salesops_lib.reports.charts.DisplayTable` (escaped HTML), sentences through
:func:`~salesops_lib.reports.narrative.bullet_list` / ``paragraph`` (escaped).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from salesops_lib.analytics.forecast_call import movement
from salesops_lib.analytics.forecast_call.accuracy import OVER_CALLER, SANDBAGGER
from salesops_lib.reports import charts, narrative
from salesops_lib.reports.base import Headlines, headline_base, needs, report_provenance
from salesops_lib.reports.forecast_call.compute import ForecastCall

NOTEBOOK = "15-forecast-call"
SECTION_NEEDS: dict[str, tuple[str, ...]] = {
    "pipeline": ("opportunities",),
    "statistical": ("order_lines",),
    "movement": ("opportunities",),
    "accuracy": ("order_lines",),
    "pacing": ("order_lines", "opportunities"),
}
"""Snapshot tables each section needs: scored calls and pacing need what was booked, the
flow matrix and pacing's commit and best case need the deals."""
_NO_CALLS = (
    "No forecast calls were submitted for this week: reps and managers submit with "
    "`salesops submit FILE` or by dropping a CSV/YAML file into submissions/<week>/."
)


def _gap(call: ForecastCall, section: str, enables: str) -> narrative.Html | None:
    """The missing-data sentence of one section (:data:`SECTION_NEEDS`), or ``None``."""
    return needs(call.data.context, SECTION_NEEDS[section], enables)


def _money(value: float | None) -> str:
    return narrative.format_money(value)


def _change(now: dict[str, float], before: dict[str, float], key: str) -> float | None:
    if key not in now or key not in before:
        return None
    return now[key] - before[key]


def _who(call: ForecastCall, person: str) -> str:
    return f"{call.names.get(person, person)} ({person})"


def _flagged(call: ForecastCall, flag: str) -> list[str]:
    rows = call.records[call.records["flag"] == flag]
    return sorted(rows["person_id"])


def summary_sentences(call: ForecastCall) -> list[str]:
    """The executive summary: the number, its change, other views, flags, movement, pacing."""
    label = call.data.quarter[0]
    sentences = []
    n = call.number
    if n:
        sentences.append(
            f"The call for {label}: commit {_money(n['team_commit'])}, most likely "
            f"{_money(n['team_most_likely'])}, best case {_money(n['team_best_case'])} "
            f"(managers' numbers; the reps' own calls add up to commit "
            f"{_money(n['reps_commit'])})."
        )
        if call.number_before:
            change = _change(n, call.number_before, "team_commit")
            best = _change(n, call.number_before, "team_best_case")
            sentences.append(
                f"Since last week ({call.data.previous_week}): commit "
                f"{'+' if (change or 0) >= 0 else ''}{_money(change)}, best case "
                f"{'+' if (best or 0) >= 0 else ''}{_money(best)}."
            )
        weighted = call.weighted["weighted_commit"].sum()
        sentences.append(
            f"Weighted by each rep's record, the reps' commit is {_money(weighted)} "
            f"(as called: {_money(call.weighted['commit'].sum())})."
        )
    else:
        sentences.append(_NO_CALLS)
    if not call.data.pipeline.empty:
        pipe = call.data.pipeline.iloc[0]
        if pd.isna(pipe["expected"]):
            sentences.append(
                f"The pipeline-based forecast: commit {_money(pipe['commit'])}, best case "
                f"{_money(pipe['best_case'])} (no expected number: not enough deal history "
                "to learn win probabilities from)."
            )
        else:
            sentences.append(
                f"The pipeline-based forecast expects {_money(pipe['expected'])} "
                f"(commit {_money(pipe['commit'])}, best case {_money(pipe['best_case'])})."
            )
    if not call.data.statistical.empty:
        stat = call.data.statistical.iloc[0]
        sentences.append(
            f"The statistical forecast is {_money(stat['forecast'])} (80% range "
            f"{_money(stat['low_80'])} to {_money(stat['high_80'])})."
        )
    for flag, words in ((SANDBAGGER, "calls well below"), (OVER_CALLER, "calls well above")):
        for person in _flagged(call, flag):
            bias = call.records.set_index("person_id").loc[person, "record_bias"]
            sentences.append(
                f"Flagged {flag}: {_who(call, person)} {words} what they book "
                f"(bias {narrative.format_change(bias)} on closed quarters)."
            )
    if not call.pacing.empty and _gap(call, "pacing", "pacing") is None:
        last = call.pacing.iloc[-1]
        mean = last.get("earlier_mean_closed")
        sentences.append(
            f"Closed so far {_money(last['closed'])} in week {int(last['week_of_quarter'])} of "
            f"the quarter, against {_money(mean)} on average at the same point of earlier "
            f"quarters."
        )
    return sentences


def summary_html(call: ForecastCall) -> narrative.Html:
    """The executive summary as an escaped HTML list."""
    return narrative.bullet_list(summary_sentences(call))


def number_table(call: ForecastCall) -> charts.DisplayTable | narrative.Html:
    """The number: each view of the quarter side by side (call, reps, weighted, pipeline, stats)."""
    rows: list[tuple[str, float | None, float | None, float | None]] = []
    n, b = call.number, call.number_before
    if n:
        for kind, label in (("team", "call (managers' numbers)"), ("reps", "reps' own calls")):
            rows.append((label, n[f"{kind}_commit"], n[f"{kind}_most_likely"],
                         n[f"{kind}_best_case"]))  # fmt: skip
        if b:
            rows.append(("call last week", b["team_commit"], b["team_most_likely"],
                         b["team_best_case"]))  # fmt: skip
        rows.append(("reps' commits weighted by record", call.weighted["weighted_commit"].sum(),
                     None, None))  # fmt: skip
    if not call.data.pipeline.empty:
        p = call.data.pipeline.iloc[0]
        rows.append(("pipeline-based forecast", p["commit"], p["expected"], p["best_case"]))
    if not call.data.statistical.empty:
        s = call.data.statistical.iloc[0]
        rows.append(("statistical forecast (80% range)", s["low_80"], s["forecast"],
                     s["high_80"]))  # fmt: skip
    gaps = [
        gap.markup
        for section, enables in (
            ("pipeline", "the pipeline-based quarter forecast"),
            ("statistical", "the statistical quarter forecast"),
        )
        if (gap := _gap(call, section, enables)) is not None
    ]
    if not rows:
        return narrative.Html("".join(gaps)) if gaps else narrative.paragraph(_NO_CALLS)
    table = pd.DataFrame(rows, columns=["view", "commit / low", "most likely", "best case / high"])
    shown = charts.format_table(table, money=["commit / low", "most likely", "best case / high"])
    return narrative.Html(shown._repr_html_() + "".join(gaps)) if gaps else shown


def region_table(call: ForecastCall) -> charts.DisplayTable | narrative.Html:
    """The call per region (the company view) or the region's single row."""
    if call.regions.empty:
        return narrative.paragraph(_NO_CALLS)
    table = call.regions[["region_id", "team_commit", "team_most_likely", "team_best_case",
                          "reps_commit", "overrides"]]  # fmt: skip
    return charts.format_table(
        table,
        money=["team_commit", "team_most_likely", "team_best_case", "reps_commit"],
        counts=["overrides"],
        labels={"region_id": "region", "team_commit": "commit", "team_most_likely": "most likely",
                "team_best_case": "best case", "reps_commit": "reps' commit",
                "overrides": "manager overrides"},
    )  # fmt: skip


def overrides_table(call: ForecastCall) -> charts.DisplayTable | narrative.Html:
    """Each manager's override beside the sum of their reps' calls, with the note."""
    if call.managers.empty:
        return narrative.paragraph(_NO_CALLS)
    m = call.managers.assign(
        manager=call.managers["manager_id"].map(lambda p: _who(call, p)),
        difference=call.managers["override_commit"] - call.managers["reps_commit"],
        note=call.managers["override_note"].fillna(""),
    )
    table = m[["manager", "region_id", "reps_called", "team_size", "reps_commit",
               "override_commit", "difference", "team_commit", "note"]]  # fmt: skip
    return charts.format_table(
        table,
        money=["reps_commit", "override_commit", "difference", "team_commit"],
        counts=["reps_called", "team_size"],
        labels={"region_id": "region", "reps_called": "reps who called",
                "team_size": "reps", "reps_commit": "sum of reps' commits",
                "override_commit": "manager override", "team_commit": "team number"},
    )  # fmt: skip


def reps_table(call: ForecastCall) -> charts.DisplayTable | narrative.Html:
    """Who committed what this week, biggest change since last week first."""
    if call.reps.empty:
        return narrative.paragraph(_NO_CALLS)
    r = call.reps.merge(
        call.records[["person_id", "record_bias", "flag"]].rename(columns={"person_id": "rep_id"}),
        on="rep_id",
        how="left",
    )
    r = r.assign(
        rep=r["rep_id"].map(lambda p: _who(call, p)),
        flag=r["flag"].fillna(""),
        order=r["commit_change"].abs().fillna(0),
    ).sort_values(["order", "rep_id"], ascending=[False, True])
    table = r[["rep", "called_by", "commit", "most_likely", "best_case", "commit_before",
               "commit_change", "record_bias", "flag"]]  # fmt: skip
    return charts.format_table(
        table,
        money=["commit", "most_likely", "best_case", "commit_before", "commit_change"],
        changes=["record_bias"],
        labels={"called_by": "called by", "most_likely": "most likely",
                "best_case": "best case", "commit_before": "commit last week",
                "commit_change": "change", "record_bias": "bias on record"},
    )  # fmt: skip


def accuracy_table(call: ForecastCall) -> charts.DisplayTable | narrative.Html:
    """Each submitter's scored closed quarters: error, bias, how early right, flag."""
    gap = _gap(call, "accuracy", "scoring earlier calls against what was booked")
    if gap is not None:
        return gap
    if call.scores.empty:
        return narrative.paragraph(
            "No closed quarter has calls yet: accuracy is scored once a called quarter closes."
        )
    s = call.scores.assign(
        submitter=call.scores["person_id"].map(lambda p: _who(call, p)),
        right_from=call.scores["right_from"].map(
            lambda d: "never" if pd.isna(d) else pd.Timestamp(d).date().isoformat()
        ),
        weeks_ahead=call.scores["weeks_ahead"].map(lambda w: "" if pd.isna(w) else f"{int(w)}"),
        order=call.scores["bias"].abs(),
    ).sort_values(["order", "person_id"], ascending=[False, True])
    table = s[["submitter", "role", "quarter", "weeks_called", "actual", "last_call",
               "mean_abs_error", "bias", "right_from", "weeks_ahead", "flag"]]  # fmt: skip
    return charts.format_table(
        table,
        money=["actual", "last_call"],
        pct=["mean_abs_error"],
        changes=["bias"],
        counts=["weeks_called"],
        labels={"weeks_called": "weeks called", "actual": "booked", "last_call": "last commit",
                "mean_abs_error": "mean abs. error", "right_from": "within 10% from",
                "weeks_ahead": "weeks before quarter end"},
    )  # fmt: skip


def flow_table(call: ForecastCall, value: str = "deals") -> charts.DisplayTable | narrative.Html:
    """The forecast-category flow matrix since the previous snapshot (deals or money)."""
    gap = _gap(call, "movement", "the pipeline flow matrix")
    if gap is not None:
        return gap
    if call.data.previous_week is None:
        return narrative.paragraph("No earlier snapshot: the flow matrix needs two.")
    matrix = movement.flow_matrix(call.flows, value).rename(
        columns={"from_category": f"from ({call.data.previous_week}) / to"}
    )
    to = list(movement.TO_ORDER)
    return charts.format_table(matrix, money=to if value == "amount" else (),
                               counts=to if value == "deals" else ())  # fmt: skip


def movement_sentences(call: ForecastCall) -> narrative.Html:
    """The biggest flows of the week in words."""
    gap = _gap(call, "movement", "the week's pipeline movement")
    if gap is not None:
        return gap
    if call.data.previous_week is None or call.flows.empty:
        return narrative.paragraph("No pipeline movement to show.")
    f = call.flows
    moved = f[f["from_category"] != f["to_category"]]
    groups = moved.groupby(["from_category", "to_category"])["amount"].agg(["size", "sum"])
    top = groups.sort_values(["sum", "size"], ascending=False).head(4)
    sentences = [
        f"{int(r['size'])} deal(s) worth {_money(r['sum'])} moved from {a} to {b}."
        for (a, b), r in top.iterrows()
    ]
    return narrative.bullet_list(sentences or ["No deal changed category this week."])


def pacing_chart(call: ForecastCall) -> charts.PngFigure | narrative.Html:
    """Closed, commit and best case by week of the quarter against earlier quarters."""
    gap = _gap(call, "pacing", "the pacing chart against earlier quarters")
    if gap is not None:
        return gap
    if call.pacing.empty:
        return narrative.paragraph("No snapshot of this quarter yet: pacing needs one.")
    p = call.pacing
    figure, axes = charts.new_axes()
    for column in [c for c in p.columns if c.startswith("closed 2") or c.startswith("closed 1")]:
        axes.plot(p["week_of_quarter"], p[column], color="#bbbbbb", marker=".", lw=1,
                  label=column)  # fmt: skip
    axes.plot(p["week_of_quarter"], p["closed"], color="#1f4e79", marker="o", label="closed")
    axes.plot(p["week_of_quarter"], p["commit"], color="#2e8b57", ls="--", label="commit")
    axes.plot(p["week_of_quarter"], p["best_case"], color="#e69f00", ls=":", label="best case")
    last = p.iloc[-1]
    mean = last["earlier_mean_closed"]
    ahead = "ahead of" if mean is not None and last["closed"] >= mean else "behind"
    axes.set_title(f"{call.data.quarter[0]} closed is {ahead} earlier quarters at this point")
    axes.set_xlabel("week of the quarter")
    axes.set_ylabel("amount")
    axes.yaxis.set_major_formatter(charts.money_formatter())
    axes.legend(loc="upper left", fontsize=8)
    return charts.PngFigure(figure)


def pacing_table(call: ForecastCall) -> charts.DisplayTable | narrative.Html:
    """The pacing numbers behind the chart."""
    gap = _gap(call, "pacing", "the pacing table")
    if gap is not None:
        return gap
    if call.pacing.empty:
        return narrative.paragraph("No snapshot of this quarter yet.")
    p = call.pacing.assign(week=call.pacing["week"].dt.date.astype(str))
    money = [c for c in p.columns if c not in ("week", "week_of_quarter", "offset")]
    labels = {"week_of_quarter": "week of quarter", "earlier_mean_closed": "earlier mean"}
    return charts.format_table(p.drop(columns="offset"), money=money, labels=labels)


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 2)


def headline_numbers(call: ForecastCall) -> dict[str, Any]:
    """The report's headline numbers (plain JSON values) for the runner and the cockpit."""
    n, b = call.number, call.number_before
    pipe = call.data.pipeline.iloc[0] if not call.data.pipeline.empty else {}
    stat = call.data.statistical.iloc[0] if not call.data.statistical.empty else {}
    paced = not call.pacing.empty and _gap(call, "pacing", "pacing") is None
    last = call.pacing.iloc[-1] if paced else {}
    return {
        **headline_base(call.data.context),
        "quarter": call.data.quarter[0],
        "compare_to": None if call.data.previous_week is None else str(call.data.previous_week),
        "call_commit": _num(n.get("team_commit")),
        "call_most_likely": _num(n.get("team_most_likely")),
        "call_best_case": _num(n.get("team_best_case")),
        "call_commit_change": _num(_change(n, b, "team_commit")),
        "call_best_case_change": _num(_change(n, b, "team_best_case")),
        "reps_commit": _num(n.get("reps_commit")),
        "weighted_commit": _num(call.weighted["weighted_commit"].sum()) if n else None,
        "pipeline_expected": _num(pipe.get("expected")) if len(pipe) else None,
        "statistical_forecast": _num(stat.get("forecast")) if len(stat) else None,
        "closed_to_date": _num(last.get("closed")) if len(last) else None,
        "sandbaggers": _flagged(call, SANDBAGGER),
        "over_callers": _flagged(call, OVER_CALLER),
        "submission_versions": call.data.versions,
    }


def headlines(call: ForecastCall) -> Headlines:
    """The headline numbers as a display for the cell tagged ``headlines``."""
    return Headlines(headline_numbers(call))


def provenance(call: ForecastCall, **parameters: Any) -> narrative.Html:
    """The provenance block that ends the report."""
    return report_provenance(
        call.data.context, NOTEBOOK, parameters, compared_with=call.data.previous_week
    )
