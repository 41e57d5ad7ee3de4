"""The pipeline forecast on a generated demo workspace finds the planted slip behaviour.

The session's default-scale demo workspace (500k order lines, about 20k
opportunities) with 13 weekly snapshots, so seven earlier snapshots are old enough to train
on (as of 2026-11-23 the window runs 38 days to the quarter's end). The truth file is used only
for the planted factor; the empirical check is computed here with DuckDB from the parquet files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.forecasting import pipeline_quarter as qf
from salesops_lib.analytics.forecasting import win_probability as wm
from salesops_lib.data.snapshot import list_snapshots
from salesops_lib.data.warehouse import Warehouse
from tests.conftest import Workspace


@pytest.fixture(scope="module")
def demo(weekly_demo_workspace: Workspace) -> Iterator[dict[str, Any]]:
    workspace = weekly_demo_workspace
    paths = [workspace.snapshots / day.isoformat() for day in list_snapshots(workspace.snapshots)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALESOPS_CONFIG", str(workspace.config))
        with Warehouse.open(None, snapshots_dir=workspace.snapshots) as warehouse:
            inputs = qf.load_quarter_inputs(warehouse, workspace.snapshots)
    truth = json.loads((paths[-1] / "_truth.json").read_text(encoding="utf-8"))
    yield {"inputs": inputs, "latest": paths[-1], "truth": truth}


def test_model_trains_on_earlier_snapshots_and_beats_stage_only(demo: dict[str, Any]) -> None:
    win: wm.WinModelResult = demo["inputs"].win
    assert win.method == wm.METHOD_SNAPSHOTS
    assert win.horizon_days == 38
    assert len(win.cutoffs) == 7
    assert win.n_examples > 5000
    assert win.brier_model < win.brier_stage_only
    reliability = win.reliability
    assert reliability["examples"].sum() == win.n_examples
    # Calibrated: in bins with at least 500 examples the observed rate is within 5 points.
    big = reliability[reliability["examples"] >= 500]
    assert len(big) >= 3
    assert (big["observed_rate"] - big["mean_predicted"]).abs().max() < 0.05


def test_predicted_probability_falls_with_every_push(demo: dict[str, Any]) -> None:
    win: wm.WinModelResult = demo["inputs"].win
    slip = win.slip_effect.set_index("push_count")
    for column in ("mean_probability", "mean_probability_negotiation"):
        values = slip[column].to_numpy()
        assert (np.diff(values) < 0).all(), column
    assert win.odds_ratio_per_push < 0.8


def independent_win_rates(snapshot: Path) -> pd.DataFrame:
    """Win rate by push count (0, 1, 2) among closed deals that reached Negotiation."""
    opportunities = str(snapshot / "opportunities.parquet")
    history = str(snapshot / "opportunity_stage_history.parquet")
    sql = """
        SELECT o.push_count,
               count(*) AS closed,
               avg(CASE WHEN o.stage = 'Closed Won' THEN 1.0 ELSE 0.0 END) AS win_rate
        FROM read_parquet(?) o
        WHERE o.stage IN ('Closed Won', 'Closed Lost')
          AND o.opportunity_id IN (
              SELECT opportunity_id FROM read_parquet(?) WHERE stage = 'Negotiation')
          AND o.push_count <= 2
        GROUP BY o.push_count ORDER BY o.push_count
    """
    return duckdb.connect().execute(sql, [opportunities, history]).df()


def test_empirical_win_rate_ratio_per_push_is_near_the_planted_factor(
    demo: dict[str, Any],
) -> None:
    planted = demo["truth"]["slip_behaviour"]["win_factor_per_push"]
    rates = independent_win_rates(demo["latest"])
    assert rates["push_count"].tolist() == [0, 1, 2]
    assert rates["closed"].min() >= 300
    ratios = (rates["win_rate"] / rates["win_rate"].shift(1)).dropna()
    assert ratios.tolist() == pytest.approx([planted, planted], abs=0.08)
    table = demo["inputs"].win.empirical_slips.set_index("push_count")
    assert table.loc[[0, 1, 2], "closed"].tolist() == rates["closed"].tolist()
    assert table.loc[[0, 1, 2], "win_rate"].tolist() == pytest.approx(rates["win_rate"].tolist())
    assert demo["inputs"].win.empirical_ratio_per_push == pytest.approx(planted, abs=0.08)


def test_regions_add_up_to_all(demo: dict[str, Any]) -> None:
    inputs: qf.QuarterInputs = demo["inputs"]
    total = qf.quarter_forecast(inputs, "all", n_draws=2000)
    parts = [qf.quarter_forecast(inputs, r, n_draws=2000) for r in inputs.region_ids]
    assert len(parts) == 8
    for column in qf.AMOUNT_COLUMNS:
        summed = sum(getattr(p, column) for p in parts)
        assert getattr(total, column) == pytest.approx(summed, rel=1e-12), column
    assert total.closed_so_far > 0 and total.pipeline_expected > 0 and total.run_rate > 0
    assert total.commit <= total.best_case
    assert total.range["p10"] < total.expected < total.range["p90"]
    assert sum(len(p.deals) for p in parts) == len(total.deals)


def test_open_deals_get_probabilities_for_every_region(demo: dict[str, Any]) -> None:
    predictions = demo["inputs"].win.predictions
    assert predictions["probability"].between(0, 1).all()
    assert set(predictions["region_id"]) == set(demo["inputs"].region_ids)
    by_stage = predictions.groupby("stage")["probability"].mean()
    assert by_stage["Negotiation"] > by_stage["Prospecting"]


def test_report_displays_render(demo: dict[str, Any]) -> None:
    from salesops_lib.analytics.forecasting.pipeline_views import pipeline_tables
    from salesops_lib.reports.forecast import pipeline_display as display
    from tests.forecast_reports import report_of

    inputs: qf.QuarterInputs = demo["inputs"]
    win: wm.WinModelResult = inputs.win
    tables = pipeline_tables(qf.quarter_forecasts(inputs, n_draws=500))
    report = report_of(tables, "dach", inputs.region_names, inputs.as_of)
    sentence = display.calibration_note(report)._repr_html_()
    assert f"{win.brier_model:.3f}" in sentence and "better than the stage-only" in sentence
    slips = display.slip_table(report).frame
    assert slips["Pushes"].tolist() == ["0", "1", "2", "3+"]
    assert display.calibration_chart(report)._repr_png_().startswith(b"\x89PNG")
    assert "DACH" in display.pipeline_summary(report)._repr_html_()
