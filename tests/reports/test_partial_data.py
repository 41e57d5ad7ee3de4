"""Every report runs on a snapshot with empty tables and says what data would enable a section.

Snapshots are the tiny demo's latest one with some tables replaced by empty tables (same
schema) and its extra files kept (the compensation plans, so the payouts meet the missing
tables), written with SnapshotWriter, and the calls submitted for that week (so the forecast
call meets them too). The default job (every report notebook) then runs for the company view
with ``salesops run``, as the schedule would, and each published notebook is read back.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import SnapshotWriter, open_snapshot
from salesops_lib.data.submissions import submissions_dir_for
from tests.conftest import ROOT, Workspace, make_workspace

NOTEBOOKS = [
    "00-overview",
    "00-data-quality",
    "10-performance",
    "15-forecast-call",
    "20-forecast",
    "30-segmentation",
    "40-compensation",
    "50-planning",
]
VARIANTS = {
    "no-quotas-history-products": (
        "quotas",
        "opportunity_stage_history",
        "products",
        "order_lines",
    ),
    "no-opportunities": ("opportunities", "opportunity_stage_history"),
}
NAMES_MISSING_DATA = {
    # (variant, notebook) pairs where a section needs an emptied table. Data quality needs
    # only opportunities; segmentation needs only order lines; the forecast needs order lines
    # (statistical) and opportunities (pipeline): otherwise they must just run. The forecast
    # call scores calls and paces against bookings (order lines) and reads deals for the flow
    # matrix and pacing (opportunities); compensation pays on bookings against quotas.
    ("no-quotas-history-products", "00-overview"),
    ("no-quotas-history-products", "50-planning"),
    ("no-quotas-history-products", "10-performance"),
    ("no-quotas-history-products", "30-segmentation"),
    ("no-opportunities", "00-overview"),
    ("no-opportunities", "00-data-quality"),
    ("no-opportunities", "10-performance"),
    ("no-quotas-history-products", "20-forecast"),
    ("no-opportunities", "20-forecast"),
    ("no-quotas-history-products", "15-forecast-call"),
    ("no-opportunities", "15-forecast-call"),
    ("no-quotas-history-products", "40-compensation"),
}
MISSING_NOTE = '<p class="missing">'


def _partial_workspace(source: Workspace, folder: Path, emptied: tuple[str, ...]) -> Workspace:
    workspace = make_workspace(folder)
    snapshot = open_snapshot(source.snapshots)
    with SnapshotWriter(workspace.snapshots, snapshot.as_of, "partial-data test") as writer:
        for name in TABLES:
            table = pq.read_table(snapshot.table_path(name))
            writer.write_table(name, table.schema.empty_table() if name in emptied else table)
        for extra in sorted(snapshot.manifest["files"]):
            if not extra.endswith(".parquet"):
                writer.write_extra(extra, snapshot.extra_path(extra).read_bytes())
    week = submissions_dir_for(source.snapshots) / snapshot.snapshot_id
    if week.is_dir():  # this week's calls only: earlier weeks have no snapshot here
        shutil.copytree(week, submissions_dir_for(workspace.snapshots) / snapshot.snapshot_id)
    return workspace


@pytest.fixture(scope="module", params=list(VARIANTS))
def partial(
    request: pytest.FixtureRequest,
    tiny_workspace: Workspace,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, Workspace, str]:
    """A variant's workspace after ``salesops run --region all``, and the run's output."""
    folder = tmp_path_factory.mktemp(request.param)
    workspace = _partial_workspace(tiny_workspace, folder, VARIANTS[request.param])
    done = subprocess.run(
        [sys.executable, "-m", "salesops_lib.cli", "run", "--region", "all", "--workers", "2"],
        cwd=ROOT,
        env=os.environ
        | workspace.env()
        | {"SALESOPS_KERNEL": os.environ.get("SALESOPS_KERNEL", "python3")},
        capture_output=True,
        text=True,
        timeout=900,
    )  # each notebook's own test reports its failure
    return request.param, workspace, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_report_runs_and_names_missing_data(
    partial: tuple[str, Workspace, str], notebook: str
) -> None:
    variant, workspace, output = partial
    as_of = open_snapshot(workspace.snapshots).snapshot_id
    published = workspace.reports / as_of / "all" / f"{notebook}.ipynb"
    assert published.is_file(), f"{notebook} was not published:\n{output}"
    html = [
        "".join(out.get("data", {}).get("text/html", ""))
        for cell in json.loads(published.read_text(encoding="utf-8"))["cells"]
        for out in cell.get("outputs", [])
    ]
    noted = any(MISSING_NOTE in text for text in html)
    assert noted == ((variant, notebook) in NAMES_MISSING_DATA), notebook
