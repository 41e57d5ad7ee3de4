"""The performance diagnosis finds the signals planted in the demo data (``_truth.json``).

Generated once for the module at 500k order lines (the anomalous week is not detectable at
smaller scales), two weekly snapshots. The truth file is used only to know where to look.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from salesops_lib.analytics.build import build_store
from salesops_lib.analytics.performance import variance
from salesops_lib.analytics.performance import waterfall as wf
from salesops_lib.analytics.performance.build import STEPS as PERFORMANCE_STEPS
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.reports import performance
from tests.conftest import Workspace
from tests.demo_fixtures import AS_OF, generate, read_truth
from tests.reports.test_performance import expected_headlines


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("performance-demo") / "snapshots"
    paths = generate(folder, scale=500_000, weeks=2)
    diagnoses = {}
    with pytest.MonkeyPatch.context() as patch:
        # The report reads only the performance topic's store tables: build those (a few
        # seconds), not the whole store (forecasts and segmentation take a minute at this scale).
        patch.setenv("SALESOPS_CODE_VERSION", "performance-demo-test")
        build_store(None, snapshots_dir=folder, steps=PERFORMANCE_STEPS)
        for region in ("all", "dach"):
            with performance.open_report_warehouse(region, "", snapshots_dir=folder) as warehouse:
                data = performance.load_performance(warehouse, region, snapshots_dir=folder)
            diagnoses[region] = performance.diagnose(data)
    yield {"folder": folder, "truth": read_truth(paths[-1]), "diagnoses": diagnoses}


def test_planted_bottleneck_is_the_only_one_for_its_stage(demo: dict[str, Any]) -> None:
    planted = demo["truth"]["stage_bottleneck"]
    tests = demo["diagnoses"]["all"].bottlenecks
    flagged = tests[tests["is_bottleneck"] & (tests["stage"] == planted["stage"])]
    assert flagged["region_id"].tolist() == [planted["region_id"]]
    regional = demo["diagnoses"][planted["region_id"]].bottlenecks
    assert regional.loc[regional["is_bottleneck"], "stage"].tolist() == [planted["stage"]]


def test_star_tops_and_under_performers_close_the_12_month_leaderboard(
    demo: dict[str, Any],
) -> None:
    planted = demo["truth"]["rep_performance"]
    board = demo["diagnoses"]["all"].leaderboard_12m
    assert board["rep_id"].iloc[0] == planted["star"]["rep_id"]
    under = {rep["rep_id"] for rep in planted["under_performers"]}
    assert set(board["rep_id"].tail(2)) == under


def test_anomalous_week_flagged_and_at_most_one_false_alarm_per_region_year(
    demo: dict[str, Any],
) -> None:
    planted = demo["truth"]["anomalous_week"]
    scored = demo["diagnoses"]["all"].anomalies
    week = pd.Timestamp(planted["week_start"])
    hit = scored[(scored["region_id"] == planted["region_id"]) & (scored["order_week"] == week)]
    assert hit["is_anomaly"].tolist() == [True]
    assert hit["direction"].tolist() == ["dip"]
    false = scored[scored["is_anomaly"] & ~scored.index.isin(hit.index)]
    per_region_year = false.groupby([false["region_id"], false["order_week"].dt.year]).size()
    assert (per_region_year <= 1).all(), per_region_year.to_dict()


def test_price_increase_is_attributed_to_price(demo: dict[str, Any]) -> None:
    planted = demo["truth"]["price_increase"]
    start = pd.Timestamp(planted["effective_date"])
    with Warehouse.open(AS_OF, snapshots_dir=demo["folder"]) as warehouse:
        bookings = warehouse.table(
            "fct_bookings",
            columns=["order_date", "product_id", "product_family", "quantity", "amount"],
        )
    year = pd.DateOffset(years=1)
    day = pd.Timedelta(days=1)
    before = variance.period_bookings(bookings, start - year, start - day)
    after = variance.period_bookings(bookings, start, start + year - day)
    by_product = variance.price_volume_mix(before, after, by="product_id")
    families = bookings.drop_duplicates("product_id").set_index("product_id")["product_family"]
    by_product["product_family"] = by_product["product_id"].map(families)
    fam = variance.pvm_by_family(by_product).set_index("product_family")
    effects = fam[["volume_effect", "mix_effect", "price_effect"]].sum(axis=1)
    assert (effects - fam["total_variance"]).abs().max() < 0.005
    factor = planted["factor"]
    # the old-price revenue of the current units is amount_current / factor
    expected = (factor - 1) * fam.loc[planted["family"], "amount_current"] / factor
    assert fam.loc[planted["family"], "price_effect"] == pytest.approx(expected, rel=0.25)
    others = fam.drop(planted["family"])
    share = (others["price_effect"] / others["amount_current"]).abs()
    assert (share < 0.4 * (factor - 1) / factor).all(), share.to_dict()


def test_waterfall_reconciles_everywhere_and_planted_moves_are_classed(
    demo: dict[str, Any],
) -> None:
    diagnosis = demo["diagnoses"]["all"]
    assert diagnosis.reconciliation["reconciles"].all()
    assert len(diagnosis.reconciliation) == 8
    moves = demo["truth"]["pipeline_moves"]
    earlier = diagnosis.data.opportunities_before
    later = diagnosis.data.opportunities
    compared = str(diagnosis.data.compare_to)
    assert compared == moves["previous_as_of"]
    for kind, window_end, category in (
        ("slips", "old_close_date", "pushed_out"),
        ("pull_ins", "new_close_date", "pulled_in"),
    ):
        for move in moves[kind]:
            deal = move["opportunity_id"]
            rows = wf.waterfall_deals(
                earlier[earlier["opportunity_id"] == deal],
                later[later["opportunity_id"] == deal],
                compared,
                move[window_end],
            )
            assert rows["category"].tolist() == [category], (deal, rows)
    # in the report's own window (the quarter) every planted move that crosses its end is
    # classed the same way
    _, end = diagnosis.data.window
    booked = diagnosis.waterfall_deals.set_index("opportunity_id")["category"]
    for kind, category in (("slips", "pushed_out"), ("pull_ins", "pulled_in")):
        for move in moves[kind]:
            old, new = pd.Timestamp(move["old_close_date"]), pd.Timestamp(move["new_close_date"])
            crosses = (old <= end < new) if kind == "slips" else (new <= end < old)
            if crosses:
                assert booked[move["opportunity_id"]] == category


@pytest.mark.parametrize("region", ["all", "dach"])
def test_report_numbers_equal_sql_over_raw_parquet(region: str, demo: dict[str, Any]) -> None:
    shown = performance.headline_numbers(demo["diagnoses"][region])
    workspace = Workspace(Path("unused"), demo["folder"], Path("unused"))
    expected = expected_headlines(workspace, shown["snapshot_id"], region)
    for key, value in expected.items():
        assert shown[key] == pytest.approx(float(value), abs=0.005), key
