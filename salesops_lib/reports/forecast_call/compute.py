"""The forecast call computed once from its data: the number, changes, flows, accuracy, pacing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from salesops_lib.analytics.forecast_call import accuracy, movement, pacing, rollup
from salesops_lib.analytics.forecast_call.quarters import quarter_end, quarter_label
from salesops_lib.data.submissions import CATEGORIES
from salesops_lib.reports.forecast_call.load import EARLIER_QUARTERS, ForecastCallData


@dataclass(frozen=True)
class ForecastCall:
    """The computed forecast call of one scope.

    Attributes:
        data: What it was computed from.
        names: Person id -> name (untrusted text).
        number: The scope's call this week (``team_<category>``: managers' numbers,
            ``reps_<category>``: reps' calls alone); empty without calls this week.
        number_before: The same at the previous snapshot (empty without).
        regions: The call per region this week (:func:`~.rollup.region_rollup`).
        managers: Each manager's team this week (:func:`~.rollup.manager_rollup`).
        reps: Each rep's number this week, with last week's commit beside it.
        scores: Each submitter's scored closed quarters (:func:`~.accuracy.score_calls`),
            with ``name`` and ``role``.
        records: Each submitter's record over the scored quarters.
        weighted: This week's reps' commits corrected by their record.
        flows: Deals in the quarter at either snapshot (:func:`~.movement.deal_flows`).
        pacing: :func:`~.pacing.pacing_table` of this quarter's snapshots.
    """

    data: ForecastCallData
    names: dict[str, str]
    number: dict[str, float]
    number_before: dict[str, float]
    regions: pd.DataFrame = field(repr=False)
    managers: pd.DataFrame = field(repr=False)
    reps: pd.DataFrame = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    records: pd.DataFrame = field(repr=False)
    weighted: pd.DataFrame = field(repr=False)
    flows: pd.DataFrame = field(repr=False)
    pacing: pd.DataFrame = field(repr=False)

    @property
    def has_calls(self) -> bool:
        """Whether anyone called this week."""
        return bool(self.number)


def _number(regions: pd.DataFrame, week: pd.Timestamp) -> dict[str, float]:
    rows = regions[regions["week"] == week]
    if rows.empty:
        return {}
    columns = [f"{k}_{c}" for k in ("team", "reps") for c in CATEGORIES]
    return {c: float(rows[c].sum()) for c in columns}


def _history(data: ForecastCallData, managers: pd.DataFrame) -> pd.DataFrame:
    """Every person's commit per week: reps' numbers and managers' team numbers."""
    reps = rollup.rep_numbers(data.calls, data.reps)
    parts = [
        reps.rename(columns={"rep_id": "person_id", "commit": "call"}),
        managers[managers["team_commit"] > 0].rename(
            columns={"manager_id": "person_id", "team_commit": "call"}
        ),
    ]
    history = pd.concat([p[["person_id", "week", "call"]] for p in parts], ignore_index=True)
    history = history.dropna(subset=["call"])
    history["quarter"] = history["week"].map(lambda w: quarter_label(pd.Timestamp(w).date()))
    return history


def _actuals(data: ForecastCallData, quarters: list[str], as_of: dt.date) -> pd.DataFrame:
    """Bookings per person and closed quarter: a rep's own (in any region), a manager's team's."""
    own = data.bookings[data.bookings["rep_id"].isin(data.reps["rep_id"])]
    dates = pd.to_datetime(own["order_date"])
    labels = [quarter_label(d.date()) for d in dates]  # str even without bookings
    lines = own.assign(quarter=pd.Series(labels, index=dates.index, dtype=object))
    lines = lines[lines["quarter"].isin(quarters)]
    per_rep = lines.groupby(["rep_id", "quarter"], as_index=False)["amount"].sum()
    manager_of = data.reps.set_index("rep_id")["manager_id"]
    per_manager = (
        per_rep.assign(rep_id=per_rep["rep_id"].map(manager_of))
        .dropna(subset=["rep_id"])
        .groupby(["rep_id", "quarter"], as_index=False)["amount"]
        .sum()
    )
    both = pd.concat([per_rep, per_manager], ignore_index=True)
    return both.rename(columns={"rep_id": "person_id", "amount": "actual"})


def _reps_this_week(data: ForecastCallData, week: pd.Timestamp) -> pd.DataFrame:
    numbers = rollup.rep_numbers(data.calls, data.reps)
    now = numbers[numbers["week"] == week].drop(columns="week")
    if data.previous_week is not None:
        before = numbers[numbers["week"] == pd.Timestamp(data.previous_week)]
        now = now.merge(
            before[["rep_id", "commit"]].rename(columns={"commit": "commit_before"}),
            on="rep_id",
            how="left",
        )
    else:
        now = now.assign(commit_before=float("nan"))
    now["commit_change"] = now["commit"] - now["commit_before"]
    return now.reset_index(drop=True)


def analyse(data: ForecastCallData) -> ForecastCall:
    """Compute the forecast call of one scope (pure: reads nothing else).

    Args:
        data: :func:`~salesops_lib.reports.forecast_call.load.load_forecast_call`'s result.

    Returns:
        The computed call.
    """
    as_of = data.context.as_of
    week = pd.Timestamp(as_of)
    names = dict(zip(data.reps["rep_id"], data.reps["rep_name"], strict=True))
    if data.calls.empty:
        managers = pd.DataFrame(columns=["week", "manager_id", "team_commit"])
        regions = pd.DataFrame(columns=["week", "region_id"])
    else:
        managers = rollup.manager_rollup(data.calls, data.reps)
        regions = rollup.region_rollup(managers)
    before = _number(regions, pd.Timestamp(data.previous_week)) if data.previous_week else {}
    history = (
        _history(data, managers)
        if not data.calls.empty
        else pd.DataFrame(columns=["person_id", "quarter", "week", "call"])
    )
    closed = sorted(
        q for q in history["quarter"].unique()
        if quarter_end(dt.date(int(q[:4]), int(q[-1]) * 3, 1)) < as_of
    )  # fmt: skip
    ends = pd.Series({q: pd.Timestamp(quarter_end(dt.date(int(q[:4]), int(q[-1]) * 3, 1)))
                      for q in closed}, dtype="datetime64[ns]")  # fmt: skip
    scores = accuracy.score_calls(
        history[history["quarter"].isin(closed)], _actuals(data, closed, as_of), ends
    )
    role = data.reps.set_index("rep_id")["role"]
    scores = scores.assign(name=scores["person_id"].map(names), role=scores["person_id"].map(role))
    records = accuracy.record(scores)
    reps_now = (
        _reps_this_week(data, week)
        if not data.calls.empty
        else pd.DataFrame(columns=["rep_id", "commit"])
    )
    weighted = accuracy.weighted_commits(
        reps_now.rename(columns={"rep_id": "person_id"})[["person_id", "commit"]].dropna(),
        records,
    )
    _, start, end = data.quarter
    flows = movement.deal_flows(data.deals_before, data.deals_now, start, end)
    return ForecastCall(
        data=data,
        names=names,
        number=_number(regions, week),
        number_before=before,
        regions=regions[regions["week"] == week].reset_index(drop=True),
        managers=managers[managers["week"] == week].reset_index(drop=True),
        reps=reps_now,
        scores=scores,
        records=records,
        weighted=weighted,
        flows=flows,
        pacing=pacing.pacing_table(
            data.pacing_points, data.bookings[data.bookings["in_scope"]], EARLIER_QUARTERS
        ),
    )
