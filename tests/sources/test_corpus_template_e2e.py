"""Real-data corpus: a realistic European order book through the generic order-lines template.

The fixture (``tests/import_corpus/template_realistic/``: ``orders.csv`` written by
``make_orders.py``, and ``orders.yml``, a copy of ``config/mappings/order_lines_template.yml``
filled in for it) has three regions, nine reps, twelve products (two long names sharing a
prefix), orders of several lines, semicolons, decimal commas, thousands dots, day-first dates,
sub-cent amounts, two years plus a partial month and seven rows an import must quarantine.

``salesops import``, ``salesops validate`` and one ``salesops run --all`` (every report notebook
for each region and the company view); then every headline figure about bookings, customers and
quarantined rows, and the mart the reports read, are compared with a plain DuckDB query over
``orders.csv`` (parsed here from its text, not by the importer), to the cent.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT
from tests.sources.corpus_e2e import (
    COMPANY,
    CorpusRun,
    assert_cents,
    assert_every_report_published,
    import_validate_run,
    source_sql,
)

FIXTURE = ROOT / "tests" / "import_corpus" / "template_realistic"
ORDERS = FIXTURE / "orders.csv"
MAPPING = FIXTURE / "orders.yml"
REGIONS = [
    {"id": "nordics", "name": "Nordics"},
    {"id": "dach", "name": "DACH"},
    {"id": "benelux", "name": "Benelux"},
]
REGION_IDS = [r["id"] for r in REGIONS]

PARSED = f"""
    select "Order ID" as order_id,
           cast(strptime(nullif(trim("Order Date"), ''), '%d.%m.%Y') as date) as order_date,
           nullif(trim("Customer"), '') as customer,
           lower(trim("Region")) as region_id,
           trim("Sales Rep") as rep,
           trim("Product") as product,
           cast(replace(replace(trim("Amount"), '.', ''), ',', '.') as decimal(18, 3)) as amount
    from read_csv('{ORDERS}', delim = ';', header = true, all_varchar = true)
"""
"""Every source row, parsed from its text: day-first dates, thousands dot, decimal comma."""

KEPT = "order_date is not null and customer is not null and amount >= 0"
"""The rows an import keeps: a date, a customer and an amount that is not negative."""


def _scope_figures(where: str) -> dict[str, Any]:
    """The figures of the rows matching ``where`` (a region, or every row for the company)."""
    ((as_of,),) = source_sql(f"select max(order_date) from ({PARSED})")
    month = dt.date(as_of.year, as_of.month, 1)  # the as-of month is partial (Jan 1-14, 2026)
    last_start = month.replace(year=month.year - 1)  # last 12 complete months: 2025
    prior_start = month.replace(year=month.year - 2)  # the 12 before: 2024
    quarter_start = dt.date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    ((lines, orders, customers, reps, products, total, last_12m, prior_12m, booked, bad),) = (
        source_sql(
            f"""
            select count(*) filter (where {KEPT}),
                   count(distinct order_id) filter (where {KEPT}),
                   count(distinct customer) filter (where {KEPT}),
                   count(distinct rep) filter (where {KEPT}),
                   count(distinct product) filter (where {KEPT}),
                   sum(amount) filter (where {KEPT}),
                   sum(amount) filter (where {KEPT} and order_date >= date '{last_start}'
                                       and order_date < date '{month}'),
                   sum(amount) filter (where {KEPT} and order_date >= date '{prior_start}'
                                       and order_date < date '{last_start}'),
                   sum(amount) filter (where {KEPT} and order_date >= date '{quarter_start}'),
                   count(*) filter (where not coalesce({KEPT}, false))
            from ({PARSED}) where {where}
            """
        )
    )
    return {
        "as_of": as_of,
        "lines": lines,
        "orders": orders,
        "customers": customers,
        "reps": reps,
        "products": products,
        "total": total,
        "last_12m": last_12m,
        "growth": round(float(last_12m) / float(prior_12m) - 1, 4),
        "booked": booked,
        "quarantined": bad,
    }


def _assert_scope(run: CorpusRun, scope: str, source: dict[str, Any]) -> None:
    """One region's (or the company's) headline figures equal the source's."""
    overview = run.headlines("00-overview")[scope]
    forecast = run.headlines("20-forecast")[scope]
    call = run.headlines("15-forecast-call")[scope]
    assert_cents(overview["bookings_12m"], source["last_12m"], f"{scope} bookings_12m")
    assert overview["bookings_growth"] == source["growth"], scope
    assert_cents(forecast["quarter_booked"], source["booked"], f"{scope} quarter booked")
    # One "booked so far": the quarter forecast is never below it, and the forecast call
    # states the statistical forecast the forecast report shows (issue 12 item 7).
    assert forecast["quarter_forecast"] >= forecast["quarter_booked"], scope
    assert call["statistical_forecast"] == forecast["quarter_forecast"], scope
    assert run.headlines("30-segmentation")[scope]["customers"] == source["customers"], scope
    quarantined = source["quarantined"]
    assert run.headlines("00-data-quality")[scope]["quarantined_rows"] == quarantined, scope
    left_out = re.compile(rf"\b{quarantined:,} source rows? quarantined")  # the first line
    assert left_out.search(run.html(scope, "00-overview")), scope


def test_template_order_book_imports_validates_and_every_report_matches_the_source(
    tmp_path: Path,
) -> None:
    company = _scope_figures("true")
    regions = {r: _scope_figures(f"region_id = '{r}'") for r in REGION_IDS}
    assert company["quarantined"] == 7  # the fixture's planted rows
    # every report for one region (DACH: the escaped name below) and the company: the other
    # regions' figures are checked in the mart every report reads (CI time)
    run = import_validate_run(tmp_path, MAPPING, [ORDERS], {"regions": REGIONS}, ["dach"])
    assert run.as_of == company["as_of"].isoformat() == "2026-01-14"
    assert " 0 failed" in run.validate_output
    assert_every_report_published(run, ["dach"])
    _assert_scope(run, "dach", regions["dach"])
    _assert_scope(run, COMPANY, company)

    # The mart every report reads: each region's lines, orders, customers, reps and money.
    mart = {
        row[0]: row[1:]
        for row in run.sql(
            "select region_id, count(*), count(distinct order_id), count(distinct account_id), "
            "count(distinct rep_id), sum(amount) from fct_bookings group by 1"
        )
    }
    assert sorted(mart) == sorted(REGION_IDS)
    for region, (lines, orders, customers, reps, amount) in mart.items():
        source = regions[region]
        expected = [source[k] for k in ("lines", "orders", "customers", "reps")]
        assert [int(lines), int(orders), int(customers), int(reps)] == expected, region
        assert_cents(float(amount), source["total"], f"{region} fct_bookings amount")
    # Two long product names sharing their first 50 characters stay two products.
    ((products,),) = run.sql("select count(distinct product_id) from fct_bookings")
    assert int(products) == company["products"] == 12

    # Names from the data are escaped in every published page: a customer with & < > in its
    # name is listed (escaped) in the DACH segmentation report and appears raw nowhere.
    pages = [Path(r["outputs"]["html"]).read_text(encoding="utf-8") for r in run.records]
    assert not any("<Holding>" in page or "Bau & Technik" in page for page in pages)
    assert "Müller &amp; Söhne &lt;Holding&gt; GmbH" in run.html("dach", "30-segmentation")
    print(f"\ntemplate corpus wall time by step (s): {run.seconds}")


def test_the_fixture_mapping_is_the_template_with_only_the_file_options_filled_in() -> None:
    """orders.yml stays a copy of the shipped template: only its name, the EU number and date
    options and the (documented, optional) rep column differ, so the e2e test proves the
    template a user copies."""
    template = yaml.safe_load(
        (ROOT / "config" / "mappings" / "order_lines_template.yml").read_text(encoding="utf-8")
    )
    expected = copy.deepcopy(template)
    expected["name"] = "template_realistic"
    orders = expected["sources"]["orders"]
    orders.update({"delimiter": ";", "decimal": ",", "thousands": ".", "dayfirst": True})
    orders["columns"]["rep"] = {"column": "Sales Rep", "type": "category", "required": False}
    assert yaml.safe_load(MAPPING.read_text(encoding="utf-8")) == expected


def test_the_fixture_generator_rewrites_the_committed_file_byte_for_byte(tmp_path: Path) -> None:
    script = tmp_path / "make_orders.py"
    shutil.copy(FIXTURE / "make_orders.py", script)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "orders.csv").read_bytes() == ORDERS.read_bytes()
