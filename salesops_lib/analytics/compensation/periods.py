"""Payout periods and plan segments: who is on which plan for which part of which period.

A *segment* is one rep on one plan for the part of one plan period the assignment covers. Its
quota is the period's quota (the assignment's own ``quota`` when it gives one, else the quota
rows whose ``period_start`` falls in the period, so monthly quotas sum into a quarter), times
the ramp percent for the period's place after the hire date, times the segment's days over the
period's days (a mid-period plan or territory change), rounded to the cent (a quota is a
target, not money paid).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from salesops_lib.analytics.compensation.model import MICRO, PlanBook
from salesops_lib.core.errors import ParameterError

PERIOD_LABEL = re.compile(r"^(\d{4})(?:-(\d{2})|-Q([1-4]))?$")
SEGMENT_COLUMNS = (
    "seg_id",
    "rep_id",
    "plan_id",
    "period",
    "period_start",
    "period_end",
    "seg_start",
    "seg_end",
    "period_index",
    "ramp_pct",
    "quota",
    "quota_micro",
)


def period_of(day: dt.date, grain: str) -> tuple[dt.date, dt.date, str]:
    """The ``(start, end, label)`` of the ``grain`` period holding ``day``.

    Labels: ``YYYY-MM`` (month), ``YYYY-Qn`` (quarter), ``YYYY`` (year).
    """
    if grain == "month":
        start = day.replace(day=1)
        label = f"{day.year}-{day.month:02d}"
        months = 1
    elif grain == "quarter":
        quarter = (day.month - 1) // 3
        start = dt.date(day.year, quarter * 3 + 1, 1)
        label = f"{day.year}-Q{quarter + 1}"
        months = 3
    else:
        start = dt.date(day.year, 1, 1)
        label = f"{day.year}"
        months = 12
    month = start.month - 1 + months
    end = dt.date(start.year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end, label


def period_range(label: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY`` label.

    Raises:
        ParameterError: The label is none of those.
    """
    match = PERIOD_LABEL.match(label.strip())
    if not match or (match.group(2) and not 1 <= int(match.group(2)) <= 12):
        raise ParameterError(f"period {label!r}: use YYYY-MM, YYYY-Qn or YYYY (e.g. 2026-Q1)")
    year = int(match.group(1))
    if match.group(2):
        start, end, _ = period_of(dt.date(year, int(match.group(2)), 1), "month")
    elif match.group(3):
        start, end, _ = period_of(dt.date(year, (int(match.group(3)) - 1) * 3 + 1, 1), "quarter")
    else:
        start, end, _ = period_of(dt.date(year, 1, 1), "year")
    return start, end


def periods_between(
    first: dt.date, last: dt.date, grain: str
) -> list[tuple[dt.date, dt.date, str]]:
    """Every ``grain`` period from the one holding ``first`` to the one holding ``last``."""
    periods = []
    day = first
    while day <= last:
        period = period_of(day, grain)
        periods.append(period)
        day = period[1] + dt.timedelta(days=1)
    return periods


def cents(value: Fraction | Decimal | int) -> Decimal:
    """An exact amount in currency units rounded to cents, ROUND_HALF_UP (halves away from 0)."""
    scaled = Fraction(value) * 100
    whole, rest = divmod(abs(scaled.numerator), scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    return Decimal(whole if scaled >= 0 else -whole).scaleb(-2)


def _quota_by_period(quotas: pd.DataFrame) -> dict[str, list[tuple[dt.date, int]]]:
    """rep_id -> [(period_start, quota in cents)]."""
    by_rep: dict[str, list[tuple[dt.date, int]]] = {}
    if quotas is None or quotas.empty:
        return by_rep
    starts = pd.to_datetime(quotas["period_start"]).dt.date
    amounts = (pd.to_numeric(quotas["quota"]).astype("float64") * 100).round().astype("int64")
    for rep, start, amount in zip(quotas["rep_id"].astype(str), starts, amounts, strict=True):
        by_rep.setdefault(rep, []).append((start, int(amount)))
    return by_rep


def _hire_dates(book: PlanBook, hire_dates: pd.DataFrame | None) -> dict[str, dt.date]:
    """rep_id -> hire date (given, else the rep's first assignment start)."""
    first = book.assignments.groupby("rep_id")["start_date"].min()
    hires = {str(rep): day.date() for rep, day in first.items()}
    if hire_dates is not None and not hire_dates.empty:
        for rep, day in zip(
            hire_dates["rep_id"].astype(str), pd.to_datetime(hire_dates["hire_date"]), strict=True
        ):
            if pd.notna(day):
                hires[rep] = day.date()
    return hires


def _months_between(earlier: dt.date, later: dt.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def build_segments(
    book: PlanBook,
    quotas: pd.DataFrame,
    horizon: dt.date,
    hire_dates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per rep x plan x period part the assignments cover, up to ``horizon``.

    Args:
        book: The plans and assignments.
        quotas: rep_id, period_start, quota (monthly or at the plan's period).
        horizon: Last day to enumerate periods to (a period starting after it is left out).
        hire_dates: rep_id, hire_date (ramp and draws count periods from it).

    Returns:
        :data:`SEGMENT_COLUMNS`; ``quota`` in currency (cents), ``quota_micro`` exact int,
        ``period_index`` the number of plan periods since the one holding the hire date.
    """
    quota_rows = _quota_by_period(quotas)
    hires = _hire_dates(book, hire_dates)
    step = {"month": 1, "quarter": 3, "year": 12}
    rows = []
    for a in book.assignments.sort_values(["rep_id", "start_date"]).itertuples(index=False):
        plan = book.plans[a.plan_id]
        start = a.start_date.date()
        end = a.end_date.date() if pd.notna(a.end_date) else None
        last = min(end, horizon) if end is not None else horizon
        hire_start = period_of(hires.get(a.rep_id, start), plan.period)[0]
        for p_start, p_end, label in periods_between(start, last, plan.period):
            seg_start = max(start, p_start)
            seg_end = min(end, p_end) if end is not None else p_end
            index = max(_months_between(hire_start, p_start) // step[plan.period], 0)
            ramp = plan.ramp[index] if index < len(plan.ramp) else Decimal(100)
            if pd.notna(a.quota):  # the assignment's own quota per period (territory change)
                full = round(a.quota * 100)
            else:
                full = sum(
                    amount
                    for day, amount in quota_rows.get(a.rep_id, [])
                    if p_start <= day <= p_end
                )
            days = (seg_end - seg_start).days + 1
            period_days = (p_end - p_start).days + 1
            quota = cents(Fraction(full, 100) * Fraction(ramp) / 100 * Fraction(days, period_days))
            rows.append(
                {
                    "rep_id": a.rep_id,
                    "plan_id": a.plan_id,
                    "period": label,
                    "period_start": p_start,
                    "period_end": p_end,
                    "seg_start": seg_start,
                    "seg_end": seg_end,
                    "period_index": index,
                    "ramp_pct": float(ramp),
                    "quota": float(quota),
                    "quota_micro": int(quota * MICRO),
                }
            )
    frame = pd.DataFrame(rows, columns=[c for c in SEGMENT_COLUMNS if c != "seg_id"])
    frame = frame.sort_values(["rep_id", "seg_start"], kind="stable").reset_index(drop=True)
    frame.insert(0, "seg_id", range(len(frame)))
    return frame
