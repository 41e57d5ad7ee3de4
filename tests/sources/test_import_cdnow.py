"""Acceptance: CDNOW as an order book; counts match SOURCES.md and the raw file."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from salesops_lib.sources.importer import import_snapshot
from tests.conftest import ROOT, SAMPLES

CDNOW = SAMPLES / "cdnow"


def test_cdnow_order_book_matches_sources(tmp_path: Path) -> None:
    with (CDNOW / "CDNOW_master.csv").open(encoding="utf-8", newline="") as handle:
        raw = list(csv.DictReader(handle))
    summary = import_snapshot(
        ROOT / "config" / "mappings" / "cdnow.yml", [CDNOW], None, tmp_path, force=False
    )
    folder = summary.snapshot_dir
    lines = pq.read_table(folder / "order_lines.parquet")
    accounts = pq.read_table(folder / "accounts.parquet")
    assert lines.num_rows == len(raw) == 69659  # SOURCES.md
    assert accounts.num_rows == len({r["customer_id"] for r in raw}) == 23570  # SOURCES.md
    total = round(sum(float(r["dollar_value"]) for r in raw), 2)
    assert round(pc.sum(lines["amount"]).as_py(), 2) == total
    assert pc.sum(lines["quantity"]).as_py() == sum(int(r["number_of_cds"]) for r in raw)
    assert summary.quarantined_rows == 0
    assert pq.read_table(folder / "opportunities.parquet").num_rows == 0
    assert summary.as_of.isoformat() == "1998-06-30"
