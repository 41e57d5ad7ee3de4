"""End to end: an order book with the region and rep on every line, imported and reported.

`salesops import` reads tests/import_corpus/regional/regional_orders.csv with
config/mappings/order_lines_regional.yml into a tmp workspace, then `salesops run` publishes the
overview and performance reports of two territories and the company. Every expected figure is a
plain DuckDB query over the CSV file (grouped by its Ship-To Territory column), never the
importer's or the warehouse's code: per-region bookings to the cent in the warehouse and in the
published headlines, the company's customer count, nothing quarantined, and a customer who buys
in two territories counted in each with that territory's lines only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from salesops_lib.data.snapshot import open_snapshot
from salesops_lib.data.warehouse import Warehouse
from tests.conftest import ROOT

SOURCE = ROOT / "tests" / "import_corpus" / "regional" / "regional_orders.csv"
MAPPING = ROOT / "config" / "mappings" / "order_lines_regional.yml"
SALESOPS = Path(sys.executable).with_name("salesops")
AS_OF = "2025-12-31"
REGIONS = ["emea", "north-america"]  # the territories EMEA and North America
CENT = Decimal("0.01")


def _source(sql: str) -> list[tuple]:
    """Rows of ``sql`` over the CSV (view ``src``, every column as text)."""
    con = duckdb.connect()
    con.execute(f"create view src as select * from read_csv('{SOURCE}', all_varchar = true)")
    return con.execute(sql).fetchall()


def _region_id(territory: str) -> str:
    """The mapping's documented id of a territory name (North America -> north-america)."""
    return territory.strip().lower().replace(" ", "-")


def _by_territory(where: str = "true") -> dict[str, Decimal]:
    """Sum of Net Amount per territory (exact decimals), rounded to the cent."""
    rows = _source(
        'select "Ship-To Territory", sum(cast("Net Amount" as decimal(18, 4))) from src '
        f"where {where} group by 1"
    )
    return {_region_id(t): Decimal(str(v)).quantize(CENT) for t, v in rows}


def _salesops(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SALESOPS), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the CSV imported and the two reports run for two territories and all."""
    folder = tmp_path_factory.mktemp("regional")
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text(encoding="utf-8"))
    territories = sorted(t for (t,) in _source('select distinct "Ship-To Territory" from src'))
    config["regions"] = [{"id": _region_id(t), "name": t} for t in territories]
    config["paths"] = {"snapshots": str(folder / "snapshots"), "reports": str(folder / "reports")}
    (folder / "workbench.yml").write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    env = {
        **os.environ,
        "SALESOPS_CONFIG": str(folder / "workbench.yml"),
        "SALESOPS_HOME": str(ROOT),
        "SALESOPS_KERNEL": os.environ.get("SALESOPS_KERNEL", "salesops"),
    }
    imported = _salesops(["import", str(MAPPING), str(SOURCE)], env)
    assert imported.returncode == 0, imported.stderr[-2000:]
    regions = [arg for region in [*REGIONS, "all"] for arg in ("--region", region)]
    notebooks = ["-n", "00-overview", "-n", "10-performance"]
    ran = _salesops(["run", *regions, *notebooks, "--workers", "2"], env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    return folder


def _headlines(workspace: Path) -> dict[tuple[str, str], dict[str, object]]:
    records = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in (workspace / "reports" / "_runs").glob("*.json")
    ]
    assert all(r["status"] == "ok" for r in records), [r["error"] for r in records]
    return {(r["region"], r["notebook"]): r["headlines"] for r in records}


def test_no_line_is_quarantined_and_every_line_is_kept(workspace: Path) -> None:
    folder = workspace / "snapshots" / AS_OF
    issues = json.loads((folder / "_quarantine.json").read_text(encoding="utf-8"))["issues"]
    assert issues == []
    ((lines,),) = _source("select count(*) from src")
    with Warehouse(open_snapshot(workspace / "snapshots", AS_OF)) as wh:
        assert int(wh.query("select count(*) as n from fct_bookings")["n"].iloc[0]) == lines


def test_warehouse_bookings_per_region_equal_the_source_to_the_cent(workspace: Path) -> None:
    expected = _by_territory()
    assert len(expected) == 4
    with Warehouse(open_snapshot(workspace / "snapshots", AS_OF)) as wh:
        rows = wh.query(
            "select region_id, cast(sum(amount) as varchar) as total from fct_bookings group by 1"
        )
        monthly = wh.query(
            "select region_id, cast(sum(bookings_amount) as varchar) as total "
            "from fct_bookings_monthly group by 1"
        )
    for frame in (rows, monthly):
        found = {r: Decimal(t).quantize(CENT) for r, t in frame.itertuples(index=False)}
        assert found == expected


def test_published_headlines_equal_the_source_per_region(workspace: Path) -> None:
    shown = _headlines(workspace)
    assert set(shown) == {
        (r, n) for r in [*REGIONS, "all"] for n in ("00-overview", "10-performance")
    }
    # Dec 31 closes December: the last 12 complete months are Jan..Dec 2025; the quarter to
    # date is Oct 1 .. Dec 31 2025.
    year = _by_territory("\"Order Date\" between '2025-01-01' and '2025-12-31'")
    quarter = _by_territory("\"Order Date\" between '2025-10-01' and '2025-12-31'")
    ((year_total, quarter_total),) = _source(
        'select sum(cast("Net Amount" as decimal(18, 4))) filter (where "Order Date" >= '
        "'2025-01-01'), sum(cast(\"Net Amount\" as decimal(18, 4))) filter (where "
        "\"Order Date\" >= '2025-10-01') from src"
    )
    year["all"] = Decimal(str(year_total)).quantize(CENT)
    quarter["all"] = Decimal(str(quarter_total)).quantize(CENT)
    for region in [*REGIONS, "all"]:
        overview = shown[(region, "00-overview")]
        performance = shown[(region, "10-performance")]
        assert Decimal(str(overview["bookings_12m"])) == year[region], region
        assert Decimal(str(performance["bookings_period"])) == quarter[region], region
        assert overview["region"] == region


def test_company_counts_each_customer_once(workspace: Path) -> None:
    ((customers,),) = _source('select count(distinct "Customer Name") from src')
    with Warehouse(open_snapshot(workspace / "snapshots", AS_OF)) as wh:
        counted = wh.query(
            "select count(distinct account_id) as n, "
            "(select count(*) from dim_accounts) as accounts from fct_bookings"
        ).iloc[0]
    assert int(counted["n"]) == customers
    assert int(counted["accounts"]) == customers


def _segments(workspace: Path) -> duckdb.DuckDBPyRelation:
    """The analytics store's customer segments (the run built one store for the snapshot)."""
    (store,) = (workspace / "analytics" / AS_OF).glob("*/an_customer_segments.parquet")
    return duckdb.read_parquet(str(store))


def test_segmentation_scopes_hold_the_customers_booked_there(workspace: Path) -> None:
    per_territory = _source(
        'select "Ship-To Territory", count(distinct "Customer Name") from src group by 1'
    )
    expected = {_region_id(t): n for t, n in per_territory}
    ((expected["all"],),) = _source('select count(distinct "Customer Name") from src')
    segments = _segments(workspace)
    found = segments.aggregate("scope, count(*), count(distinct account_id)").fetchall()
    assert {scope: rows for scope, rows, _ in found} == expected
    assert all(rows == distinct for _, rows, distinct in found)  # each customer once per scope


def test_a_customer_in_two_regions_counts_in_each_with_its_lines_there(workspace: Path) -> None:
    shared = _source(
        'select "Customer Name" from src group by 1 '
        'having count(distinct "Ship-To Territory") filter (where "Ship-To Territory" in '
        "('EMEA', 'North America')) = 2 order by sum(cast(\"Net Amount\" as double)) desc limit 1"
    )
    assert shared, "the fixture has customers buying in both EMEA and North America"
    ((customer,),) = shared
    escaped = customer.replace("'", "''")
    expected = _by_territory(f"\"Customer Name\" = '{escaped}'")
    with Warehouse(open_snapshot(workspace / "snapshots", AS_OF)) as wh:
        found = wh.query(
            "select region_id, cast(sum(amount) as varchar) as total, count(*) as lines "
            "from fct_bookings where account_id = ? group by 1",
            [customer],
        )
        home = wh.query("select region_id from dim_accounts where account_id = ?", [customer])
    assert {r: Decimal(t).quantize(CENT) for r, t, _ in found.itertuples(index=False)} == expected
    monetary = _segments(workspace).filter(f"account_id = '{escaped}' and scope <> 'all'")
    in_store = dict(monetary.select("scope, monetary").fetchall())
    assert {r: Decimal(str(round(v, 2))) for r, v in in_store.items()} == expected
    # the home region is where most of the customer's money was booked
    assert home["region_id"].iloc[0] == max(expected, key=lambda r: expected[r])


def test_a_rep_selling_in_two_regions_is_one_rep(workspace: Path) -> None:
    two = _source(
        'select "Sales Rep", count(distinct "Ship-To Territory") from src group by 1 '
        'having count(distinct "Ship-To Territory") > 1'
    )
    assert len(two) >= 2
    ((reps,),) = _source('select count(distinct "Sales Rep") from src')
    with Warehouse(open_snapshot(workspace / "snapshots", AS_OF)) as wh:
        named = wh.query("select rep_name, count(*) as n from dim_reps group by 1")
        per_rep = wh.query(
            "select r.rep_name, count(distinct b.region_id) as regions "
            "from fct_bookings b join dim_reps r using (rep_id) group by 1"
        )
    sellers = named[~named["rep_name"].str.startswith("House account")]
    assert len(sellers) == reps and (sellers["n"] == 1).all()
    spread = dict(per_rep.itertuples(index=False))
    assert {name: spread[name] for name, _ in two} == dict(two)
