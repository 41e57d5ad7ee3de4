"""Order lines, one calendar month at a time, plus the quotas that match them.

The order rate of an account on a day is

    rate(account) x season/quarter-end/weekend(day) x ramp(owner, day) x active(account, day)
    x productivity(owner) x anomaly(region, day) x calibration

and the number of orders that day is Poisson with that mean: the run-rate business (no
opportunity). Won deals are booked as orders on top of it (``deals``), drawn in proportion to the
same rates and :data:`plan.WON_DEALS_SHARE_OF_BOOKINGS` of expected bookings; quotas are the
expected bookings of both with productivity 1 and no anomaly, so an ordinary fully ramped rep
lands near 100%.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesops_lib.data.schema import TABLES
from salesops_lib.sources.demo import plan
from salesops_lib.sources.demo.calendar import Calendar, day_number, day_weights, next_month
from salesops_lib.sources.demo.shape import Shape, region_index

_GROUP_LINES = np.array([plan.expected_capped_count(g.extra_lines_mean) for g in plan.GROUPS])
_GROUP_QTY = np.array([1.0 + g.extra_quantity_mean for g in plan.GROUPS])
GROUP_EXTRA_LINES = np.array([g.extra_lines_mean for g in plan.GROUPS])
_GROUP_EXTRA_QTY = np.array([g.extra_quantity_mean for g in plan.GROUPS])
GROUP_DISCOUNT = np.array([g.discount_mean for g in plan.GROUPS])
GROUP_DISCOUNT_SD = np.array([g.discount_sd for g in plan.GROUPS])
_GROUP_MIX = np.array([g.family_mix for g in plan.GROUPS])
_GROUP_MIX = _GROUP_MIX / _GROUP_MIX.sum(axis=1, keepdims=True)
_GROUP_GROWTH = np.array([g.growth for g in plan.GROUPS])


@dataclass(frozen=True)
class Volume:
    """How busy the company is.

    Attributes:
        calibration: Factor on every order rate so the expected total hits the target lines.
        quotas: Quota per rep (rows) and month of ``Calendar.plan_months`` (columns), in
            currency: the months of the order history, then the planned months after as-of.
    """

    calibration: float
    quotas: np.ndarray

    def quotas_to_as_of(self, calendar: Calendar) -> np.ndarray:
        """Return the quotas of ``Calendar.months`` only (rep x month up to the as-of month).

        Args:
            calendar: The demo's dates (the one the volume was planned with).

        Returns:
            A new array of shape (reps, len(calendar.months)).
        """
        return self.quotas[:, : len(calendar.months)].copy()


def price_after_increase(shape: Shape) -> np.ndarray:
    """Return every product's list price after the planted increase (others unchanged)."""
    family = plan.FAMILIES.index(plan.PRICE_INCREASE_FAMILY)
    raised = np.round(shape.product_price * plan.PRICE_INCREASE_FACTOR, 2)
    return np.where(shape.product_family == family, raised, shape.product_price)


def prices_on(shape: Shape, calendar: Calendar, day: int) -> np.ndarray:
    """Return the list price of every product in force on a day number."""
    if day >= day_number(calendar.price_increase_date):
        return price_after_increase(shape)
    return shape.product_price


def _month_days(first: dt.date) -> np.ndarray:
    """Day numbers of the calendar month starting at ``first``."""
    return np.arange(day_number(first), day_number(next_month(first)))


def base_intensity(shape: Shape, calendar: Calendar, days: np.ndarray) -> np.ndarray:
    """Expected orders per day x account with productivity 1, no anomaly and no calibration.

    Args:
        shape: The company.
        calendar: The demo's dates.
        days: Day numbers (one calendar month).

    Returns:
        Array of shape (days, accounts).
    """
    start, end = day_number(calendar.start), day_number(calendar.as_of)
    progress = np.clip((days - start) / max(end - start, 1), 0.0, 1.0)
    growth = _GROUP_GROWTH[shape.account_group]
    trend = 1.0 + np.outer(progress, growth - 1.0)
    active = (days[:, None] >= shape.account_created_day) & (
        days[:, None] < shape.account_lapse_day
    )
    hire = shape.rep_hire_day[shape.account_owner]
    ramp = plan.ramp((days[:, None] - hire) / plan.DAYS_PER_MONTH)
    per_day = shape.account_rate / plan.DAYS_PER_MONTH
    return per_day * trend * active * ramp * day_weights(days)[:, None]


def actual_factor(shape: Shape, calendar: Calendar, days: np.ndarray) -> np.ndarray:
    """Rep productivity x the planted anomaly, per day x account."""
    anomaly_region = anomaly_region_index(shape)
    week = day_number(calendar.anomaly_week_start)
    in_week = (days >= week) & (days < week + 7)
    hit = np.outer(in_week, shape.account_region == anomaly_region)
    factor = np.where(hit, plan.ANOMALY_FACTOR, 1.0)
    return factor * shape.rep_productivity[shape.account_owner]


def anomaly_region_index(shape: Shape) -> int:
    """The anomalous region: the one with the most reps, other than the bottleneck region."""
    counts = np.bincount(shape.rep_region, minlength=len(shape.region_ids)).astype(float)
    bottleneck = region_index(shape, plan.BOTTLENECK_REGION, 5)
    if len(counts) > 1:
        counts[bottleneck] = -1
    return int(np.argmax(counts))


def expected_order_value(shape: Shape, calendar: Calendar, first_day: int) -> np.ndarray:
    """Expected amount of one order per behaviour group, at the prices of a month.

    Args:
        shape: The company.
        calendar: The demo's dates.
        first_day: Day number of the month's first day.

    Returns:
        One expected order amount per group.
    """
    prices = prices_on(shape, calendar, first_day)
    n_families = len(plan.FAMILIES)
    family_mean = np.bincount(shape.product_family, prices, n_families) / np.bincount(
        shape.product_family, minlength=n_families
    )
    line_value = _GROUP_MIX @ family_mean * _GROUP_QTY * (1.0 - GROUP_DISCOUNT)
    return _GROUP_LINES * line_value


def plan_volume(shape: Shape, calendar: Calendar, target_lines: int) -> Volume:
    """Calibrate order rates to the target size and derive the monthly quotas.

    The calibration uses the order history only (``Calendar.months``, days up to as-of);
    quotas cover every month of ``Calendar.plan_months``, the later ones computed the same
    way for their future days (trend held at its as-of level, prices in force at as-of).

    Args:
        shape: The company.
        calendar: The demo's dates.
        target_lines: Requested number of order lines.

    Returns:
        The calibration factor and quotas.
    """
    start, end = day_number(calendar.start), day_number(calendar.as_of)
    n_reps = len(shape.rep_ids)
    raw_quotas = np.zeros((n_reps, len(calendar.plan_months)))
    raw_lines = 0.0
    lines_per_order = _GROUP_LINES[shape.account_group]
    for m, first in enumerate(calendar.plan_months):
        days = _month_days(first)
        base = base_intensity(shape, calendar, days)
        value = expected_order_value(shape, calendar, int(days[0]))[shape.account_group]
        raw_quotas[:, m] = np.bincount(shape.account_owner, base.sum(axis=0) * value, n_reps)
        if m >= len(calendar.months):
            continue  # a planned month after as-of: quota only, no order lines
        in_window = (days >= start) & (days <= end)
        actual = base[in_window] * actual_factor(shape, calendar, days[in_window])
        raw_lines += float((actual.sum(axis=0) * lines_per_order).sum())
    calibration = target_lines / raw_lines
    # quotas are the expected bookings: run-rate orders plus the won deals booked as orders
    quotas = np.round(raw_quotas * calibration / (1.0 - plan.WON_DEALS_SHARE_OF_BOOKINGS), -2)
    return Volume(calibration=calibration, quotas=quotas)


def sample_month(
    shape: Shape, calendar: Calendar, volume: Volume, month: int, rng: np.random.Generator
) -> pa.Table:
    """Draw the order lines of one calendar month of the window.

    Args:
        shape: The company.
        calendar: The demo's dates.
        volume: Calibration (from :func:`plan_volume`).
        month: Index into ``calendar.months``.
        rng: The month's own random generator.

    Returns:
        The month's order lines (``order_lines`` schema), sorted by date then order.
    """
    first = calendar.months[month]
    days = _month_days(first)
    days = days[(days >= day_number(calendar.start)) & (days <= day_number(calendar.as_of))]
    mean = base_intensity(shape, calendar, days) * actual_factor(shape, calendar, days)
    counts = rng.poisson(mean * volume.calibration)
    day_idx, account = np.nonzero(counts)
    repeats = counts[day_idx, account]
    order_day = np.repeat(days[day_idx], repeats)
    order_account = np.repeat(account, repeats)
    group = shape.account_group[order_account]
    n_lines = np.minimum(1 + rng.poisson(GROUP_EXTRA_LINES[group]), plan.MAX_LINES_PER_ORDER)
    line_order = np.repeat(np.arange(len(order_day)), n_lines)
    line_number = np.arange(len(line_order)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    line_group = group[line_order]
    line_day = order_day[line_order]
    product = draw_products(shape, rng, line_group)
    quantity = 1 + rng.poisson(_GROUP_EXTRA_QTY[line_group])
    raw_discount = rng.normal(GROUP_DISCOUNT[line_group], GROUP_DISCOUNT_SD[line_group])
    discount = np.clip(np.round(raw_discount, 2), 0.0, 0.6) + 0.0
    raised = day_number(calendar.price_increase_date)
    unit_price = np.where(
        line_day >= raised, price_after_increase(shape)[product], shape.product_price[product]
    )
    discount = avoid_half_cents(quantity, unit_price, discount)
    amount = line_amount(quantity, unit_price, discount)
    order_ids = _order_ids(first.strftime("SO-%Y%m-"), len(order_day))
    line_account = order_account[line_order]
    return pa.table(
        {
            "order_id": order_ids.take(pa.array(line_order)),
            "line_number": pa.array(line_number.astype(np.int32)),
            "order_date": pa.array(line_day.astype("datetime64[D]")),
            "account_id": pa.array(shape.account_ids).take(pa.array(line_account)),
            "rep_id": pa.array(shape.rep_ids).take(pa.array(shape.account_owner[line_account])),
            "product_id": pa.array(shape.product_ids).take(pa.array(product)),
            "quantity": pa.array(quantity.astype(np.int32)),
            "unit_price": pa.array(unit_price),
            "discount": pa.array(discount),
            "amount": pa.array(amount),
            "region_id": pa.array(shape.region_ids).take(
                pa.array(shape.account_region[line_account])
            ),
            "opportunity_id": pa.nulls(len(line_order), pa.string()),
        },
        schema=TABLES["order_lines"].schema,
    )


def _hundredths_of_cents(
    quantity: np.ndarray, unit_price: np.ndarray, discount: np.ndarray
) -> np.ndarray:
    """Exact ``quantity * unit_price * (1 - discount)`` in hundredths of a cent (integers)."""
    price_cents = np.rint(unit_price * 100.0).astype(np.int64)
    kept_percent = 100 - np.rint(discount * 100.0).astype(np.int64)
    return price_cents * quantity.astype(np.int64) * kept_percent


def avoid_half_cents(
    quantity: np.ndarray, unit_price: np.ndarray, discount: np.ndarray
) -> np.ndarray:
    """Return discounts moved one point where an amount would end in exactly half a cent.

    An exact half cent rounds differently in decimal and in floating-point arithmetic; with no
    halves, ``round(quantity * unit_price * (1 - discount), 2)`` is the same in every engine.

    Args:
        quantity: Units per line.
        unit_price: Price per unit, in currency with cents.
        discount: Discount per line, a fraction with two decimals.

    Returns:
        New discounts (the input is not changed).
    """
    adjusted = discount.copy()
    for _ in range(10):  # each pass fixes almost every remaining half; a few passes suffice
        halves = _hundredths_of_cents(quantity, unit_price, adjusted) % 100 == 50
        if not halves.any():
            break
        step = np.where(adjusted[halves] >= 0.6, -0.01, 0.01)
        adjusted[halves] = np.round(adjusted[halves] + step, 2)
    return adjusted


def line_amount(quantity: np.ndarray, unit_price: np.ndarray, discount: np.ndarray) -> np.ndarray:
    """Return ``round(quantity * unit_price * (1 - discount), 2)`` computed exactly.

    Prices are whole cents and discounts whole percent, so the product is computed in integers
    and rounded half up, as decimal arithmetic does (floating point would misround the halves).

    Args:
        quantity: Units per line.
        unit_price: Price per unit, in currency with cents.
        discount: Discount per line, a fraction with two decimals.

    Returns:
        The line amounts, in currency with cents.
    """
    hundredths_of_cents = _hundredths_of_cents(quantity, unit_price, discount)
    return ((hundredths_of_cents + 50) // 100) / 100.0


def draw_products(shape: Shape, rng: np.random.Generator, line_group: np.ndarray) -> np.ndarray:
    """Draw a family from each line's group mix, then a product uniformly within the family."""
    cumulative = np.cumsum(_GROUP_MIX, axis=1)
    family = np.zeros(len(line_group), dtype=np.int64)
    u = rng.random(len(line_group))
    for f in range(len(plan.FAMILIES) - 1):  # six families: a loop over columns, not rows
        family += u >= cumulative[line_group, f]
    sizes = np.bincount(shape.product_family, minlength=len(plan.FAMILIES))
    offsets = np.cumsum(sizes) - sizes
    within = (rng.random(len(line_group)) * sizes[family]).astype(np.int64)
    return offsets[family] + within


def _order_ids(prefix: str, n_orders: int) -> pa.Array:
    """Order ids ``<prefix><7-digit sequence>``, built with Arrow string kernels."""
    sequence = pc.cast(pa.array(np.arange(1, n_orders + 1)), pa.string())
    padded = pc.utf8_lpad(sequence, width=7, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), padded, "")
