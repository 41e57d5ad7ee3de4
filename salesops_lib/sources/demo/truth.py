"""The ground truth: what the generator planted, where, when and how big (``_truth.json``)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from salesops_lib.sources.demo import deals, plan
from salesops_lib.sources.demo.calendar import Calendar, day_number, from_day_number
from salesops_lib.sources.demo.orders import anomaly_region_index
from salesops_lib.sources.demo.pipeline import Pipeline, close_dates
from salesops_lib.sources.demo.shape import Shape, region_index


def build_truth(
    shape: Shape, pipeline: Pipeline, calendar: Calendar, seed: int, order_lines: int
) -> dict[str, Any]:
    """Describe every planted signal.

    Args:
        shape: The company.
        pipeline: The opportunities.
        calendar: The demo's dates.
        seed: The generator's seed.
        order_lines: The requested number of order lines.

    Returns:
        A JSON-ready dict (see the keys below); the same for every weekly snapshot.
    """
    regions = shape.region_ids
    bottleneck = regions[region_index(shape, plan.BOTTLENECK_REGION, 5)]
    anomaly_start = calendar.anomaly_week_start
    family = plan.PRICE_INCREASE_FAMILY
    family_index = plan.FAMILIES.index(family)
    new_hires = shape.rep_hire_day >= day_number(calendar.start)
    return {
        "generator": {
            "seed": seed,
            "order_lines_requested": order_lines,
            "as_of": calendar.as_of.isoformat(),
            "history_start": calendar.start.isoformat(),
            "snapshot_dates": [d.isoformat() for d in calendar.snapshot_dates],
        },
        "seasonality": {
            "monthly_factor": {str(m + 1): f for m, f in enumerate(plan.SEASONALITY)},
            "quarter_end_days": plan.QUARTER_END_DAYS,
            "quarter_end_factor": plan.QUARTER_END_FACTOR,
            "weekend_factor": plan.WEEKEND_FACTOR,
        },
        "rep_ramp": {
            "months_to_full_productivity": plan.RAMP_MONTHS,
            "curve": {str(m): float(plan.ramp(np.array(float(m)))) for m in range(13)},
            "new_hire_rep_ids": sorted(shape.rep_ids[new_hires].tolist()),
        },
        "stage_bottleneck": {
            "region_id": bottleneck,
            "stage": "Negotiation",
            "duration_factor": plan.NEGOTIATION_SLOWDOWN,
            "mean_days_in_stage": dict(
                zip(
                    ("Prospecting", "Qualification", "Proposal", "Negotiation"),
                    plan.STAGE_MEAN_DAYS,
                    strict=True,
                )
            ),
            "win_rate_from_negotiation": plan.BOTTLENECK_WIN_RATE_FROM_NEGOTIATION,
            "win_rate_from_negotiation_elsewhere": plan.WIN_RATE_FROM_NEGOTIATION,
        },
        "slip_behaviour": {
            "win_factor_per_push": plan.WIN_FACTOR_PER_PUSH,
            "push_days": plan.PUSH_DAYS,
            "rule": "win chance from Negotiation x win_factor_per_push ** pushes by the close date",
        },
        "rep_performance": {
            "under_performers": [
                {"rep_id": shape.rep_ids[i], "productivity": float(shape.rep_productivity[i])}
                for i in shape.under_performers
            ],
            "star": {
                "rep_id": shape.rep_ids[shape.star],
                "productivity": float(shape.rep_productivity[shape.star]),
            },
            "ordinary_productivity_sigma": plan.PRODUCTIVITY_SIGMA,
            "quota_rule": "expected bookings of the rep's accounts at productivity 1 (ramped)",
            "plan_through": calendar.plan_months[-1].isoformat(),
        },
        "anomalous_week": {
            "region_id": regions[anomaly_region_index(shape)],
            "week_start": anomaly_start.isoformat(),
            "week_end": from_day_number(day_number(anomaly_start) + 6).isoformat(),
            "order_rate_factor": plan.ANOMALY_FACTOR,
        },
        "price_increase": {
            "family": family,
            "effective_date": calendar.price_increase_date.isoformat(),
            "factor": plan.PRICE_INCREASE_FACTOR,
            "product_ids": sorted(shape.product_ids[shape.product_family == family_index].tolist()),
        },
        "behaviour_groups": {
            "groups": {g.name: dataclasses.asdict(g) for g in plan.GROUPS},
            "account_groups": {
                a: plan.GROUPS[g].name
                for a, g in zip(shape.account_ids, shape.account_group, strict=True)
            },
        },
        "pipeline_moves": _moves(pipeline, calendar),
        "linked_pipeline": linked_pipeline(pipeline, calendar),
    }


def linked_pipeline(pipeline: Pipeline, calendar: Calendar) -> dict[str, Any]:
    """How won deals are booked as orders, and the share of bookings they plan to be.

    Args:
        pipeline: The opportunities (with their order lines).
        calendar: The demo's dates.

    Returns:
        The ``linked_pipeline`` entry: the planned share, the rule linking a won deal to its
        order, and the won deals booked up to the as-of date (count and amount, to the cent).
    """
    booked = pipeline.won & (pipeline.closed_on <= day_number(calendar.as_of))
    return {
        "won_deals_share_of_bookings": plan.WON_DEALS_SHARE_OF_BOOKINGS,
        "share_rule": (
            "expected bookings = run-rate orders (no opportunity) + won deals; won deals are "
            "drawn in proportion to the accounts' order rates, so their share is steady over "
            "time, regions and reps; quotas are the expected total of both"
        ),
        "link": (
            "every opportunity Closed Won on or before as-of is one order on its close date: "
            "its account, owner rep and product, 1-5 lines with opportunity_id set, whose "
            "amounts add up to the deal's amount to the cent; run-rate lines have no opportunity"
        ),
        "order_id_rule": f"{deals.ORDER_ID_PREFIX}<opportunity number>",
        "won_deals_booked": int(booked.sum()),
        "won_amount_booked": round(float(pipeline.proposal_amount[booked].sum()), 2),
    }


def _moves(pipeline: Pipeline, calendar: Calendar) -> dict[str, Any]:
    """The planted slips and pull-ins between the as-of date and one week before."""
    as_of = day_number(calendar.as_of)
    before, _ = close_dates(pipeline, as_of - 7, as_of)
    after, _ = close_dates(pipeline, as_of, as_of)

    def rows(indices: np.ndarray) -> list[dict[str, str]]:
        return [
            {
                "opportunity_id": pipeline.opportunity_ids[int(i)].as_py(),
                "old_close_date": from_day_number(before[i]).isoformat(),
                "new_close_date": from_day_number(after[i]).isoformat(),
            }
            for i in indices
        ]

    return {
        "previous_as_of": from_day_number(as_of - 7).isoformat(),
        "previous_is_a_snapshot": len(calendar.snapshot_dates) >= 2,
        "as_of": calendar.as_of.isoformat(),
        "slips": rows(pipeline.slips),
        "pull_ins": rows(pipeline.pull_ins),
    }


def truth_bytes(truth: dict[str, Any]) -> bytes:
    """Serialise the truth as deterministic JSON (sorted keys, two-space indent, newline)."""
    return (json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
