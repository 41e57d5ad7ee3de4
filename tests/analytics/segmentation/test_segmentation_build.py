"""The segmentation build step: one row set per scope, regions kept apart, store = direct call.

A hand-made order book checks that a scope's results survive the trip to store rows and back
unchanged; the tiny demo workspace (two weekly snapshots, copied so its store is this module's
own) checks the step end to end, against independent SQL counts and a direct call of the
analytics on each region's own order book.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.build import build_store
from salesops_lib.analytics.segmentation.build import (
    STEPS,
    ScopeInput,
    scope_bookings,
    segment_one_scope,
)
from salesops_lib.analytics.segmentation.scope import ScopeSegmentation, segment_scope
from salesops_lib.analytics.segmentation.store_tables import (
    SCHEMAS,
    TABLES,
    scope_from_tables,
    scope_tables,
)
from salesops_lib.core.errors import ParameterError
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.reports import segmentation
from salesops_lib.reports.base import report_context, store_slice
from tests.conftest import Workspace

FAMILIES = ("Hardware", "Software", "Services")


def _book(customers: int, seed: int, as_of: pd.Timestamp) -> pd.DataFrame:
    """A random order book: each customer 1-6 orders over two years, 1-2 lines per order."""
    rng = np.random.default_rng(seed)
    rows = []
    for number in range(customers):
        kind = number % 3
        for order in range(1 + rng.integers(0, 3 + 2 * kind)):
            day = as_of - pd.Timedelta(days=int(rng.integers(0, 730)))
            for line in range(1 + rng.integers(0, 2)):
                rows.append(
                    (f"A{number:03d}", f"O{number:03d}-{order}", day,
                     float(round(rng.gamma(2.0, 100.0 * (1 + kind)), 2)),
                     float(round(0.05 * kind + 0.01 * line, 2)),
                     f"P{(kind + line) % 4}", FAMILIES[(kind + line) % 3])
                )  # fmt: skip
    frame = pd.DataFrame(
        rows,
        columns=["account_id", "order_id", "order_date", "amount", "discount", "product_id",
                 "product_family"],
    )  # fmt: skip
    return frame.astype({"order_date": "datetime64[ns]", "amount": float, "discount": float})


def assert_same_scope(got: ScopeSegmentation, want: ScopeSegmentation) -> None:
    """Every field of two scope results equal (frames exactly, dtypes included)."""
    assert (got.scope, got.as_of, got.compare_to) == (want.scope, want.as_of, want.compare_to)
    pd.testing.assert_frame_equal(got.customers, want.customers)
    for name in ("abc_customers", "abc_products"):
        a, b = getattr(got, name), getattr(want, name)
        assert (a is None) == (b is None)
        if a is not None:
            pd.testing.assert_frame_equal(a, b)
    g, w = got.clusters, want.clusters
    assert (g.k, g.method, g.gmm_agreement, g.note) == (w.k, w.method, w.gmm_agreement, w.note)
    pd.testing.assert_frame_equal(g.assignments, w.assignments)
    pd.testing.assert_frame_equal(g.profiles, w.profiles)
    pd.testing.assert_frame_equal(g.deviations, w.deviations)
    assert (g.selection is None) == (w.selection is None)
    if g.selection is not None and w.selection is not None:
        pd.testing.assert_frame_equal(g.selection.scores, w.selection.scores)
        assert (g.selection.kmeans_k, g.selection.gmm_k) == (
            w.selection.kmeans_k,
            w.selection.gmm_k,
        )
    gc, wc = got.clv, want.clv
    assert (gc.bgnbd, gc.gamma_gamma, gc.note) == (wc.bgnbd, wc.gamma_gamma, wc.note)
    assert (gc.customers, gc.repeat_customers) == (wc.customers, wc.repeat_customers)
    assert (gc.table is None) == (wc.table is None)
    if gc.table is not None:
        pd.testing.assert_frame_equal(gc.table, wc.table)
    assert (got.migration is None) == (want.migration is None)
    if got.migration is not None and want.migration is not None:
        pd.testing.assert_frame_equal(got.migration.counts, want.migration.counts)
        pd.testing.assert_frame_equal(got.migration.revenue, want.migration.revenue)
        pd.testing.assert_frame_equal(
            got.migration.valuable_at_risk, want.migration.valuable_at_risk
        )


# --- store rows and back, on a hand-made book ---------------------------------------------------


def test_a_scope_survives_the_trip_to_store_rows_and_back() -> None:
    as_of = pd.Timestamp("2025-06-30")
    book = _book(60, seed=1, as_of=as_of)
    earlier = as_of - pd.Timedelta(days=7)
    result = segment_scope(
        "r1", book, as_of.date(), book[book["order_date"] <= earlier], earlier.date()
    )
    assert result.clv.table is not None and result.clusters.k > 1  # every part is exercised
    assert result.migration is not None
    tables = scope_tables(result)
    assert set(tables) == set(TABLES)
    for name, frame in tables.items():
        assert list(frame.columns) == list(SCHEMAS[name]) and set(frame["scope"]) <= {"r1"}
    assert len(tables["an_customer_segments"]) == book["account_id"].nunique() == 60
    assert len(tables["an_segmentation_fits"]) == 1
    assert_same_scope(scope_from_tables(tables), result)


def test_a_scope_without_orders_gives_one_fits_row() -> None:
    empty = _book(0, seed=0, as_of=pd.Timestamp("2025-06-30"))
    tables = scope_tables(segment_scope("r1", empty, dt.date(2025, 6, 30)))
    assert len(tables["an_segmentation_fits"]) == 1
    assert all(tables[name].empty for name in TABLES if name != "an_segmentation_fits")
    back = scope_from_tables(tables)
    assert back.customers.empty and back.clv.note == "No orders, so no lifetime value."


def test_a_scope_that_cannot_be_segmented_records_why() -> None:
    book = _book(12, seed=2, as_of=pd.Timestamp("2025-06-30"))
    book.loc[3, "account_id"] = None
    tables = segment_one_scope(ScopeInput("r1", dt.date(2025, 6, 30), book, None, None))
    fits = tables["an_segmentation_fits"]
    assert len(fits) == 1 and "account_id has 1 missing value" in fits["error"].iloc[0]
    assert tables["an_customer_segments"].empty
    with pytest.raises(ParameterError, match="segmentation of 'r1' failed"):
        scope_from_tables(tables)


# --- the step on the tiny demo workspace --------------------------------------------------------


@pytest.fixture(scope="module")
def snapshots(
    tiny_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """A copy of the tiny snapshots with this module's own store (segmentation step only)."""
    folder = tmp_path_factory.mktemp("segmentation-build") / "snapshots"
    shutil.copytree(tiny_workspace.snapshots, folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALESOPS_CODE_VERSION", "segmentation-build-test")
        build_store(None, snapshots_dir=folder, steps=STEPS)
        yield folder


@pytest.fixture(scope="module")
def warehouse(snapshots: Path) -> Iterator[Warehouse]:
    with Warehouse.open(None, snapshots_dir=snapshots) as opened:
        yield opened


def _customers_sql(warehouse: Warehouse, region: str | None) -> set[str]:
    """Accounts with an order up to the as-of date, in one region or anywhere (plain SQL)."""
    sql = "SELECT DISTINCT account_id FROM fct_bookings WHERE order_date <= ?"
    params: list[object] = [warehouse.as_of]
    if region is not None:
        sql += " AND region_id = ?"
        params.append(region)
    return set(warehouse.query(sql, params)["account_id"])


def test_every_scope_has_its_rows(warehouse: Warehouse) -> None:
    fits = warehouse.table("an_segmentation_fits")
    scopes = ["all", *warehouse.region_ids()]
    assert sorted(fits["scope"]) == sorted(scopes)
    assert (fits["error"] == "").all()
    segments = warehouse.table("an_customer_segments")
    counts = segments.groupby("scope").size()
    for scope in scopes:
        region = None if scope == "all" else scope
        assert counts.get(scope, 0) == len(_customers_sql(warehouse, region))
    # Compared with the previous weekly snapshot, which the tiny demo has.
    assert fits["has_migration"].all() and fits["compare_to"].notna().all()


def test_a_regions_customers_are_in_its_scope_only(warehouse: Warehouse) -> None:
    segments = warehouse.table("an_customer_segments", columns=["scope", "account_id"])
    for region in warehouse.region_ids():
        stored = set(segments.loc[segments["scope"] == region, "account_id"])
        assert stored == _customers_sql(warehouse, region)


def test_store_equals_a_direct_call_on_each_regions_order_book(
    warehouse: Warehouse, snapshots: Path
) -> None:
    fits = warehouse.table("an_segmentation_fits")
    compare_to = pd.Timestamp(fits["compare_to"].iloc[0]).date()
    with Warehouse.open(compare_to, snapshots_dir=snapshots) as old:
        for scope in ["all", *warehouse.region_ids()]:
            context = report_context(warehouse, scope)
            stored = scope_from_tables({t: store_slice(warehouse, t, context) for t in TABLES})
            direct = segment_scope(
                scope,
                scope_bookings(warehouse, scope),
                warehouse.as_of,
                scope_bookings(old, scope),
                compare_to,
            )
            assert_same_scope(stored, direct)


def test_report_reads_its_region_and_computes_other_parameters_now(
    warehouse: Warehouse, snapshots: Path
) -> None:
    region = warehouse.region_ids()[0]
    report = segmentation.load_report(warehouse, region, "", 0, snapshots_dir=snapshots)
    assert report.computed_now == ()
    assert set(report.customers["account_id"]) == _customers_sql(warehouse, region)
    assert segmentation.headline_numbers(report)["customers"] == len(
        _customers_sql(warehouse, region)
    )
    # The previous snapshot named explicitly is what the store holds: nothing recomputed.
    earlier = report.compare_to.isoformat()  # type: ignore[union-attr]
    same = segmentation.load_report(warehouse, region, earlier, 0, snapshots_dir=snapshots)
    assert same.computed_now == ()
    assert segmentation.headline_numbers(same) == segmentation.headline_numbers(report)
    # A given number of clusters is computed when the report runs, and the notes say so.
    company = segmentation.load_report(warehouse, "all", "", 3, snapshots_dir=snapshots)
    assert company.computed_now == ("clusters",) and company.clusters.k == 3
    assert company.clusters.method == "given"
    assert set(company.customers["cluster"]) == {1, 2, 3}
    notes = segmentation.method_appendix(company)._repr_html_()
    assert "asked for 3 clusters" in notes


def test_every_cell_renders_for_a_region(warehouse: Warehouse, snapshots: Path) -> None:
    report = segmentation.load_report(
        warehouse, warehouse.region_ids()[-1], snapshots_dir=snapshots
    )
    cells = [
        "executive_summary", "rfm_grid_chart", "segment_table", "abc_chart", "abc_table",
        "cluster_notes", "cluster_selection_table", "cluster_chart", "cluster_table",
        "cluster_descriptions", "clv_chart", "clv_parameters", "top_customers_table",
        "migration_table", "migration_summary", "action_table", "method_appendix",
    ]  # fmt: skip
    for name in cells:
        shown = getattr(segmentation, name)(report)
        assert hasattr(shown, "_repr_html_") or hasattr(shown, "_repr_png_"), name
    assert dataclasses.is_dataclass(report)
