"""The compensation plan model: frozen dataclasses for a parsed plans file, and the result.

Units (see the package docstring): credits, quotas and tier thresholds of amount tables are held
as integer micro-units (1e-6 of the currency); rates as integer parts per million
(``rate_ppm``); a commission slice is ``micro * ppm``, an integer in 1e-12 of the currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

MICRO = 1_000_000
"""Micro-units per currency unit (credits, quotas, thresholds)."""
EXACT = MICRO * MICRO
"""Exact units (1e-12) per currency unit: a micro-unit amount times a rate in ppm."""

PERIODS = ("month", "quarter", "year")
TIER_MODES = ("marginal", "retroactive")
ACCUMULATE = ("per_transaction", "period_to_date")
TIER_BASIS = ("attainment", "amount")
CREDIT_RULES = ("owner", "split")
SPLIT_TYPES = ("revenue", "overlay")
TRUE_UPS = ("none", "quarterly", "annual")


@dataclass(frozen=True)
class Tier:
    """One tier of a rate table: ``[lower, upper)``; the last tier is open (``upper=None``).

    Attributes:
        label: ``T1``, ``T2``... (1-based, in order).
        lower: Lower bound as written (percent of quota or currency amount).
        upper: Upper bound as written, ``None`` for the open last tier.
        rate: Commission rate as written (0.05 = 5%).
        rate_ppm: The rate in parts per million (exact).
    """

    label: str
    lower: Decimal
    upper: Decimal | None
    rate: Decimal
    rate_ppm: int


@dataclass(frozen=True)
class RateTable:
    """Tiers in effect from ``effective`` (deals credited on or after it, until the next)."""

    effective: dt.date
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class Gate:
    """Below ``min_attainment`` (percent) the period's commission is multiplied by ``factor``."""

    min_attainment: Decimal
    factor: Decimal = Decimal(0)


@dataclass(frozen=True)
class PeriodCap:
    """At most ``amount`` of commission per period; the excess carries over if asked."""

    amount: Decimal
    carry_over: bool = False


@dataclass(frozen=True)
class Spif:
    """A time-boxed bonus: per qualifying deal credited in ``[start, end]``, until the budget."""

    name: str
    start: dt.date
    end: dt.date
    budget: Decimal
    per_deal: Decimal = Decimal(0)
    rate: Decimal = Decimal(0)
    min_amount: Decimal = Decimal(0)


@dataclass(frozen=True)
class Draw:
    """A guaranteed advance for the first ``periods`` periods on the plan (or after hire).

    If the period's commission is below ``amount`` the difference is paid as a draw. A
    recoverable draw is a balance recovered from later commission above the draw, at most
    ``recovery_pct`` percent of that period's commission.
    """

    amount: Decimal
    periods: int
    recoverable: bool = True
    recovery_pct: Decimal = Decimal(100)


@dataclass(frozen=True)
class Plan:
    """One compensation plan as declared in the plans file.

    Attributes:
        plan_id: Key under ``plans:``.
        name: Display name.
        period: ``month``, ``quarter`` or ``year``.
        currency: ISO currency code.
        ote: On-target earnings per year.
        base_pct: Base share of OTE in percent (variable = 100 - base_pct).
        product_families: Measure filter (empty = every family).
        deal_types: Measure filter (empty = every deal type).
        credit_rule: ``owner`` (full amount) or ``split`` (amount x split_pct).
        split_type: ``revenue`` (splits of a deal sum to 100%) or ``overlay`` (may exceed).
        tier_basis: ``attainment`` (tier bounds in percent of quota) or ``amount``.
        tier_mode: ``marginal`` or ``retroactive``.
        retro_from_tier: With ``retroactive``: reaching tier N pays tier N's rate on everything
            below it, tiers above stay marginal (``None`` = fully retroactive).
        accumulate: ``per_transaction`` or ``period_to_date``.
        rate_tables: Rate tables by effective date, ascending.
        gate: Optional minimum-attainment gate.
        deal_cap: Optional cap on one deal's commission.
        period_cap: Optional cap per period.
        spifs: Time-boxed SPIFs.
        draw: Optional draw.
        clawback_days: Cancellation window in days (``None`` = no clawback).
        true_up: ``none``, ``quarterly`` or ``annual``.
        ramp: Quota percent for the first periods after hire (e.g. ``(50, 75)``).
        line: Line of the plan in the plans file.
    """

    plan_id: str
    name: str
    period: str
    currency: str
    ote: Decimal
    base_pct: Decimal
    product_families: tuple[str, ...]
    deal_types: tuple[str, ...]
    credit_rule: str
    split_type: str
    tier_basis: str
    tier_mode: str
    retro_from_tier: int | None
    accumulate: str
    rate_tables: tuple[RateTable, ...]
    gate: Gate | None = None
    deal_cap: Decimal | None = None
    period_cap: PeriodCap | None = None
    spifs: tuple[Spif, ...] = ()
    draw: Draw | None = None
    clawback_days: int | None = None
    true_up: str = "none"
    ramp: tuple[Decimal, ...] = ()
    line: int = 0

    def table_on(self, day: dt.date) -> RateTable:
        """The rate table in effect on ``day`` (the first one for days before every table)."""
        chosen = self.rate_tables[0]
        for table in self.rate_tables:
            if table.effective <= day:
                chosen = table
        return chosen


@dataclass(frozen=True)
class PlanBook:
    """A validated plans file.

    Attributes:
        plans: plan_id -> Plan.
        assignments: One row per rep x plan x date range: rep_id, plan_id, start_date,
            end_date (NaT = open), role (``revenue``/``overlay``), quota (per plan period when
            the assignment gives one, else NaN: the quotas file), line.
        source: File name (or ``<text>``).
        text: The exact YAML text (statements quote it).
        version: sha256 hex of the YAML bytes.
        splits: One row per declared deal split share: deal_id, rep_id, split_pct, split_type.
    """

    plans: Mapping[str, Plan]
    assignments: pd.DataFrame
    source: str
    text: str
    version: str
    splits: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"deal_id": [], "rep_id": [], "split_pct": [], "split_type": []}
        )
    )


PAYOUT_COLUMNS: tuple[str, ...] = (
    "rep_id",
    "plan_id",
    "period",
    "period_start",
    "period_end",
    "quota",
    "credit",
    "attainment",
    "commission",
    "spif",
    "clawback",
    "draw",
    "draw_recovery",
    "true_up",
    "capped_excess",
    "held",
    "payout",
    "gate_met",
    "capped",
)
LINE_COLUMNS: tuple[str, ...] = (
    "rep_id",
    "plan_id",
    "period",
    "deal_id",
    "credit_date",
    "credit",
    "tier",
    "rate",
    "amount",
    "kind",
    "note",
)
LINE_KINDS: tuple[str, ...] = (
    "commission",
    "spif",
    "clawback",
    "draw",
    "draw_recovery",
    "true_up",
    "cap",
    "gate",
)


@dataclass(frozen=True)
class PayoutResult:
    """The engine's output.

    Attributes:
        payouts: One row per rep_id x period (:data:`PAYOUT_COLUMNS`, then ``cap_release``
            (carried-over excess paid this period) and ``plans`` (every plan of the period,
            ``plan_id`` being the last)); money columns are each rounded to cents once, at the
            end, ROUND_HALF_UP; ``payout = commission - capped_excess + cap_release + spif +
            clawback + draw + draw_recovery + true_up`` computed exactly, then rounded
            (clawback and draw_recovery are negative; held is not paid).
        lines: One row per credited deal x tier slice and per spif / clawback / draw /
            draw_recovery / true_up / cap / gate line (:data:`LINE_COLUMNS`, then ``rate_ppm``);
            ``amount`` is the exact, unrounded value as a float; the lines of a rep x period
            sum to its payout before rounding.
        unassigned: The credit rows (as given, after declared splits and ``as_of``) of reps on
            no plan on their credit date: not paid; the report lists them as anomalies.
    """

    payouts: pd.DataFrame
    lines: pd.DataFrame
    unassigned: pd.DataFrame = field(default_factory=pd.DataFrame)
