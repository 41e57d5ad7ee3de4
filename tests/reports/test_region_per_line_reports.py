"""Reports on an order book whose region and rep belong to the line (issue 12 item 1).

A tiny order book, imported for real, where Acme buys in East (from Ann) and West (from Bob and
Cy): each region's segmentation lists Acme, named, with the rep who sold it the most lines
there; the company view lists every account once with its owner. Bob (home West) also sells in
East: the forecast call's East pacing counts the lines booked in East, a rep's actual all of
their lines. Expected rows worked out by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from salesops_lib.data.snapshot import open_snapshot
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.reports.forecast_call.load import scope_bookings
from salesops_lib.reports.segmentation.load import region_accounts
from salesops_lib.sources.importer import import_snapshot

AS_OF = "2024-06-30"
MAPPING = """
name: tiny_regional
kind: order_lines
sources:
  orders:
    file: orders.csv
    columns:
      order_date: {column: Order Date, type: date}
      customer: {column: Customer}
      region: {column: Region, type: category}
      rep: {column: Rep, type: category}
      amount: {column: Amount, type: number}
constants: {industry: Unknown, size_band: SMB}
"""
LINES = """Order Date,Customer,Region,Rep,Amount
2024-01-05,Acme,East,Ann,900.00
2024-02-05,Acme,West,Bob,10.00
2024-02-06,Acme,West,Cy,20.00
2024-02-07,Acme,West,Cy,30.00
2024-03-05,Bravo,East,Ann,50.00
2024-04-05,Delta,West,Bob,70.00
"""


def _rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    return list(frame.itertuples(index=False, name=None))


def test_each_region_lists_the_customers_it_booked_with_their_rep_there(tmp_path: Path) -> None:
    (tmp_path / "map.yml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "orders.csv").write_text(LINES, encoding="utf-8")
    snaps = tmp_path / "snaps"
    import_snapshot(tmp_path / "map.yml", [tmp_path / "orders.csv"], AS_OF, snaps, force=False)
    with Warehouse(open_snapshot(snaps, AS_OF)) as wh:
        east = region_accounts(wh, "east")
        west = region_accounts(wh, "west")
        company = region_accounts(wh, "all")
    assert _rows(east) == [("Acme", "Acme", "ann"), ("Bravo", "Bravo", "ann")]
    # West: Acme's lines there are Bob's (1) and Cy's (2) -> Cy; Acme's home is East (900)
    assert _rows(west) == [("Acme", "Acme", "cy"), ("Delta", "Delta", "bob")]
    assert _rows(company) == [
        ("Acme", "Acme", "ann"),
        ("Bravo", "Bravo", "ann"),
        ("Delta", "Delta", "bob"),
    ]


def test_forecast_call_pacing_counts_the_region_and_actuals_the_rep(tmp_path: Path) -> None:
    (tmp_path / "map.yml").write_text(MAPPING, encoding="utf-8")
    lines = LINES + "2024-05-05,Bravo,East,Bob,5.00\n"  # Bob, home West (80), sells in East
    (tmp_path / "orders.csv").write_text(lines, encoding="utf-8")
    snaps = tmp_path / "snaps"
    import_snapshot(tmp_path / "map.yml", [tmp_path / "orders.csv"], AS_OF, snaps, force=False)
    with Warehouse(open_snapshot(snaps, AS_OF)) as wh:
        east = scope_bookings(wh, "east", dt.date(2024, 1, 1))
        west = scope_bookings(wh, "west", dt.date(2024, 1, 1))
        company = scope_bookings(wh, None, dt.date(2024, 1, 1))
    # East: its three lines (900 + 50 Ann, 5 Bob); Ann's home is East, Bob's is not
    assert east.loc[east["in_scope"], "amount"].sum() == 955.0
    assert set(east["rep_id"]) == {"ann", "bob"} and len(east) == 3
    # West: its four lines plus the East line of West's rep Bob (not in West's pacing)
    assert west.loc[west["in_scope"], "amount"].sum() == 130.0
    assert west.groupby("rep_id")["amount"].sum().to_dict() == {"bob": 85.0, "cy": 50.0}
    assert len(company) == 7 and company["in_scope"].all()
