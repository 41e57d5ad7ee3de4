"""Every mart checked against the hand-made two-region company (tests/snapshot_builder.py).

Expected values are worked out by hand from TWO_REGION_TABLES (as of Wednesday 2024-03-20; 2024
is a leap year; 2024-01-01 is a Monday). The arithmetic is written next to each value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from salesops_lib.data.warehouse import Warehouse
from tests.snapshot_builder import build_two_region_snapshot

D = dt.date


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    snapshot = build_two_region_snapshot(tmp_path_factory.mktemp("marts"))
    with Warehouse(snapshot, threads=1, memory_limit="512MB") as warehouse:
        yield warehouse


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, float):
        return round(value, 6)
    return value


def rows(wh: Warehouse, model: str, columns: list[str], region: str | None = None) -> list[tuple]:
    """The model's rows as plain tuples (dates as date, NULL as None), sorted."""
    frame = wh.table(model, region=region, columns=columns)
    return sorted(tuple(_plain(v) for v in rec) for rec in frame.itertuples(index=False))


def test_dim_regions(wh: Warehouse) -> None:
    assert rows(wh, "dim_regions", ["region_id", "region_name"]) == [
        ("east", "East"),
        ("west", "West"),
    ]


def test_dim_reps_tenure_region_and_manager(wh: Warehouse) -> None:
    cols = ["rep_id", "role", "region_name", "manager_id", "manager_name", "tenure_months"]
    assert rows(wh, "dim_reps", cols) == [
        # hired 2020-06-15: 3 years 9 months to 2024-03-15, day 20 >= 15 -> 45
        ("m1", "manager", "East", None, None, 45),
        # hired 2023-01-20: 14 months to 2024-03-20 exactly
        ("r1", "rep", "East", "m1", "Mona Manager", 14),
        # hired 2023-11-25: 4 month steps, but day 20 < 25 -> 3
        ("r2", "rep", "East", "m1", "Mona Manager", 3),
        # hired on the as-of date -> 0
        ("r3", "rep", "West", None, None, 0),
    ]


def test_dim_accounts_first_last_and_lifetime_bookings(wh: Warehouse) -> None:
    cols = ["account_id", "region_id", "first_order_date", "last_order_date", "lifetime_bookings"]
    assert rows(wh, "dim_accounts", cols) == [
        ("a1", "east", D(2024, 1, 15), D(2024, 1, 31), 365.0),  # 200 + 90 + 75
        ("a2", "east", D(2024, 2, 4), D(2024, 3, 18), 180.0),  # 150 + 30
        ("a3", "west", D(2024, 3, 1), D(2024, 3, 1), 100.0),
        ("a4", "west", None, None, 0.0),  # no orders
    ]


def test_dim_products(wh: Warehouse) -> None:
    assert rows(wh, "dim_products", ["product_id", "family", "list_price"]) == [
        ("p1", "Hardware", 100.0),
        ("p2", "Software", 50.0),
    ]


def test_fct_bookings_month_week_region_and_family(wh: Warehouse) -> None:
    cols = [
        "order_id",
        "line_number",
        "order_month",
        "order_week",
        "region_id",
        "manager_id",
        "product_family",
        "amount",
    ]
    assert rows(wh, "fct_bookings", cols) == [
        ("ord1", 1, D(2024, 1, 1), D(2024, 1, 15), "east", "m1", "Hardware", 200.0),
        ("ord1", 2, D(2024, 1, 1), D(2024, 1, 15), "east", "m1", "Hardware", 90.0),
        # Wednesday 2024-01-31 -> Monday 2024-01-29
        ("ord2", 1, D(2024, 1, 1), D(2024, 1, 29), "east", "m1", "Hardware", 75.0),
        # Sunday 2024-02-04 belongs to the ISO week of Monday 2024-01-29, month February
        ("ord3", 1, D(2024, 2, 1), D(2024, 1, 29), "east", "m1", "Software", 150.0),
        # Friday 2024-03-01 -> Monday 2024-02-26
        ("ord4", 1, D(2024, 3, 1), D(2024, 2, 26), "west", None, "Software", 100.0),
        ("ord5", 1, D(2024, 3, 1), D(2024, 3, 18), "east", "m1", "Software", 30.0),
    ]


def test_fct_bookings_money_is_exact_to_the_cent(wh: Warehouse) -> None:
    total = wh.query("SELECT sum(amount) AS total, typeof(sum(amount)) AS t FROM fct_bookings")
    assert total["total"].iloc[0] == 645.0  # 200 + 90 + 75 + 150 + 100 + 30
    assert total["t"].iloc[0].startswith("DECIMAL")


def test_fct_bookings_monthly_aggregates(wh: Warehouse) -> None:
    cols = [
        "region_id",
        "rep_id",
        "product_family",
        "order_month",
        "bookings_amount",
        "order_lines",
        "orders",
    ]
    assert rows(wh, "fct_bookings_monthly", cols) == [
        ("east", "r1", "Hardware", D(2024, 1, 1), 365.0, 3, 2),  # ord1 x2 lines + ord2
        ("east", "r2", "Software", D(2024, 2, 1), 150.0, 1, 1),
        ("east", "r2", "Software", D(2024, 3, 1), 30.0, 1, 1),
        ("west", "r3", "Software", D(2024, 3, 1), 100.0, 1, 1),
    ]


def test_fct_opportunities_stage_age_and_days_in_stage(wh: Warehouse) -> None:
    cols = [
        "opportunity_id",
        "region_id",
        "product_family",
        "stage",
        "stage_order",
        "is_closed",
        "is_won",
        "current_stage_entered_date",
        "days_in_current_stage",
        "age_days",
    ]
    assert rows(wh, "fct_opportunities", cols) == [
        # open: Mar 20 - Mar 5 = 15 days in stage; age Jan 2 -> Mar 20 = 30 + 29 + 19 = 78
        ("o1", "east", "Hardware", "Negotiation", 4, False, False, D(2024, 3, 5), 15, 78),
        # closed: no days in stage; age = close Feb 4 - created Jan 5 = 30
        ("o2", "east", "Software", "Closed Won", 5, True, True, D(2024, 2, 4), None, 30),
        # open: Mar 20 - Mar 10 = 10 for both
        ("o3", "west", "Software", "Prospecting", 1, False, False, D(2024, 3, 10), 10, 10),
    ]


def test_fct_stage_changes_exits_next_stage_and_days(wh: Warehouse) -> None:
    cols = [
        "opportunity_id",
        "sequence",
        "stage",
        "stage_order",
        "entered_date",
        "exited_date",
        "next_stage",
        "days_in_stage",
        "is_current",
    ]
    assert rows(wh, "fct_stage_changes", cols) == [
        ("o1", 1, "Prospecting", 1, D(2024, 1, 2), D(2024, 1, 10), "Qualification", 8, False),
        ("o1", 2, "Qualification", 2, D(2024, 1, 10), D(2024, 2, 1), "Proposal", 22, False),
        # Feb 1 -> Mar 1 is 29 days in 2024, + 4
        ("o1", 3, "Proposal", 3, D(2024, 2, 1), D(2024, 3, 5), "Negotiation", 33, False),
        # current open stage: as-of Mar 20 - Mar 5
        ("o1", 4, "Negotiation", 4, D(2024, 3, 5), None, None, 15, True),
        ("o2", 1, "Prospecting", 1, D(2024, 1, 5), D(2024, 1, 20), "Proposal", 15, False),
        ("o2", 2, "Proposal", 3, D(2024, 1, 20), D(2024, 2, 4), "Closed Won", 15, False),
        # closed final stage: no duration
        ("o2", 3, "Closed Won", 5, D(2024, 2, 4), None, None, None, True),
        ("o3", 1, "Prospecting", 1, D(2024, 3, 10), None, None, 10, True),
    ]
    by_region = rows(wh, "fct_stage_changes", ["region_id", "owner_rep_id", "opportunity_id"])
    assert sorted(set(by_region)) == [
        ("east", "r1", "o1"),
        ("east", "r2", "o2"),
        ("west", "r3", "o3"),
    ]


def test_fct_quota_attainment(wh: Warehouse) -> None:
    cols = [
        "rep_id",
        "region_id",
        "manager_id",
        "month",
        "quota_amount",
        "bookings_amount",
        "attainment",
        "is_complete_month",
    ]
    assert rows(wh, "fct_quota_attainment", cols) == [
        ("r1", "east", "m1", D(2024, 1, 1), 400.0, 365.0, 0.9125, True),  # 365 / 400
        ("r1", "east", "m1", D(2024, 2, 1), 300.0, 0.0, 0.0, True),  # no bookings
        ("r2", "east", "m1", D(2024, 2, 1), 200.0, 150.0, 0.75, True),
        ("r2", "east", "m1", D(2024, 3, 1), 0.0, 30.0, None, False),  # zero quota; March open
        ("r3", "west", None, D(2024, 3, 1), 250.0, 100.0, 0.4, False),
        # r1's April quota is after the as-of month: no row
    ]


def test_fct_region_targets(wh: Warehouse) -> None:
    cols = ["region_id", "month", "target_amount", "bookings_amount", "attainment"]
    assert rows(wh, "fct_region_targets", cols) == [
        ("east", D(2024, 1, 1), 500.0, 365.0, 0.73),
        ("east", D(2024, 2, 1), 300.0, 150.0, 0.5),
        ("east", D(2024, 3, 1), 0.0, 30.0, None),
        ("west", D(2024, 3, 1), 200.0, 100.0, 0.5),
        ("west", D(2024, 4, 1), 100.0, 0.0, 0.0),
    ]


def test_marts_have_the_documented_columns(wh: Warehouse) -> None:
    documented = {
        "dim_regions": ["region_id", "region_name"],
        "dim_reps": [
            "rep_id", "rep_name", "role", "region_id", "region_name", "manager_id",
            "manager_name", "hire_date", "tenure_months",
        ],
        "dim_accounts": [
            "account_id", "account_name", "industry", "size_band", "region_id", "owner_rep_id",
            "created_date", "first_order_date", "last_order_date", "lifetime_bookings",
        ],
        "dim_products": ["product_id", "product_name", "family", "list_price"],
        "fct_bookings": [
            "order_id", "line_number", "order_date", "order_month", "order_week", "region_id",
            "rep_id", "manager_id", "account_id", "product_id", "product_family", "quantity",
            "unit_price", "discount", "amount",
        ],
        "fct_bookings_monthly": [
            "region_id", "rep_id", "product_family", "order_month", "bookings_amount",
            "order_lines", "orders",
        ],
        "fct_opportunities": [
            "opportunity_id", "opportunity_name", "account_id", "owner_rep_id", "region_id",
            "product_id", "product_family", "created_date", "stage", "stage_order", "is_closed",
            "is_won", "amount", "close_date", "forecast_category", "push_count",
            "current_stage_entered_date", "days_in_current_stage", "age_days",
        ],
        "fct_stage_changes": [
            "opportunity_id", "region_id", "owner_rep_id", "sequence", "stage", "stage_order",
            "entered_date", "exited_date", "next_stage", "days_in_stage", "is_current",
        ],
        "fct_quota_attainment": [
            "rep_id", "rep_name", "region_id", "manager_id", "month", "quota_amount",
            "bookings_amount", "attainment", "is_complete_month",
        ],
        "fct_region_targets": [
            "region_id", "month", "target_amount", "bookings_amount", "attainment",
        ],
    }  # fmt: skip
    for model, columns in documented.items():
        actual = wh.columns(model)
        assert actual[: len(columns)] == columns, model


def test_money_columns_are_decimal_in_sql(wh: Warehouse) -> None:
    money = {
        ("dim_accounts", "lifetime_bookings"),
        ("dim_products", "list_price"),
        ("fct_bookings", "amount"),
        ("fct_bookings", "unit_price"),
        ("fct_bookings_monthly", "bookings_amount"),
        ("fct_opportunities", "amount"),
        ("fct_quota_attainment", "quota_amount"),
        ("fct_quota_attainment", "bookings_amount"),
        ("fct_region_targets", "target_amount"),
        ("fct_region_targets", "bookings_amount"),
    }
    types = wh.query(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main'"
    )
    found = {(t, c): dtype for t, c, dtype in types.itertuples(index=False) if (t, c) in money}
    assert set(found) == money
    # deal and order-line amounts and every sum of bookings keep the source precision (issue
    # 12 items 1 and 4: a region's total equals the source's sum); plan money is in cents
    precise = {
        ("fct_bookings", "amount"),
        ("fct_opportunities", "amount"),
        ("fct_bookings_monthly", "bookings_amount"),
        ("fct_quota_attainment", "bookings_amount"),
        ("fct_region_targets", "bookings_amount"),
        ("dim_accounts", "lifetime_bookings"),
    }
    assert {k: v for k, v in found.items() if k in precise} == dict.fromkeys(
        precise, "DECIMAL(18,6)"
    )
    assert {v for k, v in found.items() if k not in precise} == {"DECIMAL(18,2)"}, found


def test_region_filter_on_hand_made_fixture(wh: Warehouse, tmp_path: Path) -> None:
    west = rows(wh, "fct_bookings", ["order_id", "amount"], region="west")
    assert west == [("ord4", 100.0)]
    east = rows(wh, "fct_opportunities", ["opportunity_id"], region="east")
    assert east == [("o1",), ("o2",)]
