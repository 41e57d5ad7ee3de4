"""Deals booked as orders: where and when deals close, and the order lines of each deal.

* **Close days.** Every deal's close day (won, lost or still open) is drawn in proportion to its
  account's order rate on that day (:func:`orders.base_intensity` x :func:`orders.actual_factor`:
  season, quarter end, weekend, growth, ramp, rep productivity, the anomalous week) x its typical
  order value ** (1 - :data:`VALUE_EXPONENT`), so the won deals are a steady share of bookings in
  every region, rep, season and week; the stage durations are then laid out backwards from the
  close day (:func:`pipeline.build_pipeline`).
* **Lines.** Each deal's order is one to five lines of the deal's product at the list price in
  force on its close day, with a discount of its account's behaviour group; the product is drawn
  from the group's family mix and the value follows the typical order value **
  :data:`VALUE_EXPONENT` (:func:`draw_deals`), scaled so the won deals make their planned share
  of bookings (:func:`deal_lines`): a won deal looks like a large order of its account. The
  deal's amount from Proposal on is the sum of its lines, to the cent. Only deals Closed Won on
  or before the as-of date are written as orders (:func:`won_deal_lines`), the rest of bookings
  being run-rate business with no opportunity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesops_lib.data.schema import TABLES
from salesops_lib.sources.demo import orders, plan
from salesops_lib.sources.demo.calendar import Calendar, day_number, next_month
from salesops_lib.sources.demo.shape import Shape

VALUE_SIGMA = 0.25
"""Log-normal spread of a deal's value around its account group's typical (scaled) value."""
VALUE_EXPONENT = 1.0
"""A deal's value follows its group's typical order value to this power, and deals are drawn in
proportion to the order rate x typical value to the rest of the power: the deals of an account
add up to a steady share of its bookings, with values less spread than order values (so a rep's
won deals vary less)."""
CACHE_CELLS = 20_000_000
"""Day x account rates kept between the two passes of :func:`draw_close_days` (about 160 MB at
most); bigger demos compute each month's rates twice instead."""
ORDER_ID_PREFIX = "SO-W-"
"""Order id of a won deal: this prefix and the opportunity's number (``SO-W-001234``)."""


@dataclass(frozen=True)
class DealLines:
    """The order lines of every deal (arrays by line; a deal's lines are consecutive).

    Attributes:
        deal: Deal position of each line.
        line_number: Line number within the deal's order (1 to 5).
        quantity: Units per line.
        unit_price: List price of the deal's product on its close day.
        discount: Discount per line (whole percent).
        amount: Line amount, exact to the cent.
    """

    deal: np.ndarray
    line_number: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    discount: np.ndarray
    amount: np.ndarray

    @staticmethod
    def empty() -> DealLines:
        """No lines (a pipeline before :func:`pipeline.price_deals`)."""
        none = np.zeros(0, dtype=np.int64)
        return DealLines(none, none, none, np.zeros(0), np.zeros(0), np.zeros(0))

    def deal_amounts(self, n_deals: int) -> np.ndarray:
        """Return the sum of each deal's line amounts, rounded to the cent."""
        return np.round(np.bincount(self.deal, self.amount, n_deals), 2)

    def take(self, deals: np.ndarray) -> DealLines:
        """Return the lines of ``deals`` (positions) renumbered to their rank in ``deals``."""
        rank = np.full(int(self.deal.max(initial=-1)) + 1, -1, dtype=np.int64)
        rank[deals] = np.arange(len(deals))
        keep = np.flatnonzero(rank[self.deal] >= 0)
        keep = keep[np.argsort(rank[self.deal[keep]], kind="stable")]
        return DealLines(
            deal=rank[self.deal[keep]],
            line_number=self.line_number[keep],
            quantity=self.quantity[keep],
            unit_price=self.unit_price[keep],
            discount=self.discount[keep],
            amount=self.amount[keep],
        )


def _days(first: np.datetime64 | object, start: int, last: int) -> np.ndarray:
    """Day numbers of the month starting at ``first`` within [start, last]."""
    days = np.arange(day_number(first), day_number(next_month(first)))  # type: ignore[arg-type]
    return days[(days >= start) & (days <= last)]


def _typical_value(shape: Shape, calendar: Calendar) -> np.ndarray:
    """Each account's typical order value (its behaviour group's, at the window's first prices)."""
    group_value = orders.expected_order_value(shape, calendar, day_number(calendar.start))
    return group_value[shape.account_group]


def _rate(shape: Shape, calendar: Calendar, days: np.ndarray) -> np.ndarray:
    """Relative deal rate per day x account: order rate x typical value ** (1 - exponent)."""
    weight = _typical_value(shape, calendar) ** (1.0 - VALUE_EXPONENT)
    return (
        orders.base_intensity(shape, calendar, days)
        * orders.actual_factor(shape, calendar, days)
        * weight
    )


def draw_close_days(
    rng: np.random.Generator, shape: Shape, calendar: Calendar, n: int, last_day: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` (account, close day) pairs in proportion to the accounts' order rates.

    Args:
        rng: The pipeline's random generator.
        shape: The company.
        calendar: The demo's dates.
        n: Number of pairs.
        last_day: Last possible close day (day number, after the as-of date for open deals).

    Returns:
        (account index, close day number) per pair, month by month.
    """
    start = day_number(calendar.start)
    months = [calendar.months[0]]
    while day_number(next_month(months[-1])) <= last_day:
        months.append(next_month(months[-1]))
    n_accounts = len(shape.account_ids)
    keep = n_accounts * 31 * len(months) <= CACHE_CELLS  # else recompute each month's rates
    cached: list[np.ndarray | None] = []
    totals = np.zeros(len(months))
    for i, first in enumerate(months):
        cumulative = np.cumsum(_rate(shape, calendar, _days(first, start, last_day)).ravel())
        totals[i] = cumulative[-1] if cumulative.size else 0.0
        cached.append(cumulative if keep else None)
    counts = rng.multinomial(n, totals / totals.sum())
    accounts, days = [], []
    for first, k, kept in zip(months, counts, cached, strict=True):
        if not k:
            continue
        month_days = _days(first, start, last_day)
        cumulative = (
            kept if kept is not None else np.cumsum(_rate(shape, calendar, month_days).ravel())
        )
        picks = np.searchsorted(cumulative, rng.random(k) * cumulative[-1], side="right")
        day_index, account = np.divmod(np.minimum(picks, cumulative.size - 1), n_accounts)
        accounts.append(account)
        days.append(month_days[day_index])
    return np.concatenate(accounts).astype(np.int64), np.concatenate(days).astype(np.int64)


@dataclass(frozen=True)
class DealDraws:
    """What is drawn once per deal before its value is scaled (arrays by deal).

    Attributes:
        product: Product index.
        discount: Discount (whole percent) from the account group's distribution.
        n_lines: Lines of the deal's order (1 to 5).
        value: Relative value (typical order value ** exponent x log-normal noise).
        amount_noise: Factor between the amount before Proposal and the final amount.
    """

    product: np.ndarray
    discount: np.ndarray
    n_lines: np.ndarray
    value: np.ndarray
    amount_noise: np.ndarray


def draw_deals(
    rng: np.random.Generator, shape: Shape, calendar: Calendar, account: np.ndarray
) -> DealDraws:
    """Draw every deal's product, discount, number of lines and relative value.

    Args:
        rng: The pipeline's random generator.
        shape: The company.
        calendar: The demo's dates.
        account: Account index per deal.

    Returns:
        The draws (no amounts yet: see :func:`deal_lines`).
    """
    n = len(account)
    group = shape.account_group[account]
    product = orders.draw_products(shape, rng, group)
    typical = _typical_value(shape, calendar)[account] ** VALUE_EXPONENT
    value = typical * np.exp(rng.normal(0.0, VALUE_SIGMA, n))
    raw_discount = rng.normal(orders.GROUP_DISCOUNT[group], orders.GROUP_DISCOUNT_SD[group])
    discount = np.clip(np.round(raw_discount, 2), 0.0, 0.6) + 0.0
    n_lines = np.minimum(1 + rng.poisson(orders.GROUP_EXTRA_LINES[group]), plan.MAX_LINES_PER_ORDER)
    return DealDraws(
        product=product,
        discount=discount,
        n_lines=n_lines.astype(np.int64),
        value=value,
        amount_noise=rng.uniform(0.85, 1.15, n),
    )


def deal_lines(
    draws: DealDraws,
    shape: Shape,
    calendar: Calendar,
    close_day: np.ndarray,
    scale: np.ndarray | float,
) -> DealLines:
    """Every deal's order lines for values scaled by ``scale`` (no random draws).

    Units are the scaled value over the net unit price (at least one per line), split evenly
    over the lines; the price is the list price in force on the close day.

    Args:
        draws: The deals' draws.
        shape: The company.
        calendar: The demo's dates.
        close_day: Close day per deal (day number).
        scale: Currency per unit of relative value (one for all deals, or one per deal).

    Returns:
        The lines, exact to the cent.
    """
    n_lines, discount, product = draws.n_lines, draws.discount, draws.product
    price = np.where(
        close_day >= day_number(calendar.price_increase_date),
        orders.price_after_increase(shape)[product],
        shape.product_price[product],
    )
    units = np.maximum(n_lines, np.rint(draws.value * scale / (price * (1.0 - discount))))
    units = units.astype(np.int64)
    deal = np.repeat(np.arange(len(n_lines)), n_lines)
    line_number = np.arange(len(deal)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    quantity = units[deal] // n_lines[deal] + (line_number <= units[deal] % n_lines[deal])
    line_discount = orders.avoid_half_cents(quantity, price[deal], discount[deal])
    return DealLines(
        deal=deal,
        line_number=line_number.astype(np.int64),
        quantity=quantity.astype(np.int64),
        unit_price=price[deal],
        discount=line_discount,
        amount=orders.line_amount(quantity, price[deal], line_discount),
    )


def won_deal_lines(
    shape: Shape,
    opportunity_ids: pa.Array,
    account: np.ndarray,
    product: np.ndarray,
    lines: DealLines,
    booked: np.ndarray,
    close_day: np.ndarray,
) -> pa.Table:
    """The ``order_lines`` rows of the deals in ``booked`` (one order per deal, on its close day).

    Args:
        shape: The company.
        opportunity_ids: Opportunity id per deal.
        account: Account index per deal.
        product: Product index per deal.
        lines: Every deal's lines.
        booked: Positions of the deals to write (won, closed in the month, on or before as-of).
        close_day: Close day per deal.

    Returns:
        The lines, ordered by close day, order id and line number.
    """
    booked = booked[np.lexsort((booked, close_day[booked]))]
    mine = lines.take(booked)
    deal = booked[mine.deal]
    numbers = pc.utf8_slice_codeunits(opportunity_ids.take(pa.array(deal)), 4)  # OPP-001234
    line_account = account[deal]
    return pa.table(
        {
            "order_id": pc.binary_join_element_wise(pa.scalar(ORDER_ID_PREFIX), numbers, ""),
            "line_number": pa.array(mine.line_number.astype(np.int32)),
            "order_date": pa.array(close_day[deal].astype("datetime64[D]")),
            "account_id": pa.array(shape.account_ids).take(pa.array(line_account)),
            "rep_id": pa.array(shape.rep_ids).take(pa.array(shape.account_owner[line_account])),
            "product_id": pa.array(shape.product_ids).take(pa.array(product[deal])),
            "quantity": pa.array(mine.quantity.astype(np.int32)),
            "unit_price": pa.array(mine.unit_price),
            "discount": pa.array(mine.discount),
            "amount": pa.array(mine.amount),
            "region_id": pa.array(shape.region_ids).take(
                pa.array(shape.account_region[line_account])
            ),
            "opportunity_id": opportunity_ids.take(pa.array(deal)),
        },
        schema=TABLES["order_lines"].schema,
    )
