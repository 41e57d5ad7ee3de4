"""Sales performance analytics: pure functions, frames in, frames out (one definition per metric).

The entry points an analyst uses, by what one row (or value) of the result is:

Periods (:mod:`.periods`)
    :func:`last_complete_month` (a month start), :func:`period_bounds` (first and last month of
    the month / quarter / year of a date), :func:`period_window` (its first and last day).
Bookings (:mod:`.bookings`)
    :func:`monthly_bookings`: one row per region and complete month;
    :func:`compare_bookings_12m`: the last 12 complete months against the 12 before (one value).
Pipeline (:mod:`.pipeline`)
    :func:`pipeline_by_stage`: one row per open stage; :func:`summarize_pipeline`: one summary;
    :func:`pipeline_coverage`: one row per forecast category (pipeline due / quota left).
Attainment (:mod:`.attainment`, :mod:`.teams`, :mod:`.rep_trends`): bookings / quota over the
same rep-months, whatever the window.
    ``attainment.attainment``: one row per rep, manager, region or the company over a period
    (bookings so far against the period's quota; not re-exported here, where the name is the
    module's); :func:`attainment_ytd`: one row per rep over the
    complete months of the year; :func:`summarize_attainment`: the team or company figure;
    :func:`rep_leaderboard_12m`: one row per full-year rep, ranked;
    :func:`attainment_trend_breaks`: one row per rep whose last 3 months break from the 9 before.
Funnel (:mod:`.funnel`)
    :func:`win_rate`: one row per group (won / closed deals); :func:`stage_conversion` and
    :func:`time_in_stage`: one row per group and open stage; :func:`detect_bottlenecks`: one row
    per group and open stage, tested against the rest of the company.
Velocity (:mod:`.velocity`)
    :func:`velocity_factors`: one row per group and period; :func:`velocity_change`: one row per
    group, the change split into the four factors.
Waterfall (:mod:`.waterfall`)
    :func:`pipeline_waterfall`: one row per bar (start, each flow, end) between two snapshots;
    :func:`waterfall_deals`: one row per deal that moved.
Deviations (:mod:`.anomaly`, :mod:`.variance`, :mod:`.risk`)
    :func:`flag_anomalous_weeks_pooled`: one row per region and week, scored;
    :func:`price_volume_mix`: one row per product; :func:`pvm_by_family`: one row per family;
    :func:`deal_risk_flags`: one row per flagged open deal.
"""

from __future__ import annotations

from salesops_lib.analytics.performance.anomaly import flag_anomalous_weeks_pooled
from salesops_lib.analytics.performance.attainment import attainment_ytd, with_later_quotas
from salesops_lib.analytics.performance.bookings import compare_bookings_12m, monthly_bookings
from salesops_lib.analytics.performance.funnel import (
    detect_bottlenecks,
    stage_conversion,
    time_in_stage,
    win_rate,
)
from salesops_lib.analytics.performance.periods import (
    last_complete_month,
    period_bounds,
    period_window,
)
from salesops_lib.analytics.performance.pipeline import (
    pipeline_by_stage,
    pipeline_coverage,
    summarize_pipeline,
)
from salesops_lib.analytics.performance.rep_trends import (
    attainment_trend_breaks,
    rep_leaderboard_12m,
)
from salesops_lib.analytics.performance.risk import deal_risk_flags
from salesops_lib.analytics.performance.teams import summarize_attainment
from salesops_lib.analytics.performance.variance import price_volume_mix, pvm_by_family
from salesops_lib.analytics.performance.velocity import velocity_change, velocity_factors
from salesops_lib.analytics.performance.waterfall import pipeline_waterfall, waterfall_deals

__all__ = [
    "attainment_trend_breaks",
    "attainment_ytd",
    "compare_bookings_12m",
    "deal_risk_flags",
    "detect_bottlenecks",
    "flag_anomalous_weeks_pooled",
    "last_complete_month",
    "monthly_bookings",
    "period_bounds",
    "period_window",
    "pipeline_by_stage",
    "pipeline_coverage",
    "pipeline_waterfall",
    "price_volume_mix",
    "pvm_by_family",
    "rep_leaderboard_12m",
    "stage_conversion",
    "summarize_attainment",
    "summarize_pipeline",
    "time_in_stage",
    "velocity_change",
    "velocity_factors",
    "waterfall_deals",
    "win_rate",
    "with_later_quotas",
]
