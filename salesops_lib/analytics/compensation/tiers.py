"""Tier semantics in exact integers: marginal, retroactive, retro_from_tier; per deal or to date.

Credits and bounds are integer micro-units, rates integer ppm, so every amount here is an exact
integer in 1e-12 of the currency (see the package docstring). A value exactly on a boundary
belongs to the higher tier (tiers are ``[lower, upper)``). Credit below zero (a refund walking the
running total under 0) is paid at the first tier's rate; a negative deal under
``per_transaction`` reverses its own climb (``R(-x) = -R(x)``).

:func:`rate_deals` walks one rep's deals in one period segment (sorted by credit date) and yields
one line per deal x tier slice: ``(deal_index, tier_label, rate_ppm, amount_e12, note)``. Each
deal is rated by the table in effect on its credit date, so a rate change never re-rates deals
credited before it. Retroactive re-rating reads the tier reached from the table of the deal
being credited and pays each earlier deal that tier's rate of its own table.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from salesops_lib.analytics.compensation.model import MICRO, RateTable

Line = tuple[int, str, int, int, str]
"""(deal index, tier label, rate ppm, amount in 1e-12, note)."""


@dataclass(frozen=True)
class Bands:
    """One rate table in money: tier lower bounds (micro-units) and rates (ppm)."""

    lowers: tuple[int, ...]
    rates: tuple[int, ...]
    labels: tuple[str, ...]

    def tier_of(self, value: int) -> int:
        """Index of the tier holding ``value`` (a value on a bound goes to the higher tier)."""
        return bisect_right(self.lowers, value) - 1 if value >= 0 else 0

    def slices(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        """``(tier index, micro)`` overlaps of ``[start, end)`` with each tier (start <= end)."""
        if start < 0:
            below = min(end, 0) - start
            if below:
                yield 0, below
            start = 0
        count = len(self.lowers)
        for i in range(count):
            low = self.lowers[i]
            high = self.lowers[i + 1] if i + 1 < count else None
            lo = max(start, low)
            hi = end if high is None else min(end, high)
            if hi > lo:
                yield i, hi - lo

    def marginal(self, value: int) -> int:
        """Marginal commission (1e-12) on a total of ``value`` micro-units from 0."""
        if value < 0:
            return value * self.rates[0]
        return sum(self.rates[i] * part for i, part in self.slices(0, value))


def bands_of(table: RateTable, basis: str, quota_micro: int) -> Bands:
    """A rate table in money: amount bounds in micro-units, or attainment bounds x the quota.

    An attainment bound (percent, at most 2 decimals) times a quota in cents is exact in
    micro-units.
    """
    if basis == "amount":
        lowers = tuple(int(t.lower * MICRO) for t in table.tiers)
    else:
        lowers = tuple(int(t.lower * 100) * quota_micro // 10000 for t in table.tiers)
    rates = tuple(t.rate_ppm for t in table.tiers)
    return Bands(lowers, rates, tuple(t.label for t in table.tiers))


def _per_transaction(
    index: int, credit: int, bands: Bands, mode: str, retro_from: int | None
) -> Iterator[Line]:
    sign = -1 if credit < 0 else 1
    value = abs(credit)
    if mode == "marginal":
        for tier, part in bands.slices(0, value):
            yield index, bands.labels[tier], bands.rates[tier], sign * part * bands.rates[tier], ""
        return
    reached = bands.tier_of(value)
    if retro_from is None:
        rate = bands.rates[reached]
        yield index, bands.labels[reached], rate, sign * value * rate, "retroactive"
        return
    n = retro_from - 1
    for tier, part in bands.slices(0, value):
        rate = bands.rates[n] if reached >= n and tier < n else bands.rates[tier]
        note = f"re-rated at {bands.labels[n]}" if rate != bands.rates[tier] else ""
        yield index, bands.labels[tier], rate, sign * part * rate, note


def rate_deals(
    credits: Sequence[int],
    bands_of_deal: Sequence[Bands],
    mode: str,
    accumulate: str,
    retro_from: int | None = None,
) -> list[Line]:
    """Commission lines of one rep's deals in one period segment.

    Args:
        credits: Credit of each deal in micro-units (signed), in credit order.
        bands_of_deal: The rate table (as :class:`Bands`) in effect for each deal.
        mode: ``marginal`` or ``retroactive``.
        accumulate: ``per_transaction`` or ``period_to_date``.
        retro_from: With ``retroactive``: the 1-based tier from which re-rating applies.

    Returns:
        Lines ``(deal index, tier label, rate ppm, amount 1e-12, note)``.
    """
    lines: list[Line] = []
    if accumulate == "per_transaction":
        for index, (credit, bands) in enumerate(zip(credits, bands_of_deal, strict=True)):
            lines.extend(_per_transaction(index, credit, bands, mode, retro_from))
        return lines
    if mode == "marginal":
        return _marginal_to_date(credits, bands_of_deal)
    if retro_from is None:
        return _retroactive_to_date(credits, bands_of_deal)
    return _retro_from_tier_to_date(credits, bands_of_deal, retro_from - 1)


Paid = tuple[int, str, int]
"""(amount in 1e-12, tier label, rate ppm) of one deal; label ``""`` and rate 0 when mixed."""


def paid_by_deal(
    credits: Sequence[int],
    bands_of_deal: Sequence[Bands],
    mode: str,
    accumulate: str,
    retro_from: int | None = None,
    lines: Sequence[Line] | None = None,
) -> list[Paid]:
    """What each deal was finally paid in its segment, at the rate it was paid.

    The lines of :func:`rate_deals` book a retroactive re-rating on the deal that triggers it
    (a period-to-date deal's line holds the uplift of every earlier deal). Here each deal gets
    its own share of the segment's final commission instead: under ``retroactive`` its credit at
    the rate of the tier the segment finally reached (of its own rate table); under
    ``retro_from_tier`` its own slices, those below tier N at N's rate when N was finally
    reached; otherwise (marginal, or per transaction) its own lines, i.e. the rate of the
    slice(s) it was paid in. The amounts sum to the lines' total: clawbacks and deal caps
    read them.

    Args:
        credits: Credit of each deal in micro-units (signed), in credit order.
        bands_of_deal: The rate table in effect for each deal.
        mode: ``marginal`` or ``retroactive``.
        accumulate: ``per_transaction`` or ``period_to_date``.
        retro_from: With ``retroactive``: the 1-based tier from which re-rating applies.
        lines: The lines of :func:`rate_deals` when already computed.

    Returns:
        One ``(amount 1e-12, tier label, rate ppm)`` per deal.
    """
    if not credits:
        return []
    if accumulate == "period_to_date" and mode == "retroactive":
        total = sum(credits)
        last = bands_of_deal[-1]
        if retro_from is None:
            reached = last.tier_of(total) if total >= 0 else 0
            paid: list[Paid] = []
            for credit, bands in zip(credits, bands_of_deal, strict=True):
                tier = min(reached, len(bands.rates) - 1)
                paid.append((credit * bands.rates[tier], bands.labels[tier], bands.rates[tier]))
            return paid
        return _retro_from_tier_paid(
            credits, bands_of_deal, retro_from - 1, total >= last.lowers[retro_from - 1]
        )
    if lines is None:
        lines = rate_deals(credits, bands_of_deal, mode, accumulate, retro_from)
    paid: list[Paid] = [(0, "", -1)] * len(credits)
    for index, label, rate, amount, _note in lines:
        before, before_label, before_rate = paid[index]
        if before_rate == -1 or (before_label, before_rate) == (label, rate):
            paid[index] = (before + amount, label, rate)
        else:
            paid[index] = (before + amount, "", 0)
    return [(amount, label, max(rate, 0)) for amount, label, rate in paid]


def _one_rate(amount: int, used: set[tuple[str, int]]) -> Paid:
    """The deal's amount with its tier and rate, or ``""`` / 0 when it was paid at several."""
    if len(used) == 1:
        label, rate = next(iter(used))
        return amount, label, rate
    return amount, "", 0


def _retro_from_tier_paid(
    credits: Sequence[int], bands_of_deal: Sequence[Bands], n: int, reached: bool
) -> list[Paid]:
    """Each deal's slices of the running total; below tier N at N's rate when N was reached."""
    paid: list[Paid] = []
    total = 0
    for credit, bands in zip(credits, bands_of_deal, strict=True):
        start, end = (total, total + credit) if credit >= 0 else (total + credit, total)
        sign = 1 if credit >= 0 else -1
        amount = 0
        used: set[tuple[str, int]] = set()
        for tier, part in bands.slices(start, end):
            at = n if reached and tier < n else tier
            amount += sign * part * bands.rates[at]
            used.add((bands.labels[at], bands.rates[at]))
        paid.append(_one_rate(amount, used))
        total += credit
    return paid


def _retroactive_to_date(credits: Sequence[int], bands_of_deal: Sequence[Bands]) -> list[Line]:
    """Fully retroactive, period to date: each deal pays the increase of the period's total."""
    lines: list[Line] = []
    by_table: dict[int, tuple[Bands, int]] = {}  # id(bands) -> (bands, credit under it)
    total = 0
    paid = 0
    for index, (credit, bands) in enumerate(zip(credits, bands_of_deal, strict=True)):
        previous, own = by_table.get(id(bands), (bands, 0))
        by_table[id(bands)] = (previous, own + credit)
        total += credit
        reached = bands.tier_of(total) if total >= 0 else 0
        after = sum(
            amount * table.rates[min(reached, len(table.rates) - 1)]
            for table, amount in by_table.values()
        )
        rate = bands.rates[reached]
        note = "retroactive" if after - paid == credit * rate else "retroactive, re-rates earlier"
        lines.append((index, bands.labels[reached], rate, after - paid, note))
        paid = after
    return lines


def _retro_from_tier_to_date(
    credits: Sequence[int], bands_of_deal: Sequence[Bands], n: int
) -> list[Line]:
    """Marginal slices, plus a re-rate line whenever the below-tier-N credit's uplift changes."""
    lines: list[Line] = []
    tables: dict[int, Bands] = {}
    below_credit: dict[int, int] = {}  # per table: credit sitting below tier N
    below_paid: dict[int, int] = {}  # per table: marginal commission on that credit
    total = 0
    uplift_paid = 0
    for index, (credit, bands) in enumerate(zip(credits, bands_of_deal, strict=True)):
        start, end = (total, total + credit) if credit >= 0 else (total + credit, total)
        sign = 1 if credit >= 0 else -1
        key = id(bands)
        tables[key] = bands
        tier = bands.tier_of(start)
        if start >= 0 and (tier + 1 >= len(bands.lowers) or end <= bands.lowers[tier + 1]):
            parts: Iterator[tuple[int, int]] | list[tuple[int, int]] = [(tier, end - start)]
        else:
            parts = bands.slices(start, end)
        for tier, part in parts:
            rate = bands.rates[tier]
            lines.append((index, bands.labels[tier], rate, sign * part * rate, ""))
            if tier < n:
                below_credit[key] = below_credit.get(key, 0) + sign * part
                below_paid[key] = below_paid.get(key, 0) + sign * part * rate
        total += credit
        reached = total >= bands.lowers[n]
        uplift = 0
        if reached:
            uplift = sum(below_credit[k] * tables[k].rates[n] - below_paid[k] for k in below_credit)
        if uplift != uplift_paid:
            label = bands.labels[n]
            note = f"tiers below {label} re-rated at {label}"
            if not reached:
                note = f"fell below {label}: re-rate reversed"
            lines.append((index, f"{label} re-rate", bands.rates[n], uplift - uplift_paid, note))
            uplift_paid = uplift
    return lines


def _marginal_to_date(credits: Sequence[int], bands_of_deal: Sequence[Bands]) -> list[Line]:
    """Marginal, period to date: each deal's slice of the running total, tier by tier.

    Fast path: a deal that starts and ends inside one tier gives one line without walking the
    tiers (most deals, as tiers are wide against one deal).
    """
    lines: list[Line] = []
    append = lines.append
    total = 0
    for index, credit in enumerate(credits):
        bands = bands_of_deal[index]
        end = total + credit
        low, high = (total, end) if credit >= 0 else (end, total)
        lowers = bands.lowers
        tier = bands.tier_of(low) if low >= 0 else 0
        next_bound = lowers[tier + 1] if tier + 1 < len(lowers) else None
        if low >= 0 and (next_bound is None or high <= next_bound):
            rate = bands.rates[tier]
            append((index, bands.labels[tier], rate, credit * rate, ""))
        else:
            sign = 1 if credit >= 0 else -1
            for tier, part in bands.slices(low, high):
                rate = bands.rates[tier]
                append((index, bands.labels[tier], rate, sign * part * rate, ""))
        total = end
    return lines


def earned_total(
    credits: Sequence[int],
    bands_of_deal: Sequence[Bands],
    mode: str,
    accumulate: str,
    retro_from: int | None = None,
    deal_cap: int | None = None,
) -> int:
    """The total of :func:`rate_deals` after deal caps (on :func:`paid_by_deal`), without
    building the lines.

    Marginal period-to-date totals telescope: the deals under one table pay
    ``M(total after) - M(total before)``, so only deals that could reach the deal cap
    (credit x top rate above it) are rated one by one.
    """
    if not (mode == "marginal" and accumulate == "period_to_date"):
        paid = paid_by_deal(credits, bands_of_deal, mode, accumulate, retro_from)
        if deal_cap is not None:
            return sum(min(amount, deal_cap) for amount, _tier, _rate in paid)
        return sum(amount for amount, _tier, _rate in paid)
    running = list(accumulate_sums(credits))
    earned = 0
    start = 0
    count = len(credits)
    while start < count:
        bands = bands_of_deal[start]
        stop = start + 1
        while stop < count and bands_of_deal[stop] is bands:
            stop += 1
        earned += bands.marginal(running[stop]) - bands.marginal(running[start])
        start = stop
    if deal_cap is not None:
        for index, credit in enumerate(credits):
            bands = bands_of_deal[index]
            if credit * max(bands.rates) > deal_cap:
                paid = bands.marginal(running[index + 1]) - bands.marginal(running[index])
                if paid > deal_cap:
                    earned -= paid - deal_cap
    return earned


def accumulate_sums(credits: Sequence[int]) -> Iterator[int]:
    """0, then the running totals of ``credits``."""
    return itertools.accumulate(credits, initial=0)
