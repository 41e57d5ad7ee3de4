"""Demo forecast submissions: 13 weeks of reps' and managers' calls with two planted callers.

Written after the snapshots, from what they hold: for each weekly snapshot and each rep hired by
then, the rep calls their quarter (the quarter of the snapshot date):

* the quarter's **expected total**: what the rep booked in it when the quarter has closed by the
  last snapshot (the demo's actuals), else booked so far + the rest of the quarter's quota at
  the rep's attainment of the quarter before;
* an ordinary rep's commit = expected x (1 + noise): mean :data:`HONEST_MEAN`, spread from
  :data:`EARLY_SIGMA` at the quarter's start down to :data:`LATE_SIGMA` at its end;
  most likely = commit x 1.03-1.08, best case = most likely x 1.08-1.20;
* the planted **sandbagger** commits :data:`SANDBAG_FACTOR` of the expected total every week,
  the planted **over-caller** :data:`OVER_CALL_FACTOR` (noise 3%);
* each manager submits a team override = the sum of their reps' commits (the planted callers'
  corrected to an ordinary rep's call: managers know their reps) x (1 + noise 4%), with a
  note when it differs by more than 3% (the first manager's note, every week, holds HTML
  special characters: the report must escape it);
* in the last week, one ordinary rep first submits a low commit, then resubmits (two versions:
  the later counts).

Files go to ``submissions/<week>/`` beside the snapshots folder, through the same validation
and append-only store as ``salesops submit``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from salesops_lib.data.submissions import store_calls, submissions_dir_for, validate_calls
from salesops_lib.sources.demo.calendar import Calendar, day_number
from salesops_lib.sources.demo.shape import Shape

SANDBAG_FACTOR = 0.68
OVER_CALL_FACTOR = 1.32
HONEST_MEAN = -0.02
EARLY_SIGMA, LATE_SIGMA = 0.12, 0.03
ODD_NOTE = '<b>Key</b> renewal & "expansion" at risk <script>x</script>'
_SUBMISSIONS_KEY = 4


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _quarter_end(day: dt.date) -> dt.date:
    start = _quarter_start(day)
    month = start.month + 3
    return dt.date(start.year + (month > 12), (month - 1) % 12 + 1, 1) - dt.timedelta(days=1)


def planted_callers(shape: Shape, calendar: Calendar) -> dict[str, str]:
    """The planted sandbagger and over-caller: busy veterans, neither under-performer nor star.

    The sandbagger is the rep of the first region whose accounts order the most, the
    over-caller the same in the next region (so both have bookings to score, at any scale).
    """
    veteran = shape.rep_hire_day < day_number(calendar.start)
    special = {*shape.under_performers, shape.star}
    volume = np.bincount(shape.account_owner, shape.account_rate, minlength=len(shape.rep_ids))
    eligible = [i for i in range(len(shape.rep_ids)) if veteran[i] and i not in special]
    regions = sorted({int(shape.rep_region[i]) for i in eligible})

    def busiest(region: int) -> int:
        return max((i for i in eligible if shape.rep_region[i] == region), key=lambda i: volume[i])

    sandbagger = busiest(regions[0])
    over = (
        busiest(regions[1])
        if len(regions) > 1
        else max((i for i in eligible if i != sandbagger), key=lambda i: volume[i])
    )
    return {"sandbagger": str(shape.rep_ids[sandbagger]), "over_caller": str(shape.rep_ids[over])}


def truth_entry(shape: Shape, calendar: Calendar) -> dict[str, Any]:
    """The ``forecast_call`` entry of the truth file."""
    closed = [
        f"{d.year}-Q{(d.month - 1) // 3 + 1}"
        for d in sorted({_quarter_start(d) for d in calendar.snapshot_dates})
        if _quarter_end(d) < calendar.as_of
    ]
    return {
        **planted_callers(shape, calendar),
        "sandbag_factor": SANDBAG_FACTOR,
        "over_call_factor": OVER_CALL_FACTOR,
        "honest_mean_error": HONEST_MEAN,
        "weeks": [d.isoformat() for d in calendar.snapshot_dates],
        "closed_quarters": closed,
        "rule": "commit = expected quarter total x factor; scored on the closed quarters",
    }


def _bookings(snapshot: Path, since: dt.date) -> pd.DataFrame:
    table = pq.read_table(
        snapshot / "order_lines.parquet",
        columns=["order_date", "rep_id", "amount"],
        filters=[("order_date", ">=", since)],
    )
    frame = table.group_by(["rep_id", "order_date"]).aggregate([("amount", "sum")])
    frame = frame.to_pandas().rename(columns={"amount_sum": "amount"})
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame  # one row per rep and day: the rules only need daily sums


def _expected_totals(
    bookings: pd.DataFrame, quotas: pd.DataFrame, week: dt.date, as_of: dt.date
) -> pd.Series:
    """Each rep's expected quarter total as seen in ``week`` (see the module's rules)."""
    start, end = pd.Timestamp(_quarter_start(week)), pd.Timestamp(_quarter_end(week))
    in_quarter = bookings[(bookings["order_date"] >= start) & (bookings["order_date"] <= end)]
    if end.date() < as_of:
        return in_quarter.groupby("rep_id")["amount"].sum()
    so_far = in_quarter[in_quarter["order_date"] <= pd.Timestamp(week)]
    booked = so_far.groupby("rep_id")["amount"].sum()
    prev_start = pd.Timestamp(_quarter_start(start.date() - dt.timedelta(days=1)))
    months = pd.to_datetime(quotas["month"])
    prev = bookings[(bookings["order_date"] >= prev_start) & (bookings["order_date"] < start)]
    prev_quota = (
        quotas[(months >= prev_start) & (months < start)].groupby("rep_id")["quota_amount"].sum()
    )
    ratio = (prev.groupby("rep_id")["amount"].sum() / prev_quota).clip(0.3, 2.0).fillna(1.0)
    quota = quotas[(months >= start) & (months <= end)].groupby("rep_id")["quota_amount"].sum()
    rest = (end - pd.Timestamp(week)).days / ((end - start).days + 1)
    ahead = quota * ratio.reindex(quota.index).fillna(1.0) * rest
    return booked.add(ahead, fill_value=0.0)


def write_demo_submissions(
    snapshots_dir: Path, shape: Shape, calendar: Calendar, seed: int
) -> list[Path]:
    """Write one submission version per weekly snapshot (plus one earlier resubmitted version).

    Returns:
        The version files written (none for versions already stored).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_SUBMISSIONS_KEY,)))
    snapshots_dir = Path(snapshots_dir)
    last = snapshots_dir / calendar.as_of.isoformat()
    first_start = _quarter_start(calendar.snapshot_dates[0])
    bookings = _bookings(last, _quarter_start(first_start - dt.timedelta(days=1)))
    quotas = pq.read_table(last / "quotas.parquet").to_pandas(date_as_object=False)
    reps = pq.read_table(last / "reps.parquet").to_pandas(date_as_object=False)
    planted = planted_callers(shape, calendar)
    factor = {planted["sandbagger"]: SANDBAG_FACTOR, planted["over_caller"]: OVER_CALL_FACTOR}
    store = submissions_dir_for(snapshots_dir)
    written: list[Path] = []
    for week in calendar.snapshot_dates:
        hired = reps[pd.to_datetime(reps["hire_date"]) <= pd.Timestamp(week)]
        expected = _expected_totals(bookings, quotas, week, calendar.as_of)
        start, end = _quarter_start(week), _quarter_end(week)
        rest = (end - week).days / ((end - start).days + 1)
        sigma = LATE_SIGMA + (EARLY_SIGMA - LATE_SIGMA) * rest
        rows: list[tuple[str, dict[str, Any]]] = []
        commits: dict[str, float] = {}
        for rep in hired[hired["role"] == "rep"].itertuples(index=False):
            total = float(expected.get(rep.rep_id, 0.0))
            if total <= 0:
                continue
            honest = total * (1 + rng.normal(HONEST_MEAN, sigma))
            commit = honest
            if rep.rep_id in factor:
                commit = total * (factor[rep.rep_id] + rng.normal(0.0, 0.03))
            likely = commit * rng.uniform(1.03, 1.08)
            best = likely * rng.uniform(1.08, 1.20)
            commits[rep.rep_id] = round(honest, -2)  # managers know their reps' habits
            for category, amount in (("commit", commit), ("most_likely", likely),
                                     ("best_case", best)):  # fmt: skip
                rows.append((rep.rep_id, _call(rep.rep_id, rep.rep_id, category, amount)))
        managers = hired[hired["role"] == "manager"].sort_values("rep_id")
        for m, manager in enumerate(managers.itertuples(index=False)):
            team = hired[hired["manager_id"] == manager.rep_id]["rep_id"]
            team_commit = sum(commits.get(r, 0.0) for r in team)
            if team_commit <= 0:
                continue
            change = rng.normal(0.0, 0.04)
            note = None
            if m == 0:  # every week: untrusted text the report must escape
                note = ODD_NOTE
            elif abs(change) > 0.03:
                note = "Pulled in a late-stage deal" if change > 0 else "Two deals at risk"
            rows.append(
                (manager.rep_id,
                 _call(manager.rep_id, manager.rep_id, "commit", team_commit * (1 + change), note))
            )  # fmt: skip
        label = f"demo submissions {week.isoformat()}"
        calls = validate_calls(label, [(f"call {i + 1}", c) for i, (_, c) in enumerate(rows)], reps)
        if week == calendar.as_of and commits:
            resubmitter = sorted(r for r in commits if r not in factor)[0]
            early = calls[calls["submitted_by"] == resubmitter].assign(
                amount=lambda f: (f["amount"] * 0.8).round(2)
            )
            written += _store(store, week, early, "T09:00:00+00:00")
        written += _store(store, week, calls, "T16:00:00+00:00")
    return written


def _call(by: str, for_id: str, category: str, amount: float, note: str | None = None) -> dict:
    return {"submitted_by": by, "for_id": for_id, "category": category,
            "amount": round(float(amount), 2), "note": note}  # fmt: skip


def _store(store: Path, week: dt.date, calls: pd.DataFrame, time: str) -> list[Path]:
    path, written = store_calls(store, week, calls, submitted_at=week.isoformat() + time)
    return [path] if written else []
