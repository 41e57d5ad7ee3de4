"""Region and rep per order line (issue 12 item 1): the order-book importer's rules on tiny files.

Every expected value is worked out by hand from the few lines written in each test: a line
keeps its own region and rep, nothing is quarantined for buying or selling in two regions, and
the home region of an account or rep is where most of its money was booked (a tie goes to the
region booked first). Results are read from the snapshot's parquet files and from the
warehouse's marts, not from the importer's frames.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from salesops_lib.core.errors import WorkbenchError
from salesops_lib.data.snapshot import open_snapshot
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.sources.importer import import_snapshot
from salesops_lib.sources.importer.orders import home_regions

AS_OF = "2024-06-30"
HEADER = "Order Date,Customer,Region,Rep,Amount\n"

MAPPING = """
name: tiny_regional
kind: order_lines
max_failed_share: 0.5
sources:
  orders:
    file: orders.csv
    columns:
      order_date: {column: Order Date, type: date}
      customer: {column: Customer}
      region: {column: Region, type: category}
      rep: {column: Rep, type: category, required: false}
      amount: {column: Amount, type: number}
constants: {industry: Unknown, size_band: SMB}
"""


def _import(tmp_path: Path, lines: str, mapping: str = MAPPING) -> Path:
    """Import ``lines`` (CSV rows under :data:`HEADER`) and return the snapshot folder."""
    (tmp_path / "map.yml").write_text(mapping, encoding="utf-8")
    (tmp_path / "orders.csv").write_text(HEADER + lines, encoding="utf-8")
    snaps = tmp_path / "snaps"
    import_snapshot(tmp_path / "map.yml", [tmp_path / "orders.csv"], AS_OF, snaps, force=False)
    return snaps / AS_OF


def _table(folder: Path, name: str, key: str) -> dict[str, dict[str, object]]:
    rows = pq.read_table(folder / f"{name}.parquet").to_pylist()
    return {row[key]: row for row in rows}


def _quarantined(folder: Path) -> list[dict[str, object]]:
    issues = json.loads((folder / "_quarantine.json").read_text(encoding="utf-8"))["issues"]
    return [i for i in issues if i["action"] == "quarantined"]


def test_a_customer_buying_in_two_regions_keeps_every_line_in_its_own_region(
    tmp_path: Path,
) -> None:
    folder = _import(
        tmp_path,
        "2024-01-05,Acme,East,Ann,100.00\n"
        "2024-02-05,Acme,West,Bob,300.25\n"
        "2024-03-05,Acme,West,Bob,50.50\n"
        "2024-04-05,Bravo,East,Ann,10.00\n",
    )
    assert _quarantined(folder) == []
    with Warehouse(open_snapshot(folder.parent, AS_OF)) as wh:
        by_region = wh.query(
            "select region_id, account_id, sum(amount)::double as t, count(*) as n "
            "from fct_bookings group by all order by all"
        )
    assert by_region.to_dict("records") == [
        {"region_id": "east", "account_id": "Acme", "t": 100.0, "n": 1},
        {"region_id": "east", "account_id": "Bravo", "t": 10.0, "n": 1},
        {"region_id": "west", "account_id": "Acme", "t": 350.75, "n": 2},
    ]
    accounts = _table(folder, "accounts", "account_id")
    # Acme: East 100.00, West 350.75 -> home West, owned by West's rep Bob
    assert accounts["Acme"]["region_id"] == "west"
    assert accounts["Acme"]["owner_rep_id"] == "bob"
    assert accounts["Bravo"]["region_id"] == "east"
    assert str(accounts["Acme"]["created_date"]) == "2024-01-05"


def test_a_rep_selling_in_two_regions_is_one_rep_with_the_home_region_of_most_money(
    tmp_path: Path,
) -> None:
    folder = _import(
        tmp_path,
        "2024-01-10,Acme,East,Ann,100.00\n"
        "2024-02-10,Bravo,West,Ann,80.00\n"
        "2024-03-10,Cobalt,West,Ann,70.00\n"
        "2024-03-11,Delta,West,Bob,5.00\n",
    )
    assert _quarantined(folder) == []
    reps = _table(folder, "reps", "rep_id")
    # Acme's home is East, where no rep with home East sold: East's house account owns it
    assert sorted(reps) == ["ann", "bob", "house-east"]
    # Ann: East 100.00, West 150.00 -> home West; hired on her first order
    assert reps["ann"]["region_id"] == "west"
    assert str(reps["ann"]["hire_date"]) == "2024-01-10"
    lines = pq.read_table(folder / "order_lines.parquet").to_pandas()
    ann = lines[lines["rep_id"] == "ann"].sort_values("order_date")
    assert ann["region_id"].tolist() == ["east", "west", "west"]


def test_a_tie_goes_to_the_region_booked_first_by_date_then_line(tmp_path: Path) -> None:
    folder = _import(
        tmp_path,
        "2024-02-01,Acme,West,Ann,50.00\n"
        "2024-01-01,Acme,East,Ann,50.00\n"  # earlier date: East first
        "2024-03-01,Bravo,North,Bob,20.00\n"
        "2024-03-01,Bravo,South,Bob,20.00\n",  # same day: the earlier line (North) first
    )
    accounts = _table(folder, "accounts", "account_id")
    assert accounts["Acme"]["region_id"] == "east"
    assert accounts["Bravo"]["region_id"] == "north"
    assert _table(folder, "reps", "rep_id")["bob"]["region_id"] == "north"


def test_an_account_no_home_region_rep_sold_to_is_owned_by_the_house_account(
    tmp_path: Path,
) -> None:
    # Ann's home is East (300 vs 40); Acme's home is West (40 + 5 vs 0), but West's only seller
    # of Acme is Ann (home East) and Bob never sold to Acme: West's house account owns it.
    folder = _import(
        tmp_path,
        "2024-01-10,Bravo,East,Ann,300.00\n"
        "2024-02-10,Acme,West,Ann,40.00\n"
        "2024-02-11,Acme,West,Ann,5.00\n"
        "2024-03-10,Cobalt,West,Bob,7.00\n",
    )
    accounts = _table(folder, "accounts", "account_id")
    reps = _table(folder, "reps", "rep_id")
    assert accounts["Acme"]["region_id"] == "west"
    assert accounts["Acme"]["owner_rep_id"] == "house-west"
    assert reps["house-west"]["region_id"] == "west"
    assert reps["house-west"]["rep_name"] == "House account (West)"
    assert str(reps["house-west"]["hire_date"]) == "2024-02-10"
    assert accounts["Cobalt"]["owner_rep_id"] == "bob"
    # the house account books nothing: every line keeps its own rep
    lines = pq.read_table(folder / "order_lines.parquet").to_pandas()
    assert sorted(lines["rep_id"].unique()) == ["ann", "bob"]


def test_the_old_region_rules_quarantine_nothing_but_the_others_still_hold(
    tmp_path: Path,
) -> None:
    folder = _import(
        tmp_path,
        "2024-01-05,Acme,East,Ann,100.00\n"
        "2024-01-06,Acme,,Ann,100.00\n"  # row 3: blank region
        "2024-01-07,Acme,West,Ann,-5.00\n"  # row 4: negative amount
        "2024-01-08,Acme,West,Ann,25.00\n",
    )
    rules = sorted((i["row"], i["rule"]) for i in _quarantined(folder))
    assert rules == [(3, "missing_region"), (4, "negative_amount")]
    assert pq.read_table(folder / "order_lines.parquet").num_rows == 2


def test_an_unknown_region_of_a_regions_map_is_still_quarantined(tmp_path: Path) -> None:
    mapping = MAPPING + "regions:\n  East: {id: east, name: East}\n  West: {id: west, name: West}\n"
    folder = _import(
        tmp_path,
        "2024-01-05,Acme,East,Ann,100.00\n"
        "2024-01-06,Acme,Mars,Ann,100.00\n"
        "2024-01-07,Acme,West,Bob,30.00\n",
        mapping,
    )
    assert [(i["row"], i["rule"]) for i in _quarantined(folder)] == [(3, "unknown_region")]
    accounts = _table(folder, "accounts", "account_id")
    assert accounts["Acme"]["region_id"] == "east"


def test_too_many_bad_lines_still_stop_the_import(tmp_path: Path) -> None:
    with pytest.raises(WorkbenchError, match="missing_region"):
        _import(tmp_path, "2024-01-05,Acme,,Ann,1\n2024-01-06,Acme,,Ann,1\n2024-01-07,A,E,Ann,1\n")


def test_home_regions_do_not_depend_on_the_order_of_the_lines() -> None:
    lines = pd.DataFrame(
        {
            "account_id": ["a", "a", "a", "b", "b"],
            "region_id": ["x", "y", "y", "x", "y"],
            "amount": [10.0, 4.0, 6.0, 3.0, 3.0],
            "order_date": pd.to_datetime(
                ["2024-01-03", "2024-01-01", "2024-01-02", "2024-02-01", "2024-02-01"]
            ),
            "_row": [2, 3, 4, 6, 5],
        }
    )
    expected = {"a": "y", "b": "y"}  # a: tie 10 vs 10, y booked first; b: tie, row 5 is y
    assert home_regions(lines, "account_id").to_dict() == expected
    shuffled = lines.sample(frac=1.0, random_state=3)
    assert home_regions(shuffled, "account_id").to_dict() == expected
    assert lines["region_id"].tolist() == ["x", "y", "y", "x", "y"]  # input unchanged
