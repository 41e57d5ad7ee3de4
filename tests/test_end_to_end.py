"""`make demo` and `make run` at tiny scale, from no data to published reports.

The reports are checked against independent SQL over the raw parquet files, and for region
isolation: the latest snapshot carries the region canary of ``tests/region_canary.py`` (one
default job serves both, as the job is the suite's longest step).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import subprocess
from dataclasses import dataclass

import duckdb
import pytest

from salesops_lib.core.config import load_settings
from salesops_lib.data.snapshot import list_snapshots, open_snapshot
from salesops_lib.reports.narrative import format_money
from tests.conftest import ROOT, Workspace, make_workspace
from tests.region_canary import (
    CANARY_NAME,
    CANARY_QUARTER_TARGET_SHOWN,
    CANARY_REGION,
    COMPANY,
    canary_findings,
    plant_canary,
    region_artifacts,
    searchable_text,
)

pytestmark = pytest.mark.e2e

# Independent answers, written against the raw parquet files (not the warehouse views).
BOOKINGS_LAST_12_COMPLETE_MONTHS = """
select coalesce(sum(o.amount), 0)
from read_parquet($lines) o
where ($region = 'all' or o.region_id = $region)  -- a line counts in the region it was booked in
  and o.order_date >= date_trunc('month', $as_of::date + interval 1 day) - interval 12 month
  and o.order_date < date_trunc('month', $as_of::date + interval 1 day)
"""
"""A month is complete once its last day is in the data: an as-of date on a month's last day (the
canary snapshot's Nov 30) completes that month."""
OPEN_PIPELINE = """
select coalesce(sum(p.amount), 0)
from read_parquet($opps) p join read_parquet($reps) r on r.rep_id = p.owner_rep_id
where ($region = 'all' or r.region_id = $region)
  and p.stage not in ('Closed Won', 'Closed Lost')
"""


@dataclass(frozen=True)
class Published:
    """The workspace after the default job, and what the test did to get there."""

    workspace: Workspace
    demo_dates: list[dt.date]
    canary_as_of: str
    run_output: str


def _make(workspace: Workspace, target: str) -> subprocess.CompletedProcess[str]:
    """Run ``make -s <target> SCALE=tiny`` on ``workspace``; fail the test with its output."""
    result = subprocess.run(
        ["make", "-s", target, "SCALE=tiny"],
        cwd=ROOT,
        env=os.environ | workspace.env(),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """One default job serves the end-to-end and the canary tests.

    ``make demo`` creates the demo data on an empty workspace; the canary snapshot is planted
    a week after the latest (:func:`tests.region_canary.plant_canary`); ``make run`` then
    validates that latest snapshot and runs every report for every region and the company.
    """
    workspace = make_workspace(tmp_path_factory.mktemp("e2e"), scale="tiny", weeks=2)
    _make(workspace, "demo")
    demo_dates = list_snapshots(workspace.snapshots)
    canary_as_of = plant_canary(workspace)
    run = _make(workspace, "run")
    return Published(workspace, demo_dates, canary_as_of.isoformat(), run.stdout)


def _scalar(query: str, **params: object) -> float:
    return float(duckdb.sql(query, params=params).fetchone()[0])  # type: ignore[index]


def test_make_demo_creates_weekly_snapshots_and_make_run_validates_the_latest(
    published: Published,
) -> None:
    dates = published.demo_dates
    assert len(dates) == 2
    assert (dates[1] - dates[0]).days == 7
    latest = list_snapshots(published.workspace.snapshots)[-1].isoformat()
    assert latest == published.canary_as_of
    assert f"snapshot {latest}:" in published.run_output
    assert re.search(r"\b[1-9]\d* passed, 0 failed", published.run_output), published.run_output


def test_every_region_and_the_company_are_published(published: Published) -> None:
    workspace = published.workspace
    cfg = load_settings(workspace.config)
    as_of = list_snapshots(workspace.snapshots)[-1].isoformat()
    for region in [*cfg.region_ids(), "all"]:
        folder = workspace.reports / as_of / region
        assert (folder / "00-overview.html").is_file(), region
        assert (folder / "00-overview.ipynb").is_file(), region
    assert not (workspace.reports / as_of / "_failed").exists()
    assert not list((workspace.reports / as_of).glob(".tmp*"))


def test_index_links_resolve(published: Published) -> None:
    workspace = published.workspace
    as_of = list_snapshots(workspace.snapshots)[-1].isoformat()
    index = workspace.reports / as_of / "index.html"
    links = re.findall(r'href="([^"]+)"', index.read_text())
    report_links = [link for link in links if link.endswith(".html")]
    assert len(report_links) >= 9
    for link in report_links:
        assert not link.startswith(("/", "http")), link
        assert (index.parent / html.unescape(link)).resolve().is_file(), link
    root_index = (workspace.reports / "index.html").read_text()
    assert f"{as_of}/index.html" in root_index


@pytest.mark.parametrize("region", ["na-east", "dach", "all"])
def test_report_shows_the_regions_own_numbers(published: Published, region: str) -> None:
    workspace = published.workspace
    snapshot = open_snapshot(workspace.snapshots)
    paths = {
        "lines": str(snapshot.table_path("order_lines")),
        "reps": str(snapshot.table_path("reps")),
        "opps": str(snapshot.table_path("opportunities")),
    }
    bookings = _scalar(
        BOOKINGS_LAST_12_COMPLETE_MONTHS,
        lines=paths["lines"],
        region=region,
        as_of=snapshot.as_of,
    )
    pipeline = _scalar(OPEN_PIPELINE, opps=paths["opps"], reps=paths["reps"], region=region)
    assert bookings > 0 and pipeline > 0

    folder = workspace.reports / snapshot.snapshot_id / region
    record = json.loads((folder / "00-overview.run.json").read_text())
    assert record["status"] == "ok"
    assert record["headlines"]["bookings_12m"] == pytest.approx(bookings, abs=0.01)
    assert record["headlines"]["open_pipeline"] == pytest.approx(pipeline, abs=0.01)

    text = html.unescape(re.sub(r"<[^>]+>", " ", (folder / "00-overview.html").read_text()))
    name = load_settings(workspace.config).region_name(region)
    assert name in text
    assert format_money(bookings) in text
    assert format_money(pipeline) in text
    assert snapshot.checksum in text


def test_reports_hold_no_code_and_no_script(published: Published) -> None:
    workspace = published.workspace
    as_of = list_snapshots(workspace.snapshots)[-1].isoformat()
    for page in (workspace.reports / as_of).glob("*/00-overview.html"):
        content = page.read_text()
        assert "<script" not in content.lower()
        assert "open_report_warehouse" not in content  # no input cells
        assert "injected-parameters" not in content
        assert "http://" not in content and "https://" not in content


def test_canary_reaches_no_other_region(published: Published) -> None:
    workspace, as_of = published.workspace, published.canary_as_of
    others = [
        region
        for region in load_settings(workspace.config).region_ids()
        if region not in (CANARY_REGION, COMPANY)
    ]
    assert len(others) >= 7
    leaks: list[str] = []
    searched = 0
    for region in others:
        files = region_artifacts(workspace, as_of, region)
        assert any(p.suffix == ".html" for p in files), f"{region}: nothing published"
        assert any(p.parent.name == "_runs" for p in files), f"{region}: no run manifest"
        searched += len(files)
        for path in files:
            leaks.extend(
                f"{path.relative_to(workspace.reports)}: {found}" for found in canary_findings(path)
            )
    assert searched > 0
    assert not leaks, f"the {CANARY_REGION} canary leaked into other regions:\n" + "\n".join(leaks)


@pytest.mark.parametrize("region", [CANARY_REGION, COMPANY])
def test_canary_name_is_visible_in_its_region_and_the_company(
    published: Published, region: str
) -> None:
    files = region_artifacts(published.workspace, published.canary_as_of, region)
    showing = [p.name for p in files if CANARY_NAME in searchable_text(p)]
    assert showing, f"{CANARY_NAME!r} appears in none of the {len(files)} {region} artifacts"


def test_canary_target_is_visible_in_its_region(published: Published) -> None:
    files = region_artifacts(published.workspace, published.canary_as_of, CANARY_REGION)
    showing = [p.name for p in files if CANARY_QUARTER_TARGET_SHOWN in searchable_text(p)]
    assert showing, (
        f"{CANARY_QUARTER_TARGET_SHOWN} appears in none of the {CANARY_REGION} artifacts"
    )
