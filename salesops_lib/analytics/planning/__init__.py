"""Sales planning analytics: capacity, quotas, plan health, territories (pure, frames in/out).

The entry points, by what one row (or value) of the result is:

Capacity (:mod:`.capacity`)
    :func:`ramped_equivalents`: one row per region and month; :func:`productivity`: one row
    per region plus "all" (median attainment of ramped reps); :func:`rep_capacity`: one row per
    rep and month; :func:`team_capacity`: one row per region and quarter; :func:`capacity_gap`:
    one row per region; :func:`hiring_plan`: one row per candidate start month;
    :func:`ramp_from_curve` (:mod:`.ramp`): the planning ramp from the measured ramp curve.
Quotas (:mod:`.quotas`), in the snapshot's ``quotas`` schema (rep_id, month, quota_amount)
    :func:`quota_history`: one row per rep (the allocation bases); :func:`top_down_quotas`,
    :func:`bottom_up_quotas`: one row per rep and month; :func:`quota_gap`: one row per
    company / region / manager; :func:`seasonality_from_history`: one row per calendar month.
Plan health (:mod:`.health`)
    :func:`rep_period_attainment`: one row per rep and period; :func:`attainment_health`: one
    row per period and region (or another cut); :func:`coverage_needed` (one value);
    :func:`coverage_check`: one row per region.
Territories (:mod:`.territories`)
    :func:`territory_balance`: one row per rep; :func:`rebalance_territories`: a
    :class:`Rebalance` (moves, before, after, status, reason, regions).
"""

from salesops_lib.analytics.planning.capacity import (
    capacity_gap,
    hiring_plan,
    productivity,
    ramped_equivalents,
    rep_capacity,
    team_capacity,
)
from salesops_lib.analytics.planning.health import (
    attainment_health,
    coverage_check,
    coverage_needed,
    rep_period_attainment,
    tenure_band,
)
from salesops_lib.analytics.planning.quotas import (
    METHODS,
    bottom_up_quotas,
    check_growth,
    check_over_assignment,
    quota_gap,
    quota_history,
    seasonality_from_history,
    top_down_quotas,
)
from salesops_lib.analytics.planning.ramp import check_attrition, check_ramp, ramp_from_curve
from salesops_lib.analytics.planning.territories import (
    Rebalance,
    check_tolerance,
    rebalance_territories,
    territory_balance,
)

__all__ = [
    "METHODS",
    "Rebalance",
    "attainment_health",
    "bottom_up_quotas",
    "capacity_gap",
    "check_attrition",
    "check_growth",
    "check_over_assignment",
    "check_ramp",
    "check_tolerance",
    "coverage_check",
    "coverage_needed",
    "hiring_plan",
    "productivity",
    "quota_gap",
    "quota_history",
    "ramp_from_curve",
    "ramped_equivalents",
    "rebalance_territories",
    "rep_capacity",
    "rep_period_attainment",
    "seasonality_from_history",
    "team_capacity",
    "tenure_band",
    "territory_balance",
    "top_down_quotas",
]
