"""`salesops run -n 40-compensation` for one region and the company on the tiny demo (real
kernels): the report publishes, its headlines reach the run record, and the regional run
publishes one statement per rep of the region (and only of the region) beside the HTML."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import ROOT, Workspace

REGION = "nordics"
TOPIC = "40-compensation"


@pytest.fixture(scope="module")
def published(tiny_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The tiny demo's snapshots, reports into a folder of this module's own."""
    folder = tmp_path_factory.mktemp("comp-run")
    config = yaml.safe_load(tiny_workspace.config.read_text())
    config["paths"]["reports"] = str(folder / "reports")
    path = folder / "workbench.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    workspace = Workspace(path, tiny_workspace.snapshots, folder / "reports")
    result = subprocess.run(
        [sys.executable, "-m", "salesops_lib.cli", "run", "-n", TOPIC, "-r", REGION, "-r", "all"],
        cwd=ROOT,
        env=os.environ | workspace.env(),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workspace


def _as_of_dir(workspace: Workspace) -> Path:
    return sorted(p for p in workspace.reports.iterdir() if p.name[:2] == "20")[-1]


def test_region_and_company_reports_publish_with_headlines(published: Workspace) -> None:
    as_of_dir = _as_of_dir(published)
    for region in (REGION, "all"):
        assert (as_of_dir / region / f"{TOPIC}.html").is_file(), region
        record = json.loads((as_of_dir / region / f"{TOPIC}.run.json").read_text())
        assert record["status"] == "ok"
        assert "comp_payout" in record["headlines"]
    assert not list(as_of_dir.glob(".tmp*")), "no staging folder is left behind"


def test_the_regional_run_publishes_one_statement_per_rep_of_the_region(
    published: Workspace,
) -> None:
    as_of_dir = _as_of_dir(published)
    snapshot = published.snapshots / as_of_dir.name
    reps = duckdb.sql(
        "SELECT rep_id FROM read_parquet($path) WHERE region_id = $region AND role = 'rep'",
        params={"path": str(snapshot / "reps.parquet"), "region": REGION},
    ).fetchall()
    folder = as_of_dir / REGION / "statements"
    written = sorted(p.stem for p in folder.iterdir())
    assert written and set(written) <= {r[0] for r in reps}, "the region's reps only"
    page = (folder / f"{written[0]}.html").read_text()
    assert written[0] in page and "<script" not in page
    assert not (as_of_dir / "all" / "statements").exists()
    html = (as_of_dir / REGION / f"{TOPIC}.html").read_text()
    assert f"statements/{written[0]}.html" in html
