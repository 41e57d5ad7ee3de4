"""The planning report's planted signals: a region under capacity, a plan set too high, and an
unbalanced territory (issue 15; recorded under the truth file's ``planning`` key).

Each plant uses data the older signals do not depend on:

* **Under capacity** (region A): next year's first months are already planned (the demo plans
  through the quarter after the as-of quarter); A's quotas for the planned months of the
  planning year (as-of year + 1) are :data:`NEXT_YEAR_QUOTA_FACTOR` x what its team can carry,
  so its region targets (the sum of its quotas) for those months are too. Next year's target is
  then far above the current team's capacity: A needs hires.
* **Plan too high** (region B): B's quotas for the complete months of the as-of year before the
  as-of month are :data:`PLAN_TOO_HIGH_FACTOR` x the usual rule (targets follow), while its
  bookings stay as they were: well under 60% of its reps reach 100% of quota. B is never the
  star's region (the star must stay above 150%), nor the bottleneck or anomaly region.
* **Unbalanced territory** (region C): one veteran rep is handed every fourth account of each
  other veteran rep of C (never the planted under-performers or star) before quotas, orders and
  deals are drawn, so bookings, quotas and pipeline all follow the accounts: that rep's potential
  is far above C's mean while attainment stays normal.

The plants are chosen from the company's shape alone (no random draws), so every other part of
the demo draws the same numbers as before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from salesops_lib.sources.demo import plan
from salesops_lib.sources.demo.calendar import Calendar, day_number
from salesops_lib.sources.demo.orders import Volume, anomaly_region_index
from salesops_lib.sources.demo.shape import Shape, region_index

NEXT_YEAR_QUOTA_FACTOR = 3.0
"""Factor on region A's quotas for the planned months of the planning year."""
PLAN_TOO_HIGH_FACTOR = 1.4
"""Factor on region B's quotas for the as-of year's complete months before the as-of month."""
TERRITORY_TAKE_EVERY = 4
"""Region C's planted rep gets every this-many-th account of each other veteran rep of C."""
MIN_REPS = 6
"""A planted region needs at least this many reps (so a share of reps means something)."""


@dataclass(frozen=True)
class PlanningPlants:
    """Where the planning signals are planted (indices into the shape's arrays).

    Attributes:
        under_capacity_region: Region index of A (None when fewer than three regions qualify).
        plan_too_high_region: Region index of B (None likewise).
        territory_region: Region index of C (None likewise).
        territory_rep: Rep index of C's overloaded territory (None likewise).
        moved_accounts: Account indices handed to ``territory_rep``.
    """

    under_capacity_region: int | None
    plan_too_high_region: int | None
    territory_region: int | None
    territory_rep: int | None
    moved_accounts: tuple[int, ...] = ()


def choose_plants(shape: Shape, calendar: Calendar) -> PlanningPlants:
    """Pick regions A, B, C and C's planted rep from the company's shape (no random draws).

    Args:
        shape: The company (before :func:`plant_territory`).
        calendar: The demo's dates.

    Returns:
        The plants; regions are None when the company has too few eligible regions.
    """
    n_regions = len(shape.region_ids)
    counts = np.bincount(shape.rep_region, minlength=n_regions)
    bottleneck = region_index(shape, plan.BOTTLENECK_REGION, 5)
    anomaly = anomaly_region_index(shape)
    planted = {*shape.under_performers, shape.star}
    veteran = shape.rep_hire_day < day_number(calendar.start)
    ordinary = np.array([i not in planted for i in range(len(shape.rep_ids))])
    eligible = [
        r for r in range(n_regions) if r not in (bottleneck, anomaly) and counts[r] >= MIN_REPS
    ]
    star_region = int(shape.rep_region[shape.star])
    # B: not the star's region; fewest reps in their second year (whose 12-month attainment
    # is still held down by the ramp), so the planted under-performers stay last company-wide
    as_of = day_number(calendar.as_of)
    second_year = (shape.rep_hire_day > as_of - 548) & (shape.rep_hire_day <= as_of - 365)
    for_b = [r for r in eligible if r != star_region]
    if len(for_b) < 1 or len(eligible) < 3:
        return PlanningPlants(None, None, None, None)
    b = min(for_b, key=lambda r: (int((second_year & (shape.rep_region == r)).sum()), r))
    # C: the region with the most veteran ordinary reps (donors and the planted rep)
    for_c = [r for r in eligible if r != b]
    c = max(for_c, key=lambda r: (int((veteran & ordinary & (shape.rep_region == r)).sum()), -r))
    a = next(r for r in eligible if r not in (b, c))
    members = np.flatnonzero(veteran & ordinary & (shape.rep_region == c))
    if len(members) < 2:
        return PlanningPlants(a, b, None, None)
    rep = int(members[0])
    moved: list[int] = []
    for donor in members[1:]:
        owned = np.flatnonzero(shape.account_owner == donor)
        moved.extend(int(i) for i in owned[1::TERRITORY_TAKE_EVERY])
    return PlanningPlants(a, b, c, rep, tuple(sorted(moved)))


def plant_territory(shape: Shape, plants: PlanningPlants) -> Shape:
    """Hand the planted accounts to region C's planted rep (a new shape; same region).

    Args:
        shape: The company as drawn.
        plants: From :func:`choose_plants`.

    Returns:
        A new shape with ``account_owner`` and the accounts table's ``owner_rep_id`` changed.
    """
    if plants.territory_rep is None or not plants.moved_accounts:
        return shape
    owner = shape.account_owner.copy()
    owner[list(plants.moved_accounts)] = plants.territory_rep
    table = shape.accounts_table
    column = table.schema.get_field_index("owner_rep_id")
    owners = pa.array(shape.rep_ids[owner], type=table.schema.field(column).type)
    return dataclasses.replace(
        shape,
        account_owner=owner,
        accounts_table=table.set_column(column, table.schema.field(column), owners),
    )


def _month_columns(calendar: Calendar, keep: Any) -> np.ndarray:
    """Indices of ``Calendar.plan_months`` for which ``keep(month)`` is true."""
    return np.array([m for m, month in enumerate(calendar.plan_months) if keep(month)], dtype=int)


def planning_year(calendar: Calendar) -> int:
    """The year the planted plan is for: the year after the as-of year."""
    return calendar.as_of.year + 1


def next_year_months(calendar: Calendar) -> list[dt.date]:
    """Region A's planted months: the planned months of the planning year."""
    return [m for m in calendar.plan_months if m.year == planning_year(calendar)]


def too_high_months(calendar: Calendar) -> list[dt.date]:
    """Region B's planted months: the as-of year's months before the as-of month."""
    first = dt.date(calendar.as_of.year, calendar.as_of.month, 1)
    return [m for m in calendar.plan_months if m.year == calendar.as_of.year and m < first]


def plant_quotas(
    volume: Volume, shape: Shape, calendar: Calendar, plants: PlanningPlants
) -> Volume:
    """A new volume whose quotas carry plants A and B (order rates are left alone).

    Args:
        volume: The volume as planned.
        shape: The company.
        calendar: The demo's dates.
        plants: From :func:`choose_plants`.

    Returns:
        A new :class:`Volume` (quotas rounded to the hundred like the rest).
    """
    quotas = volume.quotas.copy()
    for region, months, factor in (
        (plants.under_capacity_region, next_year_months(calendar), NEXT_YEAR_QUOTA_FACTOR),
        (plants.plan_too_high_region, too_high_months(calendar), PLAN_TOO_HIGH_FACTOR),
    ):
        if region is None or not months:
            continue
        columns = _month_columns(calendar, lambda month, chosen=months: month in chosen)
        reps = np.flatnonzero(shape.rep_region == region)
        block = quotas[np.ix_(reps, columns)]
        quotas[np.ix_(reps, columns)] = np.round(block * factor, -2)
    return dataclasses.replace(volume, quotas=quotas)


def planning_truth(shape: Shape, calendar: Calendar, plants: PlanningPlants) -> dict[str, Any]:
    """The ``planning`` entry of the truth file.

    Args:
        shape: The company (after :func:`plant_territory`).
        calendar: The demo's dates.
        plants: From :func:`choose_plants`.

    Returns:
        A JSON-ready dict; a plant whose region could not be chosen is None.
    """

    def region(index: int | None) -> str | None:
        return None if index is None else shape.region_ids[index]

    territory = None
    if plants.territory_rep is not None:
        territory = {
            "region_id": region(plants.territory_region),
            "rep_id": shape.rep_ids[plants.territory_rep],
            "accounts_moved_in": sorted(shape.account_ids[list(plants.moved_accounts)].tolist()),
            "rule": f"every {TERRITORY_TAKE_EVERY}th account of each other veteran rep of the "
            "region (under-performers and star excepted) handed to this rep before any order",
        }
    return {
        "planning_year": planning_year(calendar),
        "under_capacity": {
            "region_id": region(plants.under_capacity_region),
            "planned_months": [m.isoformat() for m in next_year_months(calendar)],
            "quota_factor": NEXT_YEAR_QUOTA_FACTOR,
            "rule": "quotas (and so region targets) of the planning year's planned months x "
            "quota_factor: next year's target is far above the team's capacity (needs hires)",
        },
        "plan_too_high": {
            "region_id": region(plants.plan_too_high_region),
            "months": [m.isoformat() for m in too_high_months(calendar)],
            "quota_factor": PLAN_TOO_HIGH_FACTOR,
            "rule": "quotas (and region targets) of these months x quota_factor, bookings "
            "unchanged: well under 60% of the region's reps reach 100% of quota",
        },
        "unbalanced_territory": territory,
    }
