"""The demo's planted parameters: the known answers that ``_truth.json`` records.

Everything the generator plants (seasonality, ramp, rep performance, the stage bottleneck, the
anomalous week, the price increase, the customer behaviour groups) is defined here as plain
constants, so the generator modules read as mechanics and this file reads as the answer key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SEASONALITY: tuple[float, ...] = (0.85, 0.9, 1.0, 0.95, 0.95, 0.9, 0.75, 0.7, 1.0, 1.1, 1.2, 1.35)
"""Order-rate factor per calendar month, January to December (Q4 high, summer low)."""

QUARTER_END_DAYS = 14
"""The last this-many days of each quarter get :data:`QUARTER_END_FACTOR`."""
QUARTER_END_FACTOR = 2.0
WEEKEND_FACTOR = 0.1
"""Order-rate factor on Saturdays and Sundays (B2B orders are booked on working days)."""

RAMP_START = 0.1
"""Productivity of a rep on the hire date, as a share of full productivity."""
RAMP_MONTHS = 6.0
"""Months after hire at which a rep reaches full productivity (linear ramp)."""
DAYS_PER_MONTH = 30.4375

REGION_REP_COUNTS: tuple[int, ...] = (30, 26, 22, 12, 18, 16, 10, 16)
"""Sales reps per region, in region order (repeated if there are more regions)."""
REPS_PER_MANAGER = 8
NEW_HIRE_SHARE = 0.45
"""Share of reps hired within the three-year window (the rest are veterans)."""
PRODUCTIVITY_SIGMA = 0.06
"""Log-normal spread of ordinary reps' productivity around 1."""
UNDER_PERFORMER_PRODUCTIVITY: tuple[float, ...] = (0.42, 0.48)
STAR_PRODUCTIVITY = 1.9

ANOMALY_FACTOR = 0.25
"""Order-rate factor in the anomalous region and week (bookings down about 75%; 0.35 before won
deals were booked as orders, whose lumps make weekly bookings noisier: issue 12)."""
ANOMALY_MIN_WEEKS_BACK = 26
"""The anomalous week starts at least this many weeks before the as-of date."""

PRICE_INCREASE_FAMILY = "Hardware"
PRICE_INCREASE_FACTOR = 1.08
PRICE_INCREASE_MONTHS_BACK = 14
"""The increase takes effect on the first day of the month this many months before as-of."""

BOTTLENECK_REGION = "dach"
"""Region whose Negotiation stage is slow (falls back to the sixth configured region)."""
STAGE_MEAN_DAYS: tuple[float, ...] = (12.0, 16.0, 20.0, 14.0)
"""Mean days an opportunity spends in each open stage before moving on or being lost."""
STAGE_ADVANCE_PROBABILITY: tuple[float, ...] = (0.7, 0.7, 0.7)
"""Probability of advancing from Prospecting, Qualification, Proposal to the next stage."""
NEGOTIATION_SLOWDOWN = 2.0
WIN_RATE_FROM_NEGOTIATION = 0.7
BOTTLENECK_WIN_RATE_FROM_NEGOTIATION = 0.4
PUSH_DAYS = 30
"""An open deal whose expected close date passes is pushed out by this many days."""
WIN_FACTOR_PER_PUSH = 0.6
"""Slipped deals win less: the win chance from Negotiation is multiplied by this per push."""
PLANTED_SLIPS = 20
PLANTED_PULL_INS = 10

FAMILIES: tuple[str, ...] = (
    "Hardware",
    "Software Licenses",
    "Subscriptions",
    "Professional Services",
    "Support",
    "Training",
)
FAMILY_PRODUCTS: dict[str, tuple[str, ...]] = {
    "Hardware": (
        "Edge Gateway 100",
        "Edge Gateway 500",
        "Rack Server R2",
        "Rack Server R4",
        "Storage Array S8",
        "Storage Array S16",
        "Network Switch 48p",
        "Rugged Tablet T1",
    ),
    "Software Licenses": (
        "Analytics Suite",
        "Planning Studio",
        "Data Integration Hub",
        "Security Manager",
        "Workflow Designer",
        "Reporting Server",
        "Mobile SDK",
        "Compliance Toolkit",
    ),
    "Subscriptions": (
        "Cloud Starter Seat",
        "Cloud Team Seat",
        "Cloud Enterprise Seat",
        "API Calls Pack",
        "Storage Add-on 1TB",
        "Backup Vault",
        "Monitoring Seat",
        "Collaboration Seat",
    ),
    "Professional Services": (
        "Implementation Day",
        "Architecture Review",
        "Data Migration Day",
        "Custom Integration Day",
        "Project Management Day",
        "Health Check",
        "Onsite Consultant Day",
    ),
    "Support": (
        "Standard Support",
        "Premium Support",
        "24x7 Support",
        "Extended Warranty",
        "Technical Account Manager",
        "Hardware Care Pack",
        "Upgrade Assurance",
    ),
    "Training": (
        "Admin Course",
        "Developer Course",
        "Analyst Workshop",
        "Certification Exam",
        "Onsite Training Day",
        "E-learning Library",
    ),
}
FAMILY_PRICE_RANGE: dict[str, tuple[float, float]] = {
    "Hardware": (80.0, 1500.0),
    "Software Licenses": (200.0, 4000.0),
    "Subscriptions": (10.0, 120.0),
    "Professional Services": (120.0, 240.0),
    "Support": (30.0, 600.0),
    "Training": (40.0, 250.0),
}
"""List price range per family (per unit: a device, a licence, a seat-month, an hour)."""

WON_DEALS_SHARE_OF_BOOKINGS = 0.1
"""Share of expected bookings booked by won opportunities: every deal won on or before as-of is
one order (its lines carry the opportunity id); the rest is run-rate business (repeat and small
orders) that never appears as an opportunity. Quotas are the expected total of both."""
FORECAST_AGREEMENT_TOLERANCE = 0.10
"""The demo's pipeline-based and statistical quarter forecasts agree within this share..."""
FORECAST_AGREEMENT_GROWTH_LIMIT = 0.25
"""...unless the quarter's planned bookings grow at least this much over a year earlier: the
statistical models lag fast planted growth (recorded per scope in the truth file)."""
DEAL_HORIZON_DAYS = 240
"""Deals close up to this many days after the as-of date (the open pipeline's future)."""
DEAL_OVERDRAW = 1.5
"""Close days drawn per opportunity kept (draws created after as-of, or before their account
or owner existed, are dropped)."""


@dataclass(frozen=True)
class BehaviourGroup:
    """One planted customer behaviour group.

    Attributes:
        name: Group id recorded per account in the truth file.
        share: Share of accounts in the group.
        orders_per_month: Relative order rate (scaled so the total hits the requested size).
        extra_lines_mean: Lines per order are ``1 + Poisson(extra_lines_mean)``, at most 5.
        extra_quantity_mean: Quantity per line is ``1 + Poisson(extra_quantity_mean)``.
        discount_mean: Mean discount per line.
        discount_sd: Spread of the discount per line.
        family_mix: Probability of each product family (in :data:`FAMILIES` order) per line.
        size_band_mix: Probability of SMB, Mid-Market and Enterprise.
        growth: Order-rate factor at the window's end relative to its start (linear in time).
        lapses: Whether accounts stop ordering 12-24 months before the as-of date.
    """

    name: str
    share: float
    orders_per_month: float
    extra_lines_mean: float
    extra_quantity_mean: float
    discount_mean: float
    discount_sd: float
    family_mix: tuple[float, ...]
    size_band_mix: tuple[float, float, float]
    growth: float = 1.0
    lapses: bool = False


GROUPS: tuple[BehaviourGroup, ...] = (
    BehaviourGroup("enterprise_loyal", 0.15, 2.0, 2.0, 8.0, 0.22, 0.02,
                   (0.0, 0.35, 0.30, 0.10, 0.25, 0.0), (0.0, 0.2, 0.8)),
    BehaviourGroup("smb_occasional", 0.35, 0.25, 0.3, 1.0, 0.01, 0.01,
                   (0.0, 0.0, 0.60, 0.0, 0.10, 0.30), (0.9, 0.1, 0.0)),
    BehaviourGroup("hardware_heavy", 0.20, 0.8, 1.0, 4.0, 0.09, 0.02,
                   (0.80, 0.0, 0.0, 0.0, 0.15, 0.05), (0.3, 0.6, 0.1)),
    BehaviourGroup("services_growing", 0.15, 0.6, 1.0, 3.0, 0.14, 0.02,
                   (0.0, 0.10, 0.0, 0.70, 0.0, 0.20), (0.1, 0.6, 0.3), growth=6.0),
    BehaviourGroup("lapsed_churned", 0.15, 1.0, 1.0, 3.0, 0.05, 0.02,
                   (0.35, 0.45, 0.0, 0.0, 0.20, 0.0), (0.4, 0.5, 0.1), lapses=True),
)  # fmt: skip
MAX_LINES_PER_ORDER = 5


def ramp(months_since_hire: np.ndarray) -> np.ndarray:
    """Return the productivity share for months since hire (0 before the hire date).

    Args:
        months_since_hire: Months (fractional) since the hire date; negative before it.

    Returns:
        ``RAMP_START`` rising linearly to 1 at ``RAMP_MONTHS``, then 1; 0 for negative input.
    """
    share = RAMP_START + (1.0 - RAMP_START) * np.asarray(months_since_hire) / RAMP_MONTHS
    return np.where(np.asarray(months_since_hire) < 0, 0.0, np.clip(share, 0.0, 1.0))


def expected_capped_count(extra_mean: float, cap: int = MAX_LINES_PER_ORDER) -> float:
    """Return E[min(1 + Poisson(extra_mean), cap)].

    Args:
        extra_mean: Mean of the Poisson part.
        cap: Largest allowed value.

    Returns:
        The expectation, computed from the Poisson probabilities.
    """
    total, mass = 0.0, 0.0
    for k in range(cap - 1):
        p = math.exp(-extra_mean) * extra_mean**k / math.factorial(k)
        total += (1 + k) * p
        mass += p
    return total + cap * (1.0 - mass)
