"""The performance build step's tables on hand-made stage histories, answers worked out by hand.

Uses the deals of :mod:`tests.analytics.performance.test_funnel`
(east: e1..e5, west: w1, w2, north: n1).
"""

from __future__ import annotations

import math

import pytest

from salesops_lib.analytics.performance import build
from salesops_lib.core.stages import DEFAULT_STAGE_MODEL
from salesops_lib.data.schema import OPEN_STAGES
from tests.analytics.performance.test_funnel import PATHS, changes_from, opportunities

REGIONS = ["east", "north", "west"]


def test_stage_conversion_per_scope_beside_the_company() -> None:
    changes, deals = changes_from(PATHS), opportunities()
    table = build.stage_conversion_by_scope(changes, deals, REGIONS)
    assert len(table) == 4 * len(OPEN_STAGES)  # all + three regions, every open stage
    rows = table.set_index(["scope", "stage"])
    # Prospecting: east e1, e2, e4, e5 move on, e3 is lost; west w1 lost, w2 still open;
    # north n1 still open (undecided deals leave the denominator).
    east = rows.loc[("east", "Prospecting")]
    assert (east["entered"], east["converted"]) == (5, 4)
    assert east["conversion_rate"] == pytest.approx(0.8)
    assert (east["stays"], east["median_days"]) == (5, 5.0)  # 5, 3, 7, 4, 6 days
    assert (east["entered_company"], east["converted_company"]) == (6, 4)
    assert east["conversion_rate_company"] == pytest.approx(4 / 6)
    assert east["median_days_company"] == pytest.approx(4.5)  # with w1's 2 days
    north = rows.loc[("north", "Prospecting")]
    assert north["entered"] == 0 and math.isnan(north["conversion_rate"])
    company = rows.loc[("all", "Prospecting")]
    assert (company["entered"], company["converted"]) == (6, 4)
    assert company["median_days"] == company["median_days_company"] == pytest.approx(4.5)
    # Qualification: e1 moves on, e2 is lost, e4 is still there.
    assert rows.loc[("all", "Qualification"), "conversion_rate"] == pytest.approx(0.5)


def test_stage_tests_are_held_once_per_scope() -> None:
    changes, deals = changes_from(PATHS), opportunities()
    tests = build.region_stage_tests(changes, deals, REGIONS)
    company = tests[tests["scope"] == "all"]
    assert sorted(company["region_id"].unique()) == REGIONS
    assert len(company) == len(REGIONS) * len(OPEN_STAGES)
    for region in REGIONS:
        mine = tests[tests["scope"] == region]
        assert set(mine["region_id"]) == {region} and len(mine) == len(OPEN_STAGES)
    assert not tests["is_bottleneck"].any()  # far fewer than 30 deals: no test runs
    assert tests["time_p_value"].isna().all()


def test_rep_tests_carry_the_region_as_scope() -> None:
    deals = opportunities().assign(owner_rep_id=lambda f: "rep-" + f["opportunity_id"].str[0])
    east = deals[deals["region_id"] == "east"]
    changes = changes_from(PATHS)
    tests = build.rep_stage_tests_of_region(
        (
            "east",
            changes[changes["opportunity_id"].isin(east["opportunity_id"])],
            east,
            DEFAULT_STAGE_MODEL,
        )
    )
    assert set(tests["scope"]) == {"east"} and set(tests["owner_rep_id"]) == {"rep-e"}
    assert list(tests["stage"]) == list(OPEN_STAGES)


def test_empty_stage_history_still_gives_every_column() -> None:
    changes, deals = changes_from(PATHS).head(0), opportunities()
    for table in (
        build.region_stage_tests(changes, deals, REGIONS),
        build.stage_conversion_by_scope(changes, deals, REGIONS),
        build.rep_stage_tests_of_region(("east", changes, deals, DEFAULT_STAGE_MODEL)),
    ):
        assert table.empty and "scope" in table.columns and "stage" in table.columns
