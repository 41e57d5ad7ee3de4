"""Opportunities: one full life per deal, and its state on any snapshot date.

Each opportunity is drawn once (the day it closes, in proportion to its account's order rate;
the stages it reaches and the days in each, laid out backwards from that day to its created
date; won or lost; the expected close date; its product and order lines, whose sum is its amount
from Proposal on). Its state on a date is then computed from those arrays: the stage it was in,
the amount it had, its close date after the pushes so far. The planted slips and pull-ins change
the state on the last snapshot date only. Deals won on or before the as-of date are booked as
orders (:func:`booked_lines`, see :mod:`salesops_lib.sources.demo.deals`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesops_lib.data.schema import OPEN_STAGES, TABLES
from salesops_lib.sources.demo import deals, plan
from salesops_lib.sources.demo.calendar import Calendar, day_number
from salesops_lib.sources.demo.deals import DealDraws, DealLines
from salesops_lib.sources.demo.shape import Shape, region_index

N_OPEN = len(OPEN_STAGES)
_FORECAST_BY_OPEN_STAGE = np.array(["Pipeline", "Pipeline", "Best Case", "Commit"], dtype=object)
_PROPOSAL = OPEN_STAGES.index("Proposal")
MIN_OPPORTUNITIES = 10_000
"""Opportunities of the smaller demos: won deals are booked as orders, and with fewer than about
four won deals per rep and year one deal swings a rep's quarter (the median rep's attainment,
the planning report's productivity, falls to the run-rate share)."""


@dataclass(frozen=True)
class Pipeline:
    """Every opportunity's whole life (arrays by opportunity position, sorted by created date).

    Attributes:
        opportunity_ids: Opportunity ids.
        names: Opportunity names (account name - product name).
        account: Account index.
        owner: Owning rep index.
        product: Product index.
        created: Created day number.
        stages_reached: Number of open stages entered (1 = Prospecting only ... 4 = Negotiation).
        entered: Day each open stage was entered, shape (n, 4); only the first stages_reached count.
        closed_on: Day the deal closed (won or lost).
        won: Whether it closed won.
        initial_close: Expected close date when created.
        amount: Amount at creation.
        proposal_amount: Amount from the Proposal stage on (the sum of the deal's order lines).
        draws: Every deal's product, discount, number of lines and relative value.
        lines: Every deal's order lines (written for the deals won on or before as-of).
        slips: Indices of planted slips.
        slip_days: Days each planted slip moves out on the last snapshot date.
        pull_ins: Indices of planted pull-ins.
        pull_in_days: Days each planted pull-in moves in on the last snapshot date.
    """

    opportunity_ids: pa.Array
    names: pa.Array
    account: np.ndarray
    owner: np.ndarray
    product: np.ndarray
    created: np.ndarray
    stages_reached: np.ndarray
    entered: np.ndarray
    closed_on: np.ndarray
    won: np.ndarray
    initial_close: np.ndarray
    amount: np.ndarray
    proposal_amount: np.ndarray
    draws: DealDraws
    lines: DealLines
    slips: np.ndarray
    slip_days: np.ndarray
    pull_ins: np.ndarray
    pull_in_days: np.ndarray


def opportunity_count(order_lines: int) -> int:
    """Return the number of opportunities for a target number of order lines (10k to 100k)."""
    return int(np.clip(order_lines // 25, MIN_OPPORTUNITIES, 100_000))


def build_pipeline(
    rng: np.random.Generator,
    shape: Shape,
    calendar: Calendar,
    n: int,
    won_amount_target: float | None = None,
) -> Pipeline:
    """Draw every opportunity's life and order lines, and plant the slips and pull-ins.

    Close days follow the accounts' order rates (:func:`deals.draw_close_days`, up to
    :data:`plan.DEAL_HORIZON_DAYS` after the as-of date); the stages are laid out backwards from
    the close day, and a deal is kept when it was created on or before the as-of date and after
    its account and owner existed (the first ``n`` such deals of the draws).

    Args:
        rng: Random generator for the pipeline.
        shape: The company.
        calendar: The demo's dates.
        n: Number of opportunities (at most; in practice exactly n).
        won_amount_target: What the deals won on or before the as-of date add up to (about),
            passed to :func:`price_deals` (which can be called again with another target).

    Returns:
        The pipeline.
    """
    as_of = day_number(calendar.as_of)
    n_draws = int(n * plan.DEAL_OVERDRAW)
    account, close_day = deals.draw_close_days(
        rng, shape, calendar, n_draws, as_of + plan.DEAL_HORIZON_DAYS
    )
    shuffle = rng.permutation(n_draws)
    account, close_day = account[shuffle], close_day[shuffle]
    owner = shape.account_owner[account]
    bottleneck = shape.rep_region[owner] == region_index(shape, plan.BOTTLENECK_REGION, 5)
    reached = np.ones(n_draws, dtype=np.int64)
    for s, p in enumerate(plan.STAGE_ADVANCE_PROBABILITY):
        reached += (reached == s + 1) & (rng.random(n_draws) < p)
    win_draw = rng.random(n_draws)
    means = np.tile(np.asarray(plan.STAGE_MEAN_DAYS), (n_draws, 1))
    means[bottleneck, N_OPEN - 1] *= plan.NEGOTIATION_SLOWDOWN
    durations = np.maximum(1, np.ceil(rng.gamma(3.0, means / 3.0))).astype(np.int64)
    offsets = np.cumsum(durations, axis=1) - durations
    rows = np.arange(n_draws)
    created = close_day - offsets[rows, reached - 1] - durations[rows, reached - 1]
    earliest = np.maximum(shape.account_created_day[account], shape.rep_hire_day[owner])
    kept = np.flatnonzero((created >= earliest) & (created <= as_of))[:n]
    kept = kept[np.lexsort((account[kept], created[kept]))]
    account, owner, created, reached = account[kept], owner[kept], created[kept], reached[kept]
    closed_on, bottleneck, win_draw = close_day[kept], bottleneck[kept], win_draw[kept]
    entered = created[:, None] + offsets[kept]
    n = len(kept)

    win_rate = np.where(
        bottleneck, plan.BOTTLENECK_WIN_RATE_FROM_NEGOTIATION, plan.WIN_RATE_FROM_NEGOTIATION
    )
    initial_close = created + rng.integers(30, 121, n)
    pushes_at_close = _push_count(closed_on - initial_close)
    won = (reached == N_OPEN) & (win_draw < win_rate * plan.WIN_FACTOR_PER_PUSH**pushes_at_close)

    draws = deals.draw_deals(rng, shape, calendar, account)

    ids = pc.binary_join_element_wise(
        pa.scalar("OPP-"),
        pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width=6, padding="0"),
        "",
    )
    names = pc.binary_join_element_wise(
        pa.array(shape.account_names).take(pa.array(account)),
        pa.array(shape.product_names).take(pa.array(draws.product)),
        " - ",
    )
    pipeline = Pipeline(
        opportunity_ids=ids,
        names=names,
        account=account,
        owner=owner,
        product=draws.product,
        created=created,
        stages_reached=reached,
        entered=entered,
        closed_on=closed_on,
        won=won,
        initial_close=initial_close,
        amount=np.zeros(n),
        proposal_amount=np.zeros(n),
        draws=draws,
        lines=DealLines.empty(),
        slips=np.zeros(0, dtype=np.int64),
        slip_days=np.zeros(0, dtype=np.int64),
        pull_ins=np.zeros(0, dtype=np.int64),
        pull_in_days=np.zeros(0, dtype=np.int64),
    )
    return price_deals(_plant_moves(rng, pipeline, as_of), shape, calendar, won_amount_target)


def booked(pipeline: Pipeline, calendar: Calendar) -> np.ndarray:
    """Positions of the deals won on or before the as-of date (those booked as orders)."""
    return np.flatnonzero(pipeline.won & (pipeline.closed_on <= day_number(calendar.as_of)))


def booked_line_count(pipeline: Pipeline, calendar: Calendar) -> int:
    """Number of order lines of the deals won on or before the as-of date."""
    return int(pipeline.draws.n_lines[booked(pipeline, calendar)].sum())


def price_deals(
    pipeline: Pipeline,
    shape: Shape,
    calendar: Calendar,
    won_amount_target: np.ndarray | float | None,
) -> Pipeline:
    """The pipeline with every deal's lines and amounts, values scaled to the target.

    Values are scaled per region, so each region's won deals make its share of its bookings
    (a region that wins less, like the bottleneck region, wins larger deals).

    Args:
        pipeline: The pipeline (its draws).
        shape: The company.
        calendar: The demo's dates.
        won_amount_target: What the deals won on or before as-of add up to (about): one amount
            per region, or one for the company (shared in proportion to the deals' values), or
            None for 25 times the typical values.

    Returns:
        A new pipeline: ``lines``, ``proposal_amount`` (the sum of the lines, to the cent) and
        ``amount`` (before Proposal: that amount x a factor drawn in 0.85-1.15, rounded to
        hundreds, at least 100).
    """
    won = booked(pipeline, calendar)
    n_regions = len(shape.region_ids)
    region = shape.account_region[pipeline.account]
    won_value = np.bincount(region[won], pipeline.draws.value[won], n_regions)
    if won_amount_target is None:
        region_scale = np.full(n_regions, 25.0)
    elif np.ndim(won_amount_target) == 0:
        total = float(won_value.sum())
        region_scale = np.full(n_regions, float(won_amount_target) / total if total else 25.0)
    else:
        target = np.asarray(won_amount_target, dtype=float)
        region_scale = np.where(won_value > 0, target / np.where(won_value > 0, won_value, 1), 25.0)
    lines = deals.deal_lines(
        pipeline.draws, shape, calendar, pipeline.closed_on, region_scale[region]
    )
    proposal_amount = lines.deal_amounts(len(pipeline.closed_on))
    amount = np.maximum(100.0, np.round(proposal_amount * pipeline.draws.amount_noise, -2))
    return dataclasses.replace(
        pipeline, lines=lines, proposal_amount=proposal_amount, amount=amount
    )


def booked_lines(pipeline: Pipeline, shape: Shape, first: int, last: int) -> pa.Table:
    """The order lines of the deals won with a close day in [first, last] (day numbers).

    Args:
        pipeline: The pipeline.
        shape: The company.
        first: First close day.
        last: Last close day (at most the as-of date: later wins are not booked yet).

    Returns:
        One order per deal on its close day (``order_lines`` schema, ``opportunity_id`` set).
    """
    booked = np.flatnonzero(
        pipeline.won & (pipeline.closed_on >= first) & (pipeline.closed_on <= last)
    )
    return deals.won_deal_lines(
        shape,
        pipeline.opportunity_ids,
        pipeline.account,
        pipeline.product,
        pipeline.lines,
        booked,
        pipeline.closed_on,
    )


def _push_count(overdue_days: np.ndarray) -> np.ndarray:
    """Number of pushes after the expected close date has passed by ``overdue_days``."""
    return np.where(overdue_days > 0, -(-overdue_days // plan.PUSH_DAYS), 0)


def _pushes(pipeline: Pipeline, day: np.ndarray | int) -> np.ndarray:
    """Number of times each deal's expected close date has passed (and been pushed) by ``day``."""
    return _push_count(np.asarray(day) - pipeline.initial_close)


def _open_stage(pipeline: Pipeline, day: int) -> np.ndarray:
    """Index of the open stage each deal is in on ``day`` (meaningless if closed or not created)."""
    entered_by = (pipeline.entered <= day) & (
        np.arange(N_OPEN)[None, :] < pipeline.stages_reached[:, None]
    )
    return np.maximum(entered_by.sum(axis=1) - 1, 0)


def _plant_moves(rng: np.random.Generator, pipeline: Pipeline, as_of: int) -> Pipeline:
    """Pick open deals untouched in the last week and plant slips and pull-ins on the as-of date."""
    previous = as_of - 7
    close_now = pipeline.initial_close + plan.PUSH_DAYS * _pushes(pipeline, as_of)
    steady = (
        (pipeline.created <= previous)
        & (pipeline.closed_on > as_of)
        & (_open_stage(pipeline, previous) == _open_stage(pipeline, as_of))
        & (_pushes(pipeline, previous) == _pushes(pipeline, as_of))
    )
    candidates = np.flatnonzero(steady)
    pullable = candidates[close_now[candidates] >= as_of + 8]
    n_pull = min(plan.PLANTED_PULL_INS, len(pullable) // 2)
    pull_ins = np.sort(rng.choice(pullable, n_pull, replace=False))
    rest = np.setdiff1d(candidates, pull_ins)
    slips = np.sort(rng.choice(rest, min(plan.PLANTED_SLIPS, len(rest)), replace=False))
    room = close_now[pull_ins] - as_of - 1
    pull_in_days = np.minimum(rng.integers(7, 31, n_pull), room)
    slip_days = rng.integers(14, 46, len(slips))
    return dataclasses.replace(
        pipeline, slips=slips, slip_days=slip_days, pull_ins=pull_ins, pull_in_days=pull_in_days
    )


def close_dates(pipeline: Pipeline, day: int, as_of: int) -> tuple[np.ndarray, np.ndarray]:
    """Close date and push count of every deal on ``day`` (planted moves apply on ``as_of``).

    Args:
        pipeline: The pipeline.
        day: The snapshot date (day number).
        as_of: The last snapshot date (day number).

    Returns:
        (close day, push count) per deal; closed deals carry their actual close day.
    """
    closed = pipeline.closed_on <= day
    pushes = np.where(closed, _pushes(pipeline, pipeline.closed_on), _pushes(pipeline, day))
    close = np.where(closed, pipeline.closed_on, pipeline.initial_close + plan.PUSH_DAYS * pushes)
    if day == as_of:
        close[pipeline.slips] += pipeline.slip_days
        pushes[pipeline.slips] += 1
        close[pipeline.pull_ins] -= pipeline.pull_in_days
    return close, pushes


def opportunities_on(pipeline: Pipeline, shape: Shape, day: dt.date, as_of: dt.date) -> pa.Table:
    """The ``opportunities`` table as of a snapshot date.

    Args:
        pipeline: The pipeline.
        shape: The company.
        day: The snapshot date.
        as_of: The last snapshot date (planted moves apply there).

    Returns:
        One row per opportunity created on or before ``day``, in the state it had that day.
    """
    d = day_number(day)
    close, pushes = close_dates(pipeline, d, day_number(as_of))
    closed = pipeline.closed_on <= d
    open_stage = _open_stage(pipeline, d)
    stage = np.where(
        closed,
        np.where(pipeline.won, "Closed Won", "Closed Lost"),
        np.array(OPEN_STAGES, dtype=object)[open_stage],
    ).astype(object)
    forecast = np.where(
        closed,
        np.where(pipeline.won, "Closed", "Omitted"),
        _FORECAST_BY_OPEN_STAGE[open_stage],
    ).astype(object)
    reached_proposal = np.where(closed, pipeline.stages_reached - 1, open_stage) >= _PROPOSAL
    amount = np.where(reached_proposal, pipeline.proposal_amount, pipeline.amount)
    keep = pa.array(np.flatnonzero(pipeline.created <= d))
    table = pa.table(
        {
            "opportunity_id": pipeline.opportunity_ids,
            "opportunity_name": pipeline.names,
            "account_id": pa.array(shape.account_ids).take(pa.array(pipeline.account)),
            "owner_rep_id": pa.array(shape.rep_ids).take(pa.array(pipeline.owner)),
            "product_id": pa.array(shape.product_ids).take(pa.array(pipeline.product)),
            "created_date": pa.array(pipeline.created.astype("datetime64[D]")),
            "stage": pa.array(stage, pa.string()),
            "amount": pa.array(amount),
            "close_date": pa.array(close.astype("datetime64[D]")),
            "forecast_category": pa.array(forecast, pa.string()),
            "push_count": pa.array(pushes.astype(np.int32)),
        },
        schema=TABLES["opportunities"].schema,
    )
    return table.take(keep)


def stage_history_on(pipeline: Pipeline, day: dt.date) -> pa.Table:
    """The ``opportunity_stage_history`` table as of a snapshot date.

    Args:
        pipeline: The pipeline.
        day: The snapshot date.

    Returns:
        One row per stage entered on or before ``day``, sorted by opportunity and sequence.
    """
    d = day_number(day)
    n = len(pipeline.created)
    reached = pipeline.stages_reached
    close_stage = np.where(pipeline.won, "Closed Won", "Closed Lost").astype(object)
    seq = np.concatenate([np.tile(np.arange(1, N_OPEN + 1), (n, 1)), (reached + 1)[:, None]], 1)
    entered = np.concatenate([pipeline.entered, pipeline.closed_on[:, None]], axis=1)
    stage = np.concatenate(
        [np.tile(np.array(OPEN_STAGES, dtype=object), (n, 1)), close_stage[:, None]], axis=1
    )
    valid = np.concatenate(
        [np.arange(N_OPEN)[None, :] < reached[:, None], np.ones((n, 1), bool)], 1
    )
    keep = valid & (entered <= d)
    opp = np.broadcast_to(np.arange(n)[:, None], keep.shape)[keep]
    seq, entered, stage = seq[keep], entered[keep], stage[keep]
    order = np.lexsort((seq, opp))
    return pa.table(
        {
            "opportunity_id": pipeline.opportunity_ids.take(pa.array(opp[order])),
            "sequence": pa.array(seq[order].astype(np.int32)),
            "stage": pa.array(stage[order], pa.string()),
            "entered_date": pa.array(entered[order].astype("datetime64[D]")),
        },
        schema=TABLES["opportunity_stage_history"].schema,
    )
