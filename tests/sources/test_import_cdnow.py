"""Acceptance: CDNOW as an order book; counts match SOURCES.md and the raw file."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

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


def test_segmentation_report_runs_on_the_cdnow_order_book(tmp_path: Path) -> None:
    """The imported order book feeds the segmentation report end to end (runner, HTML)."""
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text())
    config["regions"] = [{"id": "cdnow", "name": "CDNOW customers"}]
    config["paths"] = {"snapshots": str(tmp_path / "snaps"), "reports": str(tmp_path / "reports")}
    (tmp_path / "workbench.yml").write_text(yaml.safe_dump(config))
    env = os.environ | {"SALESOPS_CONFIG": str(tmp_path / "workbench.yml")}
    cli = [sys.executable, "-m", "salesops_lib.cli"]
    mapping = str(ROOT / "config" / "mappings" / "cdnow.yml")
    imported = subprocess.run(
        [*cli, "import", mapping, str(CDNOW)], env=env, capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    run = subprocess.run(
        [*cli, "run", "--region", "cdnow", "--notebook", "30-segmentation", "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    folder = tmp_path / "reports" / "1998-06-30" / "cdnow"
    record = json.loads((folder / "30-segmentation.run.json").read_text())
    assert record["status"] == "ok"
    assert record["headlines"]["customers"] == 23570  # every CDNOW customer is segmented
    assert "CDNOW customers" in (folder / "30-segmentation.html").read_text()
