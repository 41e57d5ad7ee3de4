"""Build steps of the performance topic: the stage statistics, once per snapshot, every scope.

The funnel statistics compare a region with the rest of the company (and a rep with the rest of
their region), so they need every region's stage history and run statistical tests (scipy);
computing them once here keeps both out of every report run. Each table has a ``scope`` column:
a region id for rows a regional report shows, ``all`` for the company report's rows.

* ``an_stage_tests``: one row per scope x stage: the scope's (region's, or each region's in
  scope ``all`` with ``region_id``) time in stage and conversion against the rest of the
  company, with the Holm-adjusted test results and whether the stage is a bottleneck;
* ``an_rep_stage_tests``: one row per scope x rep x stage: a rep against the rest of their
  region, the same measures and tests;
* ``an_stage_conversion``: one row per scope x stage: deals that entered the stage, converted
  to the next, the conversion rate, stays and median days in stage, beside the company's.
"""

from __future__ import annotations

import pandas as pd

from salesops_lib.analytics.build import BuildContext, BuildStep
from salesops_lib.analytics.performance import funnel
from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.core.stages import StageModel

STAGE_TEST_COLUMNS: tuple[str, ...] = (
    "stage", "stays_group", "stays_rest", "median_days_group", "median_days_rest",
    "time_ratio", "time_p_value", "time_p_adjusted", "is_slow", "entered_group",
    "entered_rest", "conversion_group", "conversion_rest", "conversion_diff",
    "conversion_p_value", "conversion_p_adjusted", "is_weak", "is_bottleneck", "reason",
)  # fmt: skip
"""Columns of :func:`~salesops_lib.analytics.performance.funnel.detect_bottlenecks` after the
group column."""

CONVERSION_MEASURES: tuple[str, ...] = (
    "entered", "converted", "conversion_rate", "stays", "median_days",
)  # fmt: skip
"""Conversion and time-in-stage columns of one scope (the company's carry ``_company``)."""

STAGE_COLUMNS = ("opportunity_id", "sequence", "stage", "stage_order", "days_in_stage",
                 "is_current")  # fmt: skip
OPPORTUNITY_COLUMNS = ("opportunity_id", "region_id", "owner_rep_id")


def _frame(rows: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    """``rows`` with exactly ``columns`` (an empty frame with them when there are no rows)."""
    if rows is None or rows.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})
    return rows[columns].reset_index(drop=True)


def region_stage_tests(
    stage_changes: pd.DataFrame,
    opportunities: pd.DataFrame,
    regions: list[str],
    stages: StageModel | None = None,
) -> pd.DataFrame:
    """Every region's open stages tested against the rest of the company, at every scope.

    Args:
        stage_changes: ``fct_stage_changes`` rows, all regions.
        opportunities: ``fct_opportunities`` rows (opportunity_id, region_id), all regions.
        regions: Every region id of the snapshot.

    Returns:
        One row per scope, region and open stage: scope (the region, or ``all`` for the
        company report, which holds every region's rows), region_id and the columns of
        :func:`~salesops_lib.analytics.performance.funnel.detect_bottlenecks`.
    """
    columns = ["scope", "region_id", *STAGE_TEST_COLUMNS]
    if stage_changes.empty or opportunities.empty:
        return _frame(None, columns)
    tests = funnel.detect_bottlenecks(stage_changes, opportunities, stages=stages)
    if tests.empty:
        return _frame(None, columns)
    scoped = [tests.assign(scope=ALL_REGIONS)]
    scoped += [tests[tests["region_id"] == region].assign(scope=region) for region in regions]
    return _frame(pd.concat(scoped, ignore_index=True), columns)


def rep_stage_tests_of_region(
    item: tuple[str, pd.DataFrame, pd.DataFrame, StageModel],
) -> pd.DataFrame:
    """One region's reps tested against the rest of the region (a module-level, picklable task).

    Args:
        item: ``(region_id, stage_changes, opportunities, stage_model)``, both frames of that
            region only.

    Returns:
        One row per rep and open stage: scope (the region), owner_rep_id and the columns of
        :func:`~salesops_lib.analytics.performance.funnel.detect_bottlenecks`.
    """
    region, stage_changes, opportunities, stages = item
    columns = ["scope", "owner_rep_id", *STAGE_TEST_COLUMNS]
    if stage_changes.empty or opportunities.empty:
        return _frame(None, columns)
    tests = funnel.detect_bottlenecks(
        stage_changes, opportunities, group_by="owner_rep_id", stages=stages
    )
    return _frame(tests.assign(scope=region) if len(tests) else None, columns)


def stage_conversion_by_scope(
    stage_changes: pd.DataFrame,
    opportunities: pd.DataFrame,
    regions: list[str],
    stages: StageModel | None = None,
) -> pd.DataFrame:
    """Conversion and median time in each open stage per scope, beside the company's figures.

    Args:
        stage_changes: ``fct_stage_changes`` rows, all regions.
        opportunities: ``fct_opportunities`` rows (opportunity_id, region_id), all regions.
        regions: Every region id of the snapshot.

    Returns:
        One row per scope and open stage: scope, stage, entered, converted, conversion_rate,
        stays, median_days (over the scope's deals; see
        :func:`~salesops_lib.analytics.performance.funnel.stage_conversion` and
        :func:`~salesops_lib.analytics.performance.funnel.time_in_stage`) and the same five
        over the whole company with the suffix ``_company``.
    """
    company_columns = [f"{c}_company" for c in CONVERSION_MEASURES]
    columns = ["scope", "stage", *CONVERSION_MEASURES, *company_columns]
    if stage_changes.empty or opportunities.empty:
        return _frame(None, columns)

    def measures(deals: pd.DataFrame, group_by: str) -> pd.DataFrame:
        rates = funnel.stage_conversion(stage_changes, deals, group_by=group_by, stages=stages)
        times = funnel.time_in_stage(stage_changes, deals, group_by=group_by, stages=stages)
        return rates.merge(times, on=[group_by, "stage"])

    company = measures(opportunities.assign(scope=ALL_REGIONS), "scope").drop(columns="scope")
    company = company.rename(columns=lambda c: c if c == "stage" else f"{c}_company")
    by_region = measures(opportunities, "region_id").rename(columns={"region_id": "scope"})
    by_region = by_region[by_region["scope"].isin(regions)]
    scopes = pd.concat(
        [company.rename(columns=lambda c: c.removesuffix("_company")).assign(scope=ALL_REGIONS),
         by_region],
        ignore_index=True,
    )  # fmt: skip
    return _frame(scopes.merge(company, on="stage"), columns)


def compute_stage_statistics(context: BuildContext) -> dict[str, pd.DataFrame]:
    """The build step: stage tests (regions and reps) and stage conversion, every scope."""
    warehouse = context.warehouse
    regions = sorted(warehouse.regions()["region_id"])
    changes = warehouse.table("fct_stage_changes", columns=list(STAGE_COLUMNS))
    opportunities = warehouse.table("fct_opportunities", columns=list(OPPORTUNITY_COLUMNS))
    items = []
    for region in regions:
        deals = opportunities[opportunities["region_id"] == region]
        items.append(
            (
                region,
                changes[changes["opportunity_id"].isin(deals["opportunity_id"])],
                deals,
                warehouse.stage_model,
            )
        )
    rep_tests = context.executor.map(rep_stage_tests_of_region, items)
    rep_columns = ["scope", "owner_rep_id", *STAGE_TEST_COLUMNS]
    non_empty = [frame for frame in rep_tests if len(frame)]
    return {
        "an_stage_tests": region_stage_tests(
            changes, opportunities, regions, warehouse.stage_model
        ),
        "an_rep_stage_tests": _frame(
            pd.concat(non_empty, ignore_index=True) if non_empty else None, rep_columns
        ),
        "an_stage_conversion": stage_conversion_by_scope(
            changes, opportunities, regions, warehouse.stage_model
        ),
    }


STEPS: tuple[BuildStep, ...] = (
    BuildStep(
        name="stage_statistics",
        tables=("an_stage_tests", "an_rep_stage_tests", "an_stage_conversion"),
        compute=compute_stage_statistics,
    ),
)
"""The performance topic's build steps."""
