"""Funnel, pipeline by stage and risk flags on a snapshot with a custom stage model (three open
stages, two lost stages; tests/stage_model_fixture.py). Expected figures worked out by hand from
the six deals' stage paths."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from salesops_lib.analytics.performance import funnel, pipeline, risk
from salesops_lib.data.warehouse import Warehouse
from tests.stage_model_fixture import AS_OF, CUSTOM_MODEL, custom_warehouse

OPEN = ["Lead", "Demo", "Contract"]


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, pd.DataFrame]]:
    with custom_warehouse(tmp_path_factory.mktemp("custom-stages")) as wh:
        yield _frames(wh)


def _frames(wh: Warehouse) -> dict[str, pd.DataFrame]:
    assert wh.stage_model == CUSTOM_MODEL
    return {
        "opportunities": wh.table("fct_opportunities"),
        "changes": wh.table("fct_stage_changes"),
    }


def test_stage_conversion_uses_the_open_stages_and_every_lost_stage(
    frames: dict[str, pd.DataFrame],
) -> None:
    out = funnel.stage_conversion(frames["changes"], frames["opportunities"], stages=CUSTOM_MODEL)
    assert list(out["stage"]) == OPEN
    # Lead: a1, a2, a4, a6 moved on; a3 went to Disqualified (a lost stage, not progress);
    # a5 is still in Lead (undecided). Demo: a1 moved on, a2 lost, a4 undecided.
    # Contract: a1 signed, a6 undecided.
    assert list(out["entered"]) == [5, 2, 1]
    assert list(out["converted"]) == [4, 1, 1]
    assert list(out["conversion_rate"]) == pytest.approx([0.8, 0.5, 1.0])
    everyone = funnel.stage_conversion(
        frames["changes"], frames["opportunities"], exclude_undecided=False, stages=CUSTOM_MODEL
    )
    assert list(everyone["entered"]) == [6, 3, 2]


def test_time_in_stage_over_completed_stays(frames: dict[str, pd.DataFrame]) -> None:
    out = funnel.time_in_stage(frames["changes"], frames["opportunities"], stages=CUSTOM_MODEL)
    assert list(out["stage"]) == OPEN
    # Lead stays: 10 (a1), 5 (a2), 3 (a3), 30 (a4), 68 (a6, Jan 2 -> Mar 10 2024); Demo: 10
    # (a1), 25 (a2); Contract: 29 (a1, Jan 22 -> Feb 20).
    assert list(out["stays"]) == [5, 2, 1]
    assert list(out["median_days"]) == [10.0, 17.5, 29.0]


def test_bottleneck_rows_are_the_open_stages(frames: dict[str, pd.DataFrame]) -> None:
    out = funnel.detect_bottlenecks(
        frames["changes"], frames["opportunities"], min_deals=1, stages=CUSTOM_MODEL
    )
    assert list(out["stage"]) == OPEN and list(out["region_id"]) == ["r1"] * 3


def test_the_configured_model_is_the_default(
    frames: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Without ``stages``, the workspace's model is used: in the custom workspace, the same."""
    changes, deals = frames["changes"], frames["opportunities"]
    explicit = funnel.stage_conversion(changes, deals, stages=CUSTOM_MODEL)
    with pytest.MonkeyPatch.context() as patch:
        from tests.stage_model_fixture import write_workspace_config

        config = write_workspace_config(tmp_path_factory.mktemp("cfg"))
        patch.setenv("SALESOPS_CONFIG", str(config))
        implicit = funnel.stage_conversion(frames["changes"], frames["opportunities"])
        by_stage = pipeline.pipeline_by_stage(frames["opportunities"])
    pd.testing.assert_frame_equal(implicit, explicit)
    assert list(by_stage["stage"]) == OPEN


def test_pipeline_by_stage_in_the_crm_stages(frames: dict[str, pd.DataFrame]) -> None:
    by_stage = pipeline.pipeline_by_stage(frames["opportunities"], CUSTOM_MODEL)
    assert list(by_stage["stage"]) == OPEN
    assert list(by_stage["opportunities"]) == [1, 1, 1]  # a5, a4, a6
    assert list(by_stage["amount"]) == [500.0, 400.0, 600.0]
    assert list(by_stage["share_of_amount"]) == pytest.approx([1 / 3, 4 / 15, 0.4])
    wide = pipeline.pipeline_by_stage_and_category(frames["opportunities"], CUSTOM_MODEL)
    assert wide.set_index("stage").to_dict("index") == {
        "Lead": {"Pipeline": 500.0, "Best Case": 0.0, "Commit": 0.0, "Total": 500.0},
        "Demo": {"Pipeline": 0.0, "Best Case": 400.0, "Commit": 0.0, "Total": 400.0},
        "Contract": {"Pipeline": 0.0, "Best Case": 0.0, "Commit": 600.0, "Total": 600.0},
    }
    summary = pipeline.summarize_pipeline(frames["opportunities"], CUSTOM_MODEL)
    assert (summary.open_count, summary.open_amount) == (3, 1500.0)
    assert (summary.top_stage, summary.top_stage_share) == ("Contract", pytest.approx(0.4))
    assert summary.commit_amount == 600.0


def test_risk_thresholds_and_stale_deals_per_open_stage(frames: dict[str, pd.DataFrame]) -> None:
    thresholds = risk.stage_duration_thresholds(frames["changes"], 0.5, CUSTOM_MODEL)
    assert list(thresholds["stage"]) == OPEN
    assert list(thresholds["threshold_days"]) == [10.0, 17.5, 29.0]
    flags = risk.deal_risk_flags(
        frames["opportunities"], frames["changes"], AS_OF, quantile=0.5, stages=CUSTOM_MODEL
    )
    # a5: 19 days in Lead (> 10); a4: 48 days in Demo (> 17.5); a6: 10 days in Contract (< 29)
    assert list(flags["opportunity_id"]) == ["a5", "a4"]
    assert flags["stale_in_stage"].all() and list(flags["stage"]) == ["Lead", "Demo"]
