"""Demo compensation: plans for the demo's reps, a few cancellations, and expected payouts.

Every snapshot gets three extra files (the same in every weekly snapshot):

* ``comp_plans.yml``: three quarterly plans in the format of ``config/comp_plans.example.yml``:
  ``ae-marginal`` (marginal tiers on attainment with an accelerator above 100%, a 50% gate, a
  period cap, a two-week SPIF), ``ae-retro`` (retroactive tiers: the tier reached pays its rate
  on everything), ``new-hire`` (marginal, with a recoverable draw for the first two quarters on
  the plan); reps hired inside the history are on ``new-hire`` from their hire date, the others
  alternate between the two AE plans from the history's first full quarter (the planted
  under-performers and star on ``ae-marginal``); planted anomalies: one rep with bookings and
  no plan, one whose plan ends with the as-of quarter;
* ``comp_plans_alternative.yml``: a redesign (retroactive made marginal, steeper accelerators)
  the report's what-if compares with (winners and losers);
* ``comp_cancellations.csv`` (``deal_id,cancel_date``): a few orders booked in the last month of
  the quarter before the *truth quarter*, cancelled 14 days into it (inside the 90-day window),
  so their commission is clawed back.

The truth quarter is the last calendar quarter that ends before the first snapshot date. The
truth file's ``compensation`` entry holds, for one rep per plan feature (accelerator, gate, cap,
SPIF, retroactive tier, draw, clawback), the expected payout of that quarter computed here from
the rep's order lines by plain decimal arithmetic, independently of the payout engine, with the
formula spelled out (:mod:`.comp_truth`). A feature no rep shows at a small scale is left out
(``missing`` lists it; at ``small`` scale and above every feature is there). No existing table
changes: the month samples are drawn again with the generator's own random streams.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from salesops_lib.sources.demo.calendar import Calendar, day_number, from_day_number
from salesops_lib.sources.demo.comp_truth import (
    CENT,
    GATE_PCT,
    MARGINAL_TIERS,
    RETRO_TIERS,
    SPIF_RATE,
    TruthInputs,
    cents,
    expected_payouts,
)

if TYPE_CHECKING:
    from salesops_lib.data.snapshot import SnapshotWriter
    from salesops_lib.sources.demo.shape import Shape

PLANS_FILE = "comp_plans.yml"
"""Snapshot extra file holding the demo's plans."""
CANCELLATIONS_FILE = "comp_cancellations.csv"
"""Snapshot extra file holding the cancelled deals (``deal_id,cancel_date``)."""
ALTERNATIVE_FILE = "comp_plans_alternative.yml"
"""Snapshot extra file holding a plan redesign the report's what-if compares with."""

CLAWBACK_DAYS = 90
CANCEL_DAYS_INTO_QUARTER = 14
CANCELLED_ORDERS = 4
DRAW_PERIODS = 2


class _PlainDumper(yaml.SafeDumper):
    """Writes a shared value (a date) out each time, never as a YAML alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


@dataclass(frozen=True)
class CompDemo:
    """What the generator writes for compensation.

    Attributes:
        plans_yaml: The ``comp_plans.yml`` bytes.
        cancellations_csv: The ``comp_cancellations.csv`` bytes.
        truth: The truth file's ``compensation`` entry.
        alternative_yaml: The ``comp_plans_alternative.yml`` bytes (a redesign to compare).
    """

    plans_yaml: bytes
    cancellations_csv: bytes
    truth: dict[str, Any]
    alternative_yaml: bytes = b""


def quarter_start(day: dt.date) -> dt.date:
    """First day of ``day``'s calendar quarter."""
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def shift_quarter(first: dt.date, quarters: int) -> dt.date:
    """First day of the quarter ``quarters`` after the one starting at ``first``."""
    index = first.year * 12 + first.month - 1 + 3 * quarters
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_label(first: dt.date) -> str:
    """``YYYY-Qn`` of a quarter's first day."""
    return f"{first.year}-Q{(first.month - 1) // 3 + 1}"


def _money(value: float) -> int:
    """A round plan amount (to the hundred)."""
    return int(max(100.0, round(value / 100.0) * 100))


def _tiers(table: tuple[tuple[int, int | None, str], ...]) -> list[dict[str, Any]]:
    return [
        {"from": lower, "to": upper, "rate": float(rate)}
        if upper is not None
        else {"from": lower, "rate": float(rate)}
        for lower, upper, rate in table
    ]


def _bookings(
    shape: Shape, calendar: Calendar, months: list[int], sample: Callable[[int], pa.Table]
) -> pd.DataFrame:
    """Order lines of some months (as drawn by the generator): rep, order, date, amount."""
    tables = [sample(m).select(["order_id", "order_date", "rep_id", "amount"]) for m in months]
    frame = pa.concat_tables(tables).to_pandas()
    return frame.assign(
        order_date=pd.to_datetime(frame["order_date"]),
        cents=np.round(frame["amount"].to_numpy() * 100).astype(np.int64),  # amounts: 2 decimals
    )


def _assignments(shape: Shape, calendar: Calendar) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Plan per rep: new hires on ``new-hire`` from their hire date, others alternate.

    The planted under-performers and star are on ``ae-marginal`` (its gate and cap). Two
    planted anomalies: the last other veteran's plan ends with the as-of quarter (no plan
    after it), and the one before is on no plan at all (bookings, no plan).
    """
    first = shift_quarter(quarter_start(calendar.start), 1)  # the first full quarter
    rows: list[dict[str, Any]] = []
    start_day = day_number(calendar.start)
    planted = {str(shape.rep_ids[i]) for i in (*shape.under_performers, shape.star)}
    veterans = [
        str(r)
        for r, h in zip(shape.rep_ids, shape.rep_hire_day, strict=True)
        if h < start_day and str(r) not in planted
    ]
    unassigned = veterans[-2] if len(veterans) >= 3 else None
    ending = veterans[-1] if len(veterans) >= 3 else None
    veteran = 0
    for rep_id, hire_day in zip(shape.rep_ids, shape.rep_hire_day, strict=True):
        if str(rep_id) == unassigned:
            continue
        if hire_day >= start_day:
            plan_id, start = "new-hire", from_day_number(int(hire_day))
        else:
            plan_id = ("ae-marginal", "ae-retro")[veteran % 2]
            plan_id = "ae-marginal" if str(rep_id) in planted else plan_id  # gate and cap
            start, veteran = first, veteran + 1
        row = {"rep_id": str(rep_id), "plan": plan_id, "start": start}
        if str(rep_id) == ending:
            row["end"] = shift_quarter(quarter_start(calendar.as_of), 1) - dt.timedelta(days=1)
        rows.append(row)
    return rows, {row["rep_id"]: row["plan"] for row in rows}


def alternative_plans(plans: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A plan redesign to compare with: the retroactive plan made marginal, and a steeper
    accelerator (10% above plan, 12% above 150%) on the marginal plans."""
    steeper = _tiers(((0, 100, "0.05"), (100, 150, "0.10"), (150, None, "0.12")))
    out = {plan_id: dict(plan) for plan_id, plan in plans.items()}
    out["ae-retro"]["tier_mode"] = "marginal"
    for plan_id in ("ae-marginal", "new-hire"):
        out[plan_id]["rate_tables"] = [{"tiers": steeper}]
    return out


def _plans(median_quota: float, truth_q: dt.date, spif_budget: float) -> dict[str, dict[str, Any]]:
    """The three plans; money amounts scale with the median quarterly quota."""
    spif_start = shift_quarter(truth_q, 0) + dt.timedelta(days=35)
    common = {"period": "quarter", "tier_basis": "attainment", "accumulate": "period_to_date"}
    return {
        "ae-marginal": {
            "name": "Account Executive (marginal)",
            **common,
            "ote": _money(median_quota * 4 * 0.12),
            "base_pct": 60,
            "tier_mode": "marginal",
            "rate_tables": [{"tiers": _tiers(MARGINAL_TIERS)}],
            "gate": {"min_attainment": GATE_PCT},
            "period_cap": {"amount": _money(median_quota * 0.075)},
            "spifs": [
                {
                    "name": "mid-quarter push",
                    "start": spif_start,
                    "end": spif_start + dt.timedelta(days=13),
                    "budget": _money(spif_budget),
                    "rate": float(SPIF_RATE),
                }
            ],
            "clawback": {"window_days": CLAWBACK_DAYS},
        },
        "ae-retro": {
            "name": "Account Executive (retroactive)",
            **common,
            "ote": _money(median_quota * 4 * 0.10),
            "base_pct": 60,
            "tier_mode": "retroactive",
            "rate_tables": [{"tiers": _tiers(RETRO_TIERS)}],
            "clawback": {"window_days": CLAWBACK_DAYS},
        },
        "new-hire": {
            "name": "New hire (draw)",
            **common,
            "ote": _money(median_quota * 4 * 0.10),
            "base_pct": 70,
            "tier_mode": "marginal",
            "rate_tables": [{"tiers": _tiers(MARGINAL_TIERS)}],
            "draw": {"amount": _money(median_quota * 0.04), "periods": DRAW_PERIODS},
            "clawback": {"window_days": CLAWBACK_DAYS},
        },
    }


def _quarter_quotas(quotas: pa.Table, first: dt.date) -> dict[str, Decimal]:
    """Quota per rep of the quarter starting at ``first`` (reps with all three months only)."""
    frame = quotas.to_pandas()
    month = pd.to_datetime(frame["month"]).dt.date
    inside = frame[(month >= first) & (month < shift_quarter(first, 1))]
    grouped = inside.groupby("rep_id")["quota_amount"].agg(["count", "sum"])
    full = grouped[grouped["count"] == 3]
    return {
        str(rep): Decimal(repr(float(total))).quantize(CENT, ROUND_HALF_UP)
        for rep, total in full["sum"].items()
    }


def _credit(lines: pd.DataFrame, first: dt.date, end: dt.date) -> dict[str, Decimal]:
    """Credit per rep over ``[first, end)``: the exact sum of its order lines' amounts."""
    dates = lines["order_date"]
    inside = lines[(dates >= pd.Timestamp(first)) & (dates < pd.Timestamp(end))]
    cents = inside.groupby("rep_id", sort=True)["cents"].sum()  # exact: whole cents
    return {str(rep): Decimal(int(total)) / 100 for rep, total in cents.items()}


def _cancellations(
    lines: pd.DataFrame, prev_q: dt.date, truth_q: dt.date, plan_of: dict[str, str]
) -> list[tuple[str, str, Decimal]]:
    """Orders to cancel: per plan, the first orders (by id) of distinct reps booked in the
    last month of the quarter before the truth quarter: (order_id, rep_id, credit)."""
    last_month = shift_quarter(prev_q, 1) - dt.timedelta(days=1)
    last_month = last_month.replace(day=1)
    dates = lines["order_date"]
    inside = lines[(dates >= pd.Timestamp(last_month)) & (dates < pd.Timestamp(truth_q))]
    orders = (
        inside.groupby(["order_id", "rep_id"], sort=True)["cents"]
        .sum()
        .map(lambda total: Decimal(int(total)) / 100)
        .reset_index()
    )
    chosen: list[tuple[str, str, Decimal]] = []
    per_plan = {"ae-retro": 2, "ae-marginal": 1, "new-hire": 1}
    for plan_id, wanted in per_plan.items():
        seen: set[str] = set()
        for order_id, rep_id, credit in orders.itertuples(index=False):
            if len(seen) == wanted:
                break
            if plan_of.get(rep_id) == plan_id and rep_id not in seen and credit > 0:
                chosen.append((str(order_id), str(rep_id), credit))
                seen.add(rep_id)
    return chosen[:CANCELLED_ORDERS]


def build_comp_demo(
    shape: Shape, calendar: Calendar, quotas: pa.Table, sample: Callable[[int], pa.Table]
) -> CompDemo:
    """Plans, cancellations and expected payouts of the demo.

    Args:
        shape: The company.
        calendar: The demo's dates.
        quotas: The ``quotas`` table (rep x month).
        sample: Draws the order lines of month ``m`` of ``calendar.months`` exactly as the
            generator does (same random stream), so the truth sees the snapshot's bookings.

    Returns:
        The files and the truth entry.
    """
    truth_q = shift_quarter(quarter_start(calendar.snapshot_dates[0]), -1)
    prev_q, next_q = shift_quarter(truth_q, -1), shift_quarter(truth_q, 1)
    months = [i for i, m in enumerate(calendar.months) if prev_q <= m < next_q]
    lines = _bookings(shape, calendar, months, sample)
    assignments, plan_of = _assignments(shape, calendar)
    quota_t, quota_p = _quarter_quotas(quotas, truth_q), _quarter_quotas(quotas, prev_q)
    credit_t, credit_p = _credit(lines, truth_q, next_q), _credit(lines, prev_q, truth_q)
    median_quota = float(np.median([float(q) for q in quota_t.values()])) if quota_t else 1e5
    spif_start = truth_q + dt.timedelta(days=35)
    spif_end = spif_start + dt.timedelta(days=14)
    spif_credit = _credit(lines, spif_start, spif_end)
    marginal_spif = sum(
        (v for r, v in spif_credit.items() if plan_of.get(r) == "ae-marginal"), Decimal(0)
    )
    plans = _plans(median_quota, truth_q, 2 * float(marginal_spif) * float(SPIF_RATE) + 1000)
    cap = Decimal(plans["ae-marginal"]["period_cap"]["amount"])
    draw = Decimal(plans["new-hire"]["draw"]["amount"])
    cancelled = _cancellations(lines, prev_q, truth_q, plan_of)
    cancel_date = truth_q + dt.timedelta(days=CANCEL_DAYS_INTO_QUARTER)
    in_prev_q = {
        str(rep)
        for rep, day in zip(shape.rep_ids, shape.rep_hire_day, strict=True)
        if prev_q <= from_day_number(int(day)) < truth_q
    }
    label = quarter_label(truth_q)
    reps = expected_payouts(
        TruthInputs(
            label,
            quarter_label(prev_q),
            quota_t,
            quota_p,
            credit_t,
            credit_p,
            spif_credit,
            plan_of,
            in_prev_q,
            cancelled,
            cap,
            draw,
        )
    )
    cancellations = io.StringIO()
    out = csv.writer(cancellations, lineterminator="\n")
    out.writerow(["deal_id", "cancel_date"])
    out.writerows([order_id, cancel_date.isoformat()] for order_id, _rep, _c in cancelled)
    header = "# Demo compensation plans (written by the demo generator; format: {})\n"

    def dump(plan_set: dict[str, Any], what: str) -> bytes:
        book = {"version": 1, "currency": "USD", "plans": plan_set, "assignments": assignments}
        text = yaml.dump(
            book, Dumper=_PlainDumper, sort_keys=False, width=100, default_flow_style=None
        )
        return (header.format(what) + text).encode()

    return CompDemo(
        plans_yaml=dump(plans, "config/comp_plans.example.yml"),
        alternative_yaml=dump(alternative_plans(plans), "a redesign for the what-if"),
        cancellations_csv=cancellations.getvalue().encode(),
        truth={
            "plans_file": PLANS_FILE,
            "cancellations_file": CANCELLATIONS_FILE,
            "period": label,
            "previous_period": quarter_label(prev_q),
            "cancelled_deals": [
                {
                    "deal_id": o,
                    "rep_id": r,
                    "credit": cents(c),
                    "cancel_date": cancel_date.isoformat(),
                }
                for o, r, c in cancelled
            ],
            "period_cap": float(cap),
            "draw_amount": float(draw),
            "expected_payouts": [e for e in reps.values() if e is not None],
            "missing": [f for f, e in reps.items() if e is None],
            "rule": "payout = commission - capped_excess + spif - clawback + draw, to the cent",
        },
    )


def write_extras(writer: SnapshotWriter, demo: CompDemo) -> None:
    """Write the plans and cancellations into one snapshot."""
    writer.write_extra(PLANS_FILE, demo.plans_yaml)
    writer.write_extra(CANCELLATIONS_FILE, demo.cancellations_csv)
    if demo.alternative_yaml:
        writer.write_extra(ALTERNATIVE_FILE, demo.alternative_yaml)
