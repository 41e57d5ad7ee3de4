"""Pipeline and bookings are linked in the demo (issue 12 item 6).

Every check is an independent DuckDB query over the generated parquet files (the truth file is
used only for the planned share and the count it claims). The forecast agreement runs both
forecasts of the analytics on the default-scale demo: it lives in
tests/reports/test_forecast_demo.py, beside the forecasting store that module builds once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from salesops_lib.data.snapshot import sha256_file
from tests.demo_fixtures import AS_OF, connect, generate, manifest, one, read_truth


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A small demo (50k lines), two weekly snapshots."""
    return generate(tmp_path_factory.mktemp("linked-small"), "small", weeks=2)


@pytest.fixture(scope="module")
def con(small: list[Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(small[-1])
    yield connection
    connection.close()


def test_every_linked_line_books_a_won_deal_of_its_account_to_the_cent(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert one(con, "SELECT count(*) FROM order_lines WHERE opportunity_id IS NOT NULL") > 500
    wrong = one(
        con,
        """SELECT count(*) FROM order_lines l LEFT JOIN opportunities o USING (opportunity_id)
           WHERE l.opportunity_id IS NOT NULL
             AND (o.opportunity_id IS NULL OR o.stage <> 'Closed Won'
                  OR o.account_id <> l.account_id OR o.owner_rep_id <> l.rep_id
                  OR o.product_id <> l.product_id OR o.close_date <> l.order_date)""",
    )
    assert wrong == 0
    off_by_cents = one(
        con,
        """SELECT count(*) FROM (
             SELECT opportunity_id, sum(CAST(amount AS DECIMAL(18, 2))) AS booked,
                    count(DISTINCT order_id) AS orders
             FROM order_lines WHERE opportunity_id IS NOT NULL GROUP BY 1) l
           JOIN opportunities o USING (opportunity_id)
           WHERE l.booked <> CAST(o.amount AS DECIMAL(18, 2)) OR l.orders <> 1""",
    )
    assert off_by_cents == 0
    # an order is all one deal's or all run-rate
    mixed = one(
        con,
        """SELECT count(*) FROM (SELECT order_id FROM order_lines GROUP BY 1
           HAVING count(DISTINCT coalesce(opportunity_id, '-')) > 1
               OR (count(opportunity_id) > 0 AND count(opportunity_id) < count(*)))""",
    )
    assert mixed == 0


def test_every_won_deal_up_to_as_of_has_exactly_one_order(
    small: list[Path], con: duckdb.DuckDBPyConnection
) -> None:
    won = one(con, "SELECT count(*) FROM opportunities WHERE stage = 'Closed Won'")
    missing = one(
        con,
        """SELECT count(*) FROM opportunities o WHERE o.stage = 'Closed Won' AND NOT EXISTS (
             SELECT 1 FROM order_lines l WHERE l.opportunity_id = o.opportunity_id)""",
    )
    doubled = one(
        con,
        """SELECT count(*) FROM (SELECT opportunity_id FROM order_lines
           WHERE opportunity_id IS NOT NULL GROUP BY 1 HAVING count(DISTINCT order_id) > 1)""",
    )
    assert won > 300 and missing == 0 and doubled == 0
    truth = read_truth(small[-1])["linked_pipeline"]
    assert truth["won_deals_booked"] == won
    booked = one(
        con,
        "SELECT sum(CAST(amount AS DECIMAL(18, 2))) FROM order_lines WHERE opportunity_id <> ''",
    )
    assert float(booked) == pytest.approx(truth["won_amount_booked"], abs=0.005)
    # the earlier snapshot books the deals won by its own date, no more
    earlier = connect(small[0])
    assert one(earlier, "SELECT count(DISTINCT opportunity_id) FROM order_lines") == one(
        earlier, "SELECT count(*) FROM opportunities WHERE stage = 'Closed Won'"
    )


def test_run_rate_lines_have_no_opportunity_and_linked_lines_are_priced_as_the_catalogue(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert one(con, "SELECT count(*) FROM order_lines WHERE opportunity_id IS NULL") > 40_000
    assert one(con, "SELECT count(*) FROM order_lines WHERE opportunity_id = ''") == 0
    # run-rate orders keep their monthly numbering; a won deal's order is named after the deal
    misnamed = one(
        con,
        """SELECT count(*) FROM order_lines
           WHERE (opportunity_id IS NULL) = starts_with(order_id, 'SO-W-')
              OR (opportunity_id IS NOT NULL AND order_id <> 'SO-W-' || opportunity_id[5:])""",
    )
    assert misnamed == 0
    # linked lines: list price in force now (after any increase), whole-percent discounts
    stale = one(
        con,
        """SELECT count(*) FROM order_lines l JOIN products p USING (product_id)
           WHERE l.opportunity_id IS NOT NULL AND l.order_date >= ?
             AND l.unit_price <> p.list_price""",
        [AS_OF.replace(month=1, day=1)],
    )
    assert stale == 0


def test_won_deals_are_a_steady_share_of_bookings(small: list[Path]) -> None:
    planned = read_truth(small[-1])["linked_pipeline"]["won_deals_share_of_bookings"]
    shares = [
        row[0]
        for row in connect(small[-1])
        .execute(
            """SELECT sum(amount) FILTER (WHERE opportunity_id IS NOT NULL) / sum(amount)
               FROM order_lines WHERE datediff('day', order_date, ?::DATE) < 5 * 182
               GROUP BY floor(datediff('day', order_date, ?::DATE) / 182) ORDER BY 1""",
            [AS_OF, AS_OF],
        )
        .fetchall()
    ]
    assert len(shares) == 5  # the last five half-years (182 days each)
    assert all(abs(share - planned) < 0.06 for share in shares), shares


def test_same_seed_same_bytes(small: list[Path], tmp_path: Path) -> None:
    again = generate(tmp_path, "small", weeks=2)
    for a, b in zip(small, again, strict=True):
        assert (a / "_manifest.json").read_bytes() == (b / "_manifest.json").read_bytes()
        for name in manifest(a)["files"]:
            assert sha256_file(a / name) == sha256_file(b / name)
