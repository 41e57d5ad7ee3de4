"""Money to the cent (issue 12 item 4): imported totals equal a plain SQL sum over the source.

Eight sub-cent lines: rounding each line to cents first (half to even) gives 1,010.76; the source
sums to 1,010.78. The warehouse keeps the source's precision and rounds only the total.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

from salesops_lib.data.snapshot import open_snapshot
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.sources.importer import import_snapshot
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "import_corpus"
SOURCE = CORPUS / "sub_cent.csv"


def _source_total(by: str | None = None) -> dict[str, Decimal]:
    group = f"{by}," if by else "'all' as k,"
    sql = (
        f"select {group} round(sum(cast(Amount as decimal(18, 6))), 2) "
        f"from read_csv('{SOURCE}', all_varchar = true) group by 1"
    )
    return {str(k).lower(): Decimal(str(v)) for k, v in duckdb.sql(sql).fetchall()}


def test_imported_totals_equal_the_source_sum_to_the_cent(tmp_path: Path) -> None:
    import_snapshot(CORPUS / "orders.yml", [SOURCE], "2024-03-31", tmp_path / "s", force=False)
    with Warehouse(open_snapshot(tmp_path / "s", "2024-03-31")) as wh:
        total = wh.query("select round(sum(amount), 2) as t from fct_bookings")["t"].iloc[0]
        by_region = wh.query(
            "select region_id, round(sum(amount), 2) as t from fct_bookings group by 1"
        )
    assert _source_total() == {"all": Decimal("1010.78")}
    assert Decimal(str(total)) == Decimal("1010.78")
    regions = {
        r: Decimal(str(t)) for r, t in zip(by_region["region_id"], by_region["t"], strict=True)
    }
    assert regions == _source_total("Region")
