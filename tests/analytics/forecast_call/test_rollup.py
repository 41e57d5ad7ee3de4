"""Roll-up of calls: rep numbers, manager override beside the reps' sum, region sums (by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops_lib.analytics.forecast_call.rollup import (
    beside_forecasts,
    manager_rollup,
    region_rollup,
    rep_numbers,
)

W = pd.Timestamp("2026-11-23")
REPS = pd.DataFrame(
    {
        "rep_id": ["M1", "M2", "R1", "R2", "R3"],
        "role": ["manager", "manager", "rep", "rep", "rep"],
        "region_id": ["east", "east", "east", "east", "east"],
        "manager_id": [None, None, "M1", "M1", "M2"],
    }
)


def _calls(rows: list[tuple[str, str, str, float, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["submitted_by", "for_id", "category", "amount", "note"])
    return frame.assign(week=W)


CALLS = _calls(
    [
        ("R1", "R1", "commit", 100.0, None),
        ("R1", "R1", "best_case", 150.0, None),
        ("R2", "R2", "commit", 50.0, None),
        ("M1", "R2", "commit", 70.0, None),  # ignored: R2 called themself
        ("M2", "R3", "commit", 40.0, None),  # R3 did not call: the manager's number counts
        ("M1", "M1", "commit", 120.0, "big deal at risk"),
    ]
)


def test_rep_numbers_prefer_the_reps_own_call() -> None:
    numbers = rep_numbers(CALLS, REPS).set_index("rep_id")
    assert numbers.loc["R1", "commit"] == 100.0 and numbers.loc["R1", "best_case"] == 150.0
    assert numbers.loc["R2", "commit"] == 50.0 and numbers.loc["R2", "called_by"] == "rep"
    assert numbers.loc["R3", "commit"] == 40.0 and numbers.loc["R3", "called_by"] == "manager"


def test_manager_override_sits_beside_the_reps_sum() -> None:
    managers = manager_rollup(CALLS, REPS).set_index("manager_id")
    assert managers.loc["M1", "reps_commit"] == 150.0  # 100 + 50
    assert managers.loc["M1", "override_commit"] == 120.0
    assert managers.loc["M1", "team_commit"] == 120.0
    assert managers.loc["M1", "override_note"] == "big deal at risk"
    assert managers.loc["M1", "team_size"] == 2 and managers.loc["M1", "reps_called"] == 2
    assert pd.isna(managers.loc["M2", "override_commit"])
    assert managers.loc["M2", "team_commit"] == 40.0  # no override: the reps' sum


def test_region_sums_team_numbers() -> None:
    region = region_rollup(manager_rollup(CALLS, REPS)).iloc[0]
    assert region["team_commit"] == pytest.approx(160.0)  # 120 (override) + 40
    assert region["reps_commit"] == pytest.approx(190.0)  # 100 + 50 + 40
    assert region["overrides"] == 1


def test_beside_forecasts_joins_the_three_views() -> None:
    call = pd.DataFrame({"region_id": ["east"], "team_commit": [160.0]})
    pipeline = pd.DataFrame(
        {"region_id": ["east"], "closed_so_far": [10.0], "commit": [20.0], "best_case": [30.0],
         "expected": [25.0]}
    )  # fmt: skip
    stat = pd.DataFrame(
        {"region_id": ["east"], "forecast": [200.0], "low_80": [150.0], "high_80": [250.0]}
    )
    row = beside_forecasts(call, pipeline, stat).iloc[0]
    assert (row["team_commit"], row["pipeline_commit"], row["statistical_forecast"]) == (
        160.0,
        20.0,
        200.0,
    )
