"""Real-data corpus: the CDNOW order book imported, validated and run through every report.

``salesops import config/mappings/cdnow.yml data/samples/cdnow``, ``salesops validate`` and one
``salesops run --all`` (every report notebook for the ``cdnow`` region and the company view), then
each headline figure the run records carry about bookings and customers is compared with a plain
DuckDB query over ``CDNOW_master.csv`` read as DECIMAL, to the cent.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.conftest import ROOT, SAMPLES
from tests.sources.corpus_e2e import (
    COMPANY,
    CorpusRun,
    assert_cents,
    assert_every_report_published,
    import_validate_run,
    source_sql,
)

CDNOW_FILE = SAMPLES / "cdnow" / "CDNOW_master.csv"
MAPPING = ROOT / "config" / "mappings" / "cdnow.yml"
REGION = "cdnow"
SOURCE = (
    f"read_csv('{CDNOW_FILE}', header = true, "
    "columns = {'customer_id': 'VARCHAR', 'date': 'DATE', 'number_of_cds': 'BIGINT', "
    "'dollar_value': 'DECIMAL(18, 4)'})"
)


def _source_figures() -> dict[str, object]:
    """The figures straight from the CSV file (the as-of date is its last order date)."""
    ((as_of,),) = source_sql(f"select max(date) from {SOURCE}")
    year_ago = as_of.replace(year=as_of.year - 1)
    quarter_start = dt.date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    ((lines, customers, total, last_12m, quarter),) = source_sql(
        f"""
        select count(*), count(distinct customer_id), sum(dollar_value),
               sum(dollar_value) filter (where date > date '{year_ago}'),
               sum(dollar_value) filter (where date >= date '{quarter_start}')
        from {SOURCE}
        """
    )
    return {
        "as_of": as_of,
        "lines": lines,
        "customers": customers,
        "total": total,
        "last_12m": last_12m,
        "quarter": quarter,
    }


def _assert_headlines(run: CorpusRun, source: dict[str, object]) -> None:
    overview = run.headlines("00-overview")
    forecast = run.headlines("20-forecast")
    call = run.headlines("15-forecast-call")
    segments = run.headlines("30-segmentation")
    quality = run.headlines("00-data-quality")
    for scope in (REGION, COMPANY):  # one region: the company equals it
        # The as-of date (1998-06-30) is a month's last day: June is complete, so the last 12
        # complete months are July 1997 - June 1998 (issue 12 item 7).
        assert_cents(overview[scope]["bookings_12m"], source["last_12m"], f"{scope} bookings_12m")
        # Its base (July 1996 - June 1997) holds only the file's first six months: no growth
        # figure, and the sentence names the data start instead (issue 12 item 9).
        assert overview[scope]["bookings_growth"] is None
        assert "the data start in Jan 1997: no full prior 12 months" in run.html(
            scope, "00-overview"
        )
        assert_cents(forecast[scope]["quarter_booked"], source["quarter"], f"{scope} booked")
        # The quarter ends on the as-of date: nothing is left to forecast, so the forecast is
        # what is booked, and the forecast call states the same figure (issue 12 item 7).
        assert forecast[scope]["quarter_forecast"] == forecast[scope]["quarter_booked"]
        assert call[scope]["statistical_forecast"] == forecast[scope]["quarter_forecast"]
        assert segments[scope]["customers"] == source["customers"] == 23570  # SOURCES.md
        assert quality[scope]["quarantined_rows"] == 0
        assert "Nothing left out" in run.html(scope, "00-overview")


def test_cdnow_imports_validates_and_every_report_matches_the_source(tmp_path: Path) -> None:
    source = _source_figures()
    run = import_validate_run(
        tmp_path,
        MAPPING,
        [CDNOW_FILE.parent],
        {"regions": [{"id": REGION, "name": "CDNOW customers"}]},
    )
    assert run.as_of == source["as_of"].isoformat() == "1998-06-30"
    assert " 0 failed" in run.validate_output
    assert_every_report_published(run, [REGION])
    _assert_headlines(run, source)

    # The mart every report reads holds every source line, order and customer, to the cent.
    ((lines, orders, customers, amount),) = run.sql(
        "select count(*), count(distinct order_id), count(distinct account_id), sum(amount) "
        "from fct_bookings"
    )
    assert int(lines) == int(orders) == source["lines"] == 69659  # one order per CDNOW line
    assert int(customers) == source["customers"]
    assert_cents(float(amount), source["total"], "fct_bookings amount")
    print(f"\nCDNOW corpus wall time by step (s): {run.seconds}")
