"""Period-level settlement: gates, period caps, clawbacks, draws, true-ups, and the output frames.

Rep by rep, segment by segment in date order (all amounts exact: integers in 1e-12 of the
currency or fractions of them):

1. ``commission`` = the segment's rated lines after deal caps, times the gate factor when the
   segment's attainment is below the gate (a ``gate`` line holds the reduction);
2. period cap: the commission above the cap is ``capped_excess`` (a negative ``cap`` line); with
   carry-over it is ``held`` and released (``cap_release``) in later periods with room under the
   cap of the same plan;
3. clawbacks: a deal cancelled within the plan's window gives back what was paid on it, at the
   rate it was paid (:func:`.tiers.paid_by_deal`: under a retroactive plan the tier the segment
   finally reached, not the re-rating its own line may carry; under a marginal plan the
   slice(s) it was paid in), after the deal cap, times the gate factor and the share the period
   cap let through; posted in the rep's segment holding the cancel date;
4. draw: in the first ``periods`` periods after hire, ``net = commission - capped_excess +
   cap_release + clawback`` below the draw amount (pro-rated by days for a segment covering
   part of its period) is topped up (``draw``); a recoverable draw is
   a balance taken back later (``draw_recovery``, negative) at most ``recovery_pct`` of a
   period's positive net;
5. true-up at a quarter / year end: the plan's tiers on the year-to-date credit against the
   year-to-date quota (deal caps and gate applied on the year) minus the commission and true-ups
   already posted this year for the plan.

``payout = commission - capped_excess + cap_release + spif + clawback + draw + draw_recovery +
true_up``: the exact sum of the period's lines, rounded to cents once (ROUND_HALF_UP).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from salesops_lib.analytics.compensation.model import (
    EXACT,
    LINE_COLUMNS,
    MICRO,
    PAYOUT_COLUMNS,
    Plan,
    PlanBook,
)
from salesops_lib.analytics.compensation.periods import cents
from salesops_lib.analytics.compensation.tiers import Paid, bands_of, earned_total
from salesops_lib.core.errors import CompInputError

Money = int | Fraction
MONEY_COLUMNS = (
    "commission",
    "spif",
    "clawback",
    "draw",
    "draw_recovery",
    "true_up",
    "capped_excess",
    "cap_release",
    "held",
)


@dataclass
class SegmentCredits:
    """The rated credits of one segment (credit order)."""

    credits: list[int]
    days: list[int]  # days since 1970-01-01
    tables: list[int]  # index of the plan's rate table in effect for each deal
    deals: list[str]
    # per deal: (final pay at the rate it was paid, after deal cap (1e-12), tier, rate ppm)
    paid_by_deal: list[Paid]
    first_row: int  # row number (in the engine's credit rows) of the segment's first deal


@dataclass
class Ledger:
    """Everything settlement needs: segments, credit rows, rated lines, cancellations."""

    book: PlanBook
    segments: pd.DataFrame
    rows: pd.DataFrame
    held: dict[int, SegmentCredits]
    lines: list[tuple]
    cancellations: pd.DataFrame | None = None
    state: dict[str, dict] = field(default_factory=dict)


def _gate_factor(plan: Plan, credit: int, quota: int, rep: str, label: str) -> Fraction:
    """1 when the gate is met (or there is none), else the plan's reduced-rate factor."""
    if plan.gate is None:
        return Fraction(1)
    if quota <= 0:
        raise CompInputError(
            f"quotas: rep {rep}, period {label}: no quota, but plan {plan.plan_id} has a gate "
            f"at {plan.gate.min_attainment}% attainment (add a quota row for the period)"
        )
    met = Fraction(credit * 100, quota) >= Fraction(plan.gate.min_attainment)
    return Fraction(1) if met else Fraction(plan.gate.factor)


def _year_to_date_earned(plan: Plan, parts: list[SegmentCredits], quota: int) -> Fraction | int:
    """The plan's commission on a year's credit stream against the year's quota."""
    credits = [c for p in parts for c in p.credits]
    table_bands = [bands_of(t, plan.tier_basis, quota) for t in plan.rate_tables]
    bands = [table_bands[i] for p in parts for i in p.tables]
    cap = int(plan.deal_cap * MICRO) * MICRO if plan.deal_cap is not None else None
    earned: Fraction | int = earned_total(
        credits, bands, plan.tier_mode, plan.accumulate, plan.retro_from_tier, cap
    )
    gate = plan.gate
    if gate is not None and quota > 0 and Fraction(sum(credits) * 100, quota) < gate.min_attainment:
        earned = earned * Fraction(gate.factor)
    return earned


def _true_up_due(plan: Plan, seg: dict) -> bool:
    if plan.true_up == "none" or seg["seg_end"] != seg["period_end"]:
        return False
    month = seg["period_end"].month
    return month == 12 if plan.true_up == "annual" else month % 3 == 0


def settle(ledger: Ledger) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the period-level rules and build the payouts and lines frames."""
    book, segments, lines = ledger.book, ledger.segments, ledger.lines
    commission: dict[int, Money] = {}
    spif: dict[int, Money] = {}
    for seg, _row, _tier, _rate, amount, kind, _note in lines:
        target = spif if kind == "spif" else commission
        target[seg] = target.get(seg, 0) + amount
    cancel_on: dict[str, int] = {}
    if ledger.cancellations is not None and len(ledger.cancellations):
        for deal, day in zip(
            ledger.cancellations["deal_id"].astype(str),
            pd.to_datetime(ledger.cancellations["cancel_date"]),
            strict=True,
        ):
            cancel_on[deal] = (day.date() - dt.date(1970, 1, 1)).days
    by_rep: dict[str, list[int]] = {}
    seg_rows: dict[int, dict] = {int(s["seg_id"]): s for s in segments.to_dict("records")}
    for seg_id, rep in zip(segments["seg_id"], segments["rep_id"], strict=True):
        by_rep.setdefault(rep, []).append(int(seg_id))
    results: dict[int, dict[str, Money | bool]] = {}
    pending_clawbacks: dict[int, list[tuple[int, str, int, Money, str]]] = {}
    carry: dict[tuple[str, str], Money] = {}
    draw_balance: dict[str, tuple[Money, Fraction]] = {}
    ytd: dict[tuple[str, str, int], dict] = {}
    for rep, seg_ids in by_rep.items():
        for seg_id in seg_ids:
            seg = seg_rows[seg_id]
            plan = book.plans[seg["plan_id"]]
            part = ledger.held.get(seg_id)
            credit = sum(part.credits) if part else 0
            earned = commission.get(seg_id, 0)
            factor = _gate_factor(plan, credit, int(seg["quota_micro"]), rep, seg["period"])
            gated = earned * factor if earned > 0 and factor != 1 else earned
            if gated != earned:
                note = f"gate: attainment below {plan.gate.min_attainment}% (x {factor})"
                lines.append((seg_id, None, "", 0, gated - earned, "gate", note))
            excess: Money = 0
            release: Money = 0
            key = (rep, plan.plan_id)
            if plan.period_cap is not None:
                cap = int(plan.period_cap.amount * MICRO) * MICRO
                if gated > cap:
                    excess = gated - cap
                    lines.append(
                        (
                            seg_id,
                            None,
                            "",
                            0,
                            -excess,
                            "cap",
                            f"period cap {plan.period_cap.amount}",
                        )
                    )
                    if plan.period_cap.carry_over:
                        carry[key] = carry.get(key, 0) + excess
                elif carry.get(key, 0) > 0:
                    release = min(carry[key], cap - gated)
                    carry[key] -= release
                    lines.append((seg_id, None, "", 0, release, "cap", "carry-over released"))
            if part and plan.clawback_days and cancel_on:
                # what the deal was paid: its final pay after deal cap, gate and period cap
                share = Fraction(gated - excess, gated) if excess else Fraction(1)
                share *= factor if gated != earned else 1
                for index, deal in enumerate(part.deals):
                    if deal in cancel_on:
                        amount, tier, rate = part.paid_by_deal[index]
                        paid = amount * share
                        clawback_to = _clawback_target(
                            plan, part.days[index], cancel_on[deal], seg_ids, seg_rows
                        )
                        if clawback_to is not None and paid != 0:
                            note = f"deal {deal} cancelled {_date(cancel_on[deal]):%Y-%m-%d}"
                            claim = (part.first_row + index, tier, rate, paid, note)
                            pending_clawbacks.setdefault(clawback_to, []).append(claim)
            clawback: Money = 0
            for row, tier, rate, amount, note in pending_clawbacks.pop(seg_id, []):
                lines.append((seg_id, row, tier, rate, -amount, "clawback", note))
                clawback -= amount
            net = gated - excess + release + clawback
            draw: Money = 0
            recovery: Money = 0
            if plan.draw is not None and seg["period_index"] < plan.draw.periods:
                guarantee: Money = int(plan.draw.amount * MICRO) * MICRO
                days = (seg["seg_end"] - seg["seg_start"]).days + 1
                period_days = (seg["period_end"] - seg["period_start"]).days + 1
                if days < period_days:  # part of a period on the plan: pro-rated by days
                    guarantee = Fraction(guarantee * days, period_days)
                if net < guarantee:
                    draw = guarantee - net
                    kind = "recoverable" if plan.draw.recoverable else "non-recoverable"
                    lines.append((seg_id, None, "", 0, draw, "draw", f"{kind} draw"))
                    if plan.draw.recoverable:
                        balance, pct = draw_balance.get(rep, (0, Fraction(plan.draw.recovery_pct)))
                        draw_balance[rep] = (balance + draw, pct)
            elif rep in draw_balance and draw_balance[rep][0] > 0 and net > 0:
                balance, pct = draw_balance[rep]
                recovery = -min(balance, net * pct / 100)
                draw_balance[rep] = (balance + recovery, pct)
                lines.append(
                    (seg_id, None, "", 0, recovery, "draw_recovery", f"{pct}% of net commission")
                )
            year_key = (rep, plan.plan_id, seg["period_start"].year)
            year = ytd.setdefault(year_key, {"parts": [], "quota": 0, "posted": 0})
            if part:
                year["parts"].append(part)
            year["quota"] += int(seg["quota_micro"])
            year["posted"] += gated
            true_up: Money = 0
            if _true_up_due(plan, seg):
                true_up = _year_to_date_earned(plan, year["parts"], year["quota"]) - year["posted"]
                if true_up:
                    lines.append(
                        (seg_id, None, "", 0, true_up, "true_up", f"{plan.true_up} true-up")
                    )
                    year["posted"] += true_up
            results[seg_id] = {
                "commission": gated,
                "spif": spif.get(seg_id, 0),
                "clawback": clawback,
                "draw": draw,
                "draw_recovery": recovery,
                "true_up": true_up,
                "capped_excess": excess,
                "cap_release": release,
                "held": carry.get(key, 0),
                "credit": credit,
                "gate_met": factor == 1,
                "capped": excess > 0,
            }
    return _payout_frame(segments, results), _line_frame(ledger, lines, seg_rows)


def _date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


def _clawback_target(
    plan: Plan, credited: int, cancelled: int, seg_ids: list[int], seg_rows: dict[int, dict]
) -> int | None:
    """The rep's segment holding the cancel day, if the cancellation is inside the window."""
    if not 0 <= cancelled - credited <= (plan.clawback_days or 0):
        return None
    day = _date(cancelled)
    if day > seg_rows[seg_ids[-1]]["period_end"]:
        return None  # after the last period computed
    target = None
    for seg_id in seg_ids:
        if seg_rows[seg_id]["seg_start"] <= day:
            target = seg_id
    return target


def exact_to_cents(value: Money) -> float:
    """An exact amount in 1e-12 units rounded to cents ROUND_HALF_UP (halves away from zero)."""
    if type(value) is int:
        whole, rest = divmod(abs(value), EXACT // 100)
        if 2 * rest >= EXACT // 100:
            whole += 1
        return (whole if value >= 0 else -whole) / 100
    return float(cents(Fraction(value) / EXACT))


def _payout_frame(segments: pd.DataFrame, results: dict[int, dict]) -> pd.DataFrame:
    """One row per rep x period label: segments summed, money rounded to cents once."""
    groups: dict[tuple[str, str], dict] = {}
    for seg in segments.itertuples(index=False):
        result = results[int(seg.seg_id)]
        key = (seg.rep_id, seg.period)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "rep_id": seg.rep_id,
                "plan_id": seg.plan_id,
                "plans": [],
                "period": seg.period,
                "period_start": pd.Timestamp(seg.period_start),
                "period_end": pd.Timestamp(seg.period_end),
                "quota_micro": 0,
                "credit": 0,
                "gate_met": True,
                "capped": False,
                **{c: 0 for c in MONEY_COLUMNS},
            }
        group["plan_id"] = seg.plan_id
        group["plans"].append(seg.plan_id)
        group["quota_micro"] += int(seg.quota_micro)
        group["credit"] += result["credit"]
        group["gate_met"] &= bool(result["gate_met"])
        group["capped"] |= bool(result["capped"])
        for column in MONEY_COLUMNS:
            if column == "held":
                group["held"] = result["held"]
            else:
                group[column] += result[column]
    rows = []
    for group in groups.values():
        total = (
            group["commission"]
            - group["capped_excess"]
            + group["cap_release"]
            + group["spif"]
            + group["clawback"]
            + group["draw"]
            + group["draw_recovery"]
            + group["true_up"]
        )
        quota = group.pop("quota_micro")
        row = {k: v for k, v in group.items() if k not in MONEY_COLUMNS}
        row["plans"] = ", ".join(dict.fromkeys(group["plans"]))
        row["quota"] = float(cents(Fraction(quota, MICRO)))
        row["credit"] = float(cents(Fraction(group["credit"], MICRO)))
        row["attainment"] = group["credit"] / quota if quota else float("nan")
        for column in MONEY_COLUMNS:
            row[column] = exact_to_cents(group[column])
        row["payout"] = exact_to_cents(total)
        rows.append(row)
    columns = [*PAYOUT_COLUMNS, "cap_release", "plans"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["rep_id", "period_start", "period"], kind="stable").reset_index(
        drop=True
    )


def _line_frame(ledger: Ledger, lines: list[tuple], seg_rows: dict[int, dict]) -> pd.DataFrame:
    """One row per line: commission slices, caps, gates, SPIFs, clawbacks, draws, true-ups."""
    columns = ["seg", "row", "tier", "rate_ppm", "exact", "kind", "note"]
    frame = pd.DataFrame.from_records(lines, columns=columns)
    seg_ids = frame["seg"].to_numpy(dtype="int64")
    seg_frame = ledger.segments.set_index("seg_id")
    row = frame["row"].fillna(-1).to_numpy(dtype="int64")
    has_row = row >= 0
    take = np.where(has_row, row, 0)
    rows = ledger.rows
    out = pd.DataFrame(
        {
            "rep_id": seg_frame["rep_id"].to_numpy()[seg_ids] if len(frame) else [],
            "plan_id": seg_frame["plan_id"].to_numpy()[seg_ids] if len(frame) else [],
            "period": seg_frame["period"].to_numpy()[seg_ids] if len(frame) else [],
        }
    )
    if len(rows) and len(frame):
        out["deal_id"] = np.where(has_row, rows["deal_id"].to_numpy()[take], "")
        dates = rows["credit_date"].to_numpy()[take]
        out["credit_date"] = np.where(has_row, dates, np.datetime64("NaT"))
        out["credit"] = np.where(has_row, rows["credit_micro"].to_numpy()[take] / MICRO, np.nan)
    else:
        out["deal_id"] = ""
        out["credit_date"] = pd.NaT
        out["credit"] = np.nan
    out["credit_date"] = pd.to_datetime(out["credit_date"])
    out["tier"] = frame["tier"].to_numpy()
    out["rate"] = frame["rate_ppm"].to_numpy(dtype="int64") / MICRO
    out["amount"] = [
        a / EXACT if type(a) is int else float(Fraction(a) / EXACT) for a in frame["exact"]
    ]
    out["kind"] = frame["kind"].to_numpy()
    out["note"] = frame["note"].to_numpy()
    out["rate_ppm"] = frame["rate_ppm"].to_numpy(dtype="int64")
    return out[[*LINE_COLUMNS, "rate_ppm"]]
