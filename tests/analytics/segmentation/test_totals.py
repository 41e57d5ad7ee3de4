"""Order-book totals: the DuckDB path (what the build reads) equals the pandas path bit for bit.

Known answers: sums by hand, pandas' own groupby sum as an independent reference for the
compensated sums, and plain SQL over the tiny demo for counts and cents.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.segmentation.build import scope_bookings
from salesops_lib.analytics.segmentation.totals import (
    OrderBookTotals,
    kahan_group_sums,
    order_book_totals,
    warehouse_totals,
)
from salesops_lib.data.warehouse import Warehouse
from tests.conftest import Workspace

FRAMES = ("accounts", "family_lines", "daily", "account_amounts", "product_amounts")


def test_kahan_group_sums_by_hand() -> None:
    values = np.array([0.1] * 10 + [5.0, 2.5] + [7.0])
    sums = kahan_group_sums(values, np.array([10, 2, 0, 1]))
    assert sums.tolist() == [1.0, 7.5, 0.0, 7.0]  # a plain float loop gives 0.9999999999999999
    assert sum([0.1] * 10) != 1.0


def test_kahan_group_sums_equal_a_pandas_groupby_sum_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    groups = np.repeat(np.arange(300), rng.integers(1, 40, 300))
    values = np.round(rng.gamma(2.0, 500.0, len(groups)), 2) * rng.choice(
        [1.0, 1e-6, 1e6], len(groups)
    )
    want = pd.Series(values).groupby(groups, sort=True).sum().to_numpy()
    got = kahan_group_sums(values, np.bincount(groups))
    assert np.array_equal(got, want)
    naive = np.array([sum(values[groups == g].tolist()) for g in range(300)])
    assert not np.array_equal(naive, want)  # the order of additions matters in the last bit


@pytest.fixture(scope="module")
def warehouse(tiny_workspace: Workspace) -> Iterator[Warehouse]:
    with Warehouse.open(None, snapshots_dir=tiny_workspace.snapshots) as opened:
        yield opened


def _object_text(frame: pd.DataFrame) -> pd.DataFrame:
    text = [c for c, kind in frame.dtypes.items() if isinstance(kind, pd.StringDtype)]
    return frame.astype(dict.fromkeys(text, object))


def test_warehouse_totals_equal_the_pandas_totals_bit_for_bit(warehouse: Warehouse) -> None:
    for scope in ["all", *warehouse.region_ids()]:
        from_sql = warehouse_totals(warehouse, scope, warehouse.as_of)
        from_lines = order_book_totals(scope_bookings(warehouse, scope), warehouse.as_of)
        for name in FRAMES:
            pd.testing.assert_frame_equal(
                _object_text(getattr(from_sql, name)),
                _object_text(getattr(from_lines, name)),
                check_exact=True,
                obj=f"{scope} {name}",
            )


def test_warehouse_totals_match_plain_sql_counts_and_cents(warehouse: Warehouse) -> None:
    region = warehouse.region_ids()[0]
    totals: OrderBookTotals = warehouse_totals(warehouse, region, warehouse.as_of)
    plain = warehouse.query(
        "SELECT account_id, count(DISTINCT order_id) AS orders, sum(amount) AS amount "
        "FROM fct_bookings WHERE region_id = ? AND order_date <= ? GROUP BY ALL ORDER BY ALL",
        [region, warehouse.as_of],
    )
    assert totals.accounts["account_id"].astype(str).tolist() == plain["account_id"].tolist()
    assert totals.accounts["frequency"].tolist() == plain["orders"].tolist()
    assert np.allclose(totals.accounts["monetary"], plain["amount"].astype(float), atol=0.005)
    days = warehouse.query(
        "SELECT count(DISTINCT (account_id, order_date)) AS n FROM fct_bookings "
        "WHERE region_id = ?",
        [region],
    )
    assert len(totals.daily) == int(days["n"].iloc[0])
    previous = warehouse_totals(warehouse, region, warehouse.as_of, accounts_only=True)
    pd.testing.assert_frame_equal(previous.accounts, totals.accounts)
    assert previous.daily.empty and previous.product_amounts.empty
