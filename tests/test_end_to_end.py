"""`make run` at tiny scale, from no data to published reports, checked against independent SQL."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess

import duckdb
import pytest

from salesops_lib.core.config import load_settings
from salesops_lib.data.snapshot import list_snapshots, open_snapshot
from salesops_lib.reports.narrative import format_money
from tests.conftest import ROOT, Workspace, make_workspace

pytestmark = pytest.mark.e2e

# Independent answers, written against the raw parquet files (not the warehouse views).
BOOKINGS_LAST_12_COMPLETE_MONTHS = """
select coalesce(sum(o.amount), 0)
from read_parquet($lines) o join read_parquet($reps) r on r.rep_id = o.rep_id
where ($region = 'all' or r.region_id = $region)
  and o.order_date >= date_trunc('month', $as_of::date) - interval 12 month
  and o.order_date < date_trunc('month', $as_of::date)
"""
OPEN_PIPELINE = """
select coalesce(sum(p.amount), 0)
from read_parquet($opps) p join read_parquet($reps) r on r.rep_id = p.owner_rep_id
where ($region = 'all' or r.region_id = $region)
  and p.stage not in ('Closed Won', 'Closed Lost')
"""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Run `make run` once on an empty workspace (it must create the demo data itself)."""
    workspace = make_workspace(tmp_path_factory.mktemp("e2e"), scale="tiny", weeks=2)
    result = subprocess.run(
        ["make", "-s", "run", "SCALE=tiny"],
        cwd=ROOT,
        env=os.environ | workspace.env(),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workspace


def _scalar(query: str, **params: object) -> float:
    return float(duckdb.sql(query, params=params).fetchone()[0])  # type: ignore[index]


def test_make_run_creates_validated_snapshots(published: Workspace) -> None:
    dates = list_snapshots(published.snapshots)
    assert len(dates) == 2
    assert (dates[1] - dates[0]).days == 7


def test_every_region_and_the_company_are_published(published: Workspace) -> None:
    cfg = load_settings(published.config)
    as_of = list_snapshots(published.snapshots)[-1].isoformat()
    for region in [*cfg.region_ids(), "all"]:
        folder = published.reports / as_of / region
        assert (folder / "00-overview.html").is_file(), region
        assert (folder / "00-overview.ipynb").is_file(), region
    assert not (published.reports / as_of / "_failed").exists()
    assert not list((published.reports / as_of).glob(".tmp*"))


def test_index_links_resolve(published: Workspace) -> None:
    as_of = list_snapshots(published.snapshots)[-1].isoformat()
    index = published.reports / as_of / "index.html"
    links = re.findall(r'href="([^"]+)"', index.read_text())
    report_links = [link for link in links if link.endswith(".html")]
    assert len(report_links) >= 9
    for link in report_links:
        assert not link.startswith(("/", "http")), link
        assert (index.parent / html.unescape(link)).resolve().is_file(), link
    root_index = (published.reports / "index.html").read_text()
    assert f"{as_of}/index.html" in root_index


@pytest.mark.parametrize("region", ["na-east", "dach", "all"])
def test_report_shows_the_regions_own_numbers(published: Workspace, region: str) -> None:
    snapshot = open_snapshot(published.snapshots)
    paths = {
        "lines": str(snapshot.table_path("order_lines")),
        "reps": str(snapshot.table_path("reps")),
        "opps": str(snapshot.table_path("opportunities")),
    }
    bookings = _scalar(
        BOOKINGS_LAST_12_COMPLETE_MONTHS,
        lines=paths["lines"],
        reps=paths["reps"],
        region=region,
        as_of=snapshot.as_of,
    )
    pipeline = _scalar(OPEN_PIPELINE, opps=paths["opps"], reps=paths["reps"], region=region)
    assert bookings > 0 and pipeline > 0

    folder = published.reports / snapshot.snapshot_id / region
    record = json.loads((folder / "00-overview.run.json").read_text())
    assert record["status"] == "ok"
    assert record["headlines"]["bookings_12m"] == pytest.approx(bookings, abs=0.01)
    assert record["headlines"]["open_pipeline"] == pytest.approx(pipeline, abs=0.01)

    text = html.unescape(re.sub(r"<[^>]+>", " ", (folder / "00-overview.html").read_text()))
    name = load_settings(published.config).region_name(region)
    assert name in text
    assert format_money(bookings) in text
    assert format_money(pipeline) in text
    assert snapshot.checksum in text


def test_reports_hold_no_code_and_no_script(published: Workspace) -> None:
    as_of = list_snapshots(published.snapshots)[-1].isoformat()
    for page in (published.reports / as_of).glob("*/00-overview.html"):
        content = page.read_text()
        assert "<script" not in content.lower()
        assert "open_report_warehouse" not in content  # no input cells
        assert "injected-parameters" not in content
        assert "http://" not in content and "https://" not in content
