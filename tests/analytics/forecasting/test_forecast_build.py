"""The forecasting build steps on the tiny demo: store rows per scope, coherence, one number per
region whichever report shows it, region isolation, and the same store on Dask.

The store is built into a temporary analytics folder (forecasting steps only), so the session's
tiny workspace and its real store are left alone. Expected values are recomputed here from the
stored rows of other scopes (regions summed by hand), never read back from the same rows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.build import build_store
from salesops_lib.analytics.forecasting import build as forecast_build
from salesops_lib.analytics.forecasting.quarter_components import AMOUNT_COLUMNS
from salesops_lib.data.snapshot import open_snapshot
from salesops_lib.data.store import Store
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.reports import forecast
from tests.conftest import Workspace

SCOPED_TABLES = [name for step in forecast_build.STEPS for name in step.tables]


@pytest.fixture(scope="module")
def built(
    tiny_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Path]]:
    analytics = tmp_path_factory.mktemp("forecast-store")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in tiny_workspace.env().items():
            patch.setenv(key, value)
        patch.setenv("SALESOPS_CODE_VERSION", "forecast-build-test")
        result = build_store(
            snapshots_dir=tiny_workspace.snapshots,
            analytics_dir=analytics,
            steps=forecast_build.STEPS,
        )
        yield result.store, analytics


@pytest.fixture(scope="module")
def tables(built: tuple[Store, Path]) -> dict[str, pd.DataFrame]:
    store, _ = built
    return {name: store.read(name) for name in store.tables}


@pytest.fixture(scope="module")
def regions(tiny_workspace: Workspace) -> dict[str, str]:
    with Warehouse.open(None, snapshots_dir=tiny_workspace.snapshots) as warehouse:
        frame = warehouse.regions()
    return dict(zip(frame["region_id"], frame["region_name"], strict=True))


def test_every_table_has_rows_for_every_scope(
    tables: dict[str, pd.DataFrame], regions: dict[str, str]
) -> None:
    assert sorted(tables) == sorted(SCOPED_TABLES)
    for name, frame in tables.items():
        assert "scope" in frame.columns, name
        assert set(frame["scope"]) == {*regions, "all"}, name
    choices = tables["an_forecast_model_choices"]
    assert sorted(choices.loc[choices["scope"] == "all", "unique_id"]) == sorted(
        [*regions, "total"]
    )
    for region in regions:
        assert choices.loc[choices["scope"] == region, "unique_id"].tolist() == [region]
    quarters = tables["an_forecast_quarters"].groupby("scope").size()
    assert (quarters == 2).all()  # this quarter and the next, for every scope


def test_a_regional_scope_holds_its_own_region_only(
    tables: dict[str, pd.DataFrame], regions: dict[str, str]
) -> None:
    for name, frame in tables.items():
        for region in regions:
            mine = frame[frame["scope"] == region]
            if "unique_id" in mine.columns:
                ids = mine["unique_id"].astype(str)
                assert ((ids == region) | ids.str.startswith(f"{region}/")).all(), name
            if "region_id" in mine.columns:
                assert set(mine["region_id"].dropna()) <= {region}, name


def test_the_company_total_is_the_sum_of_the_regions_own_forecasts(
    tables: dict[str, pd.DataFrame], regions: dict[str, str]
) -> None:
    months = tables["an_forecast_months"]
    own = months[(months["level"] == "region") & (months["scope"] != "all")]
    assert sorted(own["scope"].unique()) == sorted(regions)
    summed = own.groupby("ds")["point"].sum()
    total = months[(months["scope"] == "all") & (months["level"] == "total")].set_index("ds")
    assert len(total) == forecast_build.statistical_views.DEFAULT_HORIZON
    assert np.allclose(total["point"], summed.loc[total.index], rtol=0, atol=1e-6)
    for region in regions:
        mine = months[months["scope"] == region]
        families = mine[mine["level"] == "family"].groupby("ds")["point"].sum()
        shown = mine[mine["level"] == "region"].set_index("ds")["point"]
        assert np.allclose(families.loc[shown.index], shown, rtol=1e-12), region


def _rows(frame: pd.DataFrame, scope: str, **where: Any) -> pd.DataFrame:
    rows = frame[frame["scope"] == scope]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return rows.drop(columns="scope").sort_values(list(rows.columns.drop("scope")))


def test_a_region_has_the_same_numbers_in_its_own_scope_and_in_the_company_scope(
    tables: dict[str, pd.DataFrame], regions: dict[str, str]
) -> None:
    for region in regions:
        for name, key in (
            ("an_forecast_months", "unique_id"),
            ("an_forecast_backtest_scores", "unique_id"),
            ("an_forecast_backtest_points", "unique_id"),
            ("an_forecast_model_choices", "unique_id"),
            ("an_pipeline_quarter_components", "region_id"),
            ("an_deal_win_probabilities", "region_id"),
        ):
            frame = tables[name]
            in_all = _rows(frame, "all", **{key: region})
            own = _rows(frame, region, **{key: region})
            if name == "an_forecast_months":
                own, in_all = own[own["level"] == "region"], in_all[in_all["level"] == "region"]
            if name == "an_deal_win_probabilities":  # ranks are per scope
                own, in_all = own.drop(columns="deal_rank"), in_all.drop(columns="deal_rank")
            assert len(own) > 0, (region, name)
            pd.testing.assert_frame_equal(
                own.reset_index(drop=True), in_all.reset_index(drop=True), check_exact=True
            )


def test_the_company_quarter_components_are_the_sum_of_the_regions(
    tables: dict[str, pd.DataFrame], regions: dict[str, str]
) -> None:
    components = tables["an_pipeline_quarter_components"]
    company = components[components["scope"] == "all"].set_index("region_id")
    own = components[components["scope"] != "all"].set_index("region_id")
    assert sorted(own.index) == sorted(regions)
    for column in AMOUNT_COLUMNS:
        assert company.loc["all", column] == pytest.approx(own[column].sum(), rel=1e-12), column
    assert company.loc["all", "p10"] < company.loc["all", "expected"] < company.loc["all", "p90"]


def test_every_section_states_the_same_booked_so_far(
    tables: dict[str, pd.DataFrame], tiny_workspace: Workspace
) -> None:
    """This quarter's statistical ``booked`` is the pipeline's closed so far and a plain SQL sum
    of the quarter's bookings to the as-of day; the forecast and its range never fall below it."""
    with Warehouse.open(None, snapshots_dir=tiny_workspace.snapshots) as warehouse:
        as_of = warehouse.as_of
        sums = warehouse.query(
            "SELECT coalesce(region_id, '?') AS region_id, sum(amount) AS amount FROM fct_bookings "
            "WHERE order_date BETWEEN date_trunc('quarter', CAST(? AS DATE)) AND ? GROUP BY ALL",
            [as_of, as_of],
        )
    by_sql = dict(zip(sums["region_id"], sums["amount"].astype(float), strict=True))
    by_sql["all"] = sum(by_sql.values())
    quarters = tables["an_forecast_quarters"]
    this_quarter = quarters[quarters["quarter_start"] == quarters["quarter_start"].min()]
    components = tables["an_pipeline_quarter_components"]
    closed = components.set_index(["scope", "region_id"])["closed_so_far"]
    for _, row in this_quarter.iterrows():
        scope = row["scope"]
        assert row["booked"] == pytest.approx(by_sql.get(scope, 0.0), abs=0.005), scope
        assert row["booked"] == pytest.approx(closed.loc[(scope, scope)], abs=0.005), scope
        assert row["forecast"] >= row["booked"] and row["low_95"] >= row["booked"], scope


def _rendered(report: forecast.ForecastReport) -> str:
    """Every display of the notebook as text (HTML, table text, headline values)."""
    parts = []
    for name in ("executive_summary", "forecast_table", "breakdown_table", "backtest_table",
                 "pipeline_summary", "pipeline_table", "pipeline_components_table",
                 "pipeline_deals_table", "calibration_note", "slip_table",
                 "ledger_accuracy_table", "backtest_by_horizon", "method_appendix",
                 "method_notes"):  # fmt: skip
        shown = getattr(forecast, name)(report)
        parts.append(shown._repr_html_())
    parts.append(str(forecast.headline_numbers(report)))
    return "\n".join(parts)


def test_a_regional_report_shows_no_other_region(
    built: tuple[Store, Path],
    tiny_workspace: Workspace,
    regions: dict[str, str],
    tables: dict[str, pd.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, analytics = built
    monkeypatch.setenv("SALESOPS_CODE_VERSION", "forecast-build-test")
    snapshot = open_snapshot(tiny_workspace.snapshots, None)
    mine = "dach"
    with Warehouse(snapshot, analytics_dir=analytics) as warehouse:
        report = forecast.load_forecast(warehouse, mine, 6, 80, ledger_dir=tmp_path)
        company = forecast.load_forecast(warehouse, "all", 6, 80, ledger_dir=tmp_path)
    text = _rendered(report)
    others = {rid: name for rid, name in regions.items() if rid != mine}
    for rid, name in others.items():
        assert not re.search(rf"\b{re.escape(rid)}\b", text), rid
        assert name not in text and html.escape(name) not in text, name
    assert html.escape(regions[mine]) in text
    # No other region's figures in the data the report holds (closed so far, pipeline,
    # expected, commit, best case, quota and target of every other region).
    components = tables["an_pipeline_quarter_components"]
    figures = components[(components["scope"] == "all") & components["region_id"].isin(others)]
    foreign = {float(v) for v in figures[list(AMOUNT_COLUMNS)].to_numpy().ravel() if v}
    held = set()
    for frame in report.tables.values():
        held |= {float(v) for v in frame.select_dtypes("number").to_numpy().ravel()}
    assert not (foreign & held)
    # The company report lists every region.
    company_text = _rendered(company)
    for name in regions.values():
        assert html.escape(name) in company_text


def test_the_store_built_on_dask_is_the_same(
    built: tuple[Store, Path],
    tiny_workspace: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, _ = built
    for key, value in tiny_workspace.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SALESOPS_CODE_VERSION", "forecast-build-test")
    on_dask = build_store(
        snapshots_dir=tiny_workspace.snapshots,
        analytics_dir=tmp_path,
        executor="dask",
        steps=forecast_build.STEPS,
    ).store
    for name in store.tables:
        assert (
            on_dask.manifest["tables"][name]["sha256"] == store.manifest["tables"][name]["sha256"]
        ), name
