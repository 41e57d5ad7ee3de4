"""Flow matrix between two snapshots and pacing against earlier quarters (by hand)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from salesops_lib.analytics.forecast_call.movement import deal_flows, flow_matrix
from salesops_lib.analytics.forecast_call.pacing import pacing_table, weekly_curves
from salesops_lib.analytics.forecast_call.quarters import quarter_end, week_of_quarter

Q_START, Q_END = dt.date(2026, 10, 1), dt.date(2026, 12, 31)


def _deals(rows: list[tuple[str, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["opportunity_id", "forecast_category", "amount", "close_date"]
    )


BEFORE = _deals(
    [
        ("a", "Pipeline", 10.0, "2026-12-01"),  # -> Best Case
        ("b", "Commit", 20.0, "2026-12-15"),  # -> Closed
        ("c", "Commit", 30.0, "2026-12-20"),  # pushed to next quarter
        ("d", "Best Case", 40.0, "2027-02-01"),  # pulled into the quarter as Commit
        ("e", "Best Case", 5.0, "2026-11-30"),  # lost
    ]
)
AFTER = _deals(
    [
        ("a", "Best Case", 12.0, "2026-12-01"),
        ("b", "Closed", 20.0, "2026-11-20"),
        ("c", "Commit", 30.0, "2027-01-15"),
        ("d", "Commit", 40.0, "2026-12-10"),
        ("e", "Omitted", 5.0, "2026-11-21"),
        ("f", "Pipeline", 7.0, "2026-12-30"),  # created
    ]
)


def test_flow_matrix_in_deals_and_money() -> None:
    flows = deal_flows(BEFORE, AFTER, Q_START, Q_END)
    deals = flow_matrix(flows, "deals").set_index("from_category")
    money = flow_matrix(flows, "amount").set_index("from_category")
    assert deals.loc["Pipeline", "Best Case"] == 1 and money.loc["Pipeline", "Best Case"] == 12.0
    assert deals.loc["Commit", "Closed"] == 1 and money.loc["Commit", "Closed"] == 20.0
    assert (
        deals.loc["Commit", "Out of quarter"] == 1 and money.loc["Commit", "Out of quarter"] == 30
    )
    assert deals.loc["New", "Commit"] == 1 and money.loc["New", "Commit"] == 40.0
    assert deals.loc["Best Case", "Omitted"] == 1
    assert deals.loc["New", "Pipeline"] == 1
    assert int(deals.to_numpy().sum()) == 6  # every deal in the quarter at either date, once
    assert money.to_numpy().sum() == pytest.approx(12 + 20 + 30 + 40 + 5 + 7)


def test_pacing_compares_the_same_day_of_earlier_quarters() -> None:
    bookings = pd.DataFrame(
        {
            "order_date": pd.to_datetime(
                ["2026-10-03", "2026-10-20", "2026-07-05", "2026-07-16", "2026-07-30",
                 "2026-04-02", "2026-06-30"]
            ),
            "amount": [5.0, 7.0, 1.0, 2.0, 100.0, 3.0, 50.0],
        }
    )  # fmt: skip
    points = pd.DataFrame(
        {"week": pd.to_datetime(["2026-10-19"]), "open_commit": [10.0], "open_best_case": [4.0]}
    )
    row = pacing_table(points, bookings, earlier=2).iloc[0]
    assert row["offset"] == 18 and row["week_of_quarter"] == 3
    assert row["closed"] == 5.0  # 10-20 is after the snapshot
    assert (row["commit"], row["best_case"]) == (15.0, 19.0)
    assert row["closed 2026-Q3"] == 3.0  # through 07-19
    assert row["closed 2026-Q2"] == 3.0  # through 04-19
    assert row["earlier_mean_closed"] == 3.0
    curves = weekly_curves(bookings, [dt.date(2026, 7, 1)], weeks=13).set_index("week_of_quarter")
    assert curves.loc[1, "closed"] == 1.0 and curves.loc[13, "closed"] == 103.0


def test_quarter_helpers() -> None:
    assert quarter_end(dt.date(2026, 11, 23)) == Q_END
    assert quarter_end(dt.date(2026, 2, 1)) == dt.date(2026, 3, 31)
    assert week_of_quarter(dt.date(2026, 10, 7)) == 1 and week_of_quarter(Q_START) == 1
    assert week_of_quarter(dt.date(2026, 10, 8)) == 2
