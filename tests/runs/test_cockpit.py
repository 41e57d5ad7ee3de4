"""The cockpit's figures, 'what changed' ranking and page, on hand-made inputs and a tiny demo.

Weekly figures are checked against plain SQL over the raw parquet files (not the marts the
cockpit reads); the ranking and week-over-week changes against numbers worked out by hand.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest

from salesops_lib.data.snapshot import list_snapshots
from salesops_lib.runs.cockpit import date_index_html, root_index_html, sparkline_svg
from salesops_lib.runs.cockpit_changes import change_items
from salesops_lib.runs.cockpit_figures import (
    CACHE_DIR,
    FIGURE_COLUMNS,
    snapshot_mart_figures,
    week_over_week,
    weekly_figures,
)
from salesops_lib.runs.cockpit_records import section_anchor
from tests.conftest import Workspace
from tests.demo_fixtures import connect
from tests.runs.cockpit_fixtures import HOSTILE_NAME, publish_reports

INDEPENDENT_SQL = """
with meta as (
    select cast(? as date) as as_of,
        cast(date_trunc('quarter', cast(? as date)) as date) as q_start,
        cast(date_trunc('quarter', cast(? as date)) + interval 3 month - interval 1 day as date)
            as q_end
),
rep_region as (select trim(rep_id) as rep_id, trim(region_id) as region_id from reps),
b as (
    select r.region_id, sum(cast(o.amount as double)) as bookings
    from order_lines o left join rep_region r on trim(o.rep_id) = r.rep_id, meta
    where cast(o.order_date as date) between meta.q_start and meta.as_of
    group by all
),
q as (
    select r.region_id, sum(cast(q.quota_amount as double)) as quota
    from quotas q join rep_region r on trim(q.rep_id) = r.rep_id, meta
    where cast(q.month as date) between meta.q_start and meta.q_end group by all
),
t as (
    select trim(region_id) as region_id, sum(cast(target_amount as double)) as target
    from region_targets, meta
    where cast(month as date) between meta.q_start and meta.q_end group by all
),
d as (
    select r.region_id,
        sum(cast(o.amount as double)) filter (where o.stage not in ('Closed Won', 'Closed Lost'))
            as open_pipeline,
        count(*) filter (where o.stage = 'Closed Won'
            and cast(o.close_date as date) > meta.as_of - 91
            and cast(o.close_date as date) <= meta.as_of) as won,
        count(*) filter (where o.stage in ('Closed Won', 'Closed Lost')
            and cast(o.close_date as date) > meta.as_of - 91
            and cast(o.close_date as date) <= meta.as_of) as closed
    from opportunities o left join rep_region r on trim(o.owner_rep_id) = r.rep_id, meta
    group by all
)
select coalesce(b.region_id, d.region_id) as region_id, b.bookings, q.quota, t.target,
    d.open_pipeline, d.won, d.closed
from b full join d on b.region_id is not distinct from d.region_id
left join q on q.region_id is not distinct from coalesce(b.region_id, d.region_id)
left join t on t.region_id is not distinct from coalesce(b.region_id, d.region_id)
"""


@pytest.fixture(scope="module")
def independent(tiny_workspace: Workspace) -> tuple[str, pd.DataFrame]:
    """The latest tiny snapshot's figures by plain SQL over its raw parquet files."""
    as_of = list_snapshots(tiny_workspace.snapshots)[-1]
    con = connect(tiny_workspace.snapshots / as_of.isoformat())
    frame = con.execute(INDEPENDENT_SQL, [as_of, as_of, as_of]).df()
    return as_of.isoformat(), frame


def test_snapshot_figures_match_plain_sql_over_the_raw_files(
    tiny_workspace: Workspace, independent: tuple[str, pd.DataFrame], tmp_path: Path
) -> None:
    as_of, expected = independent
    rows = {r["scope"]: r for r in snapshot_mart_figures(tiny_workspace.snapshots, as_of)}
    regional = expected[expected["region_id"].notna()].set_index("region_id")
    assert set(regional.index) <= set(rows) - {"all"}
    for region, row in regional.iterrows():
        got = rows[region]
        assert got["bookings_qtd"] == pytest.approx(row["bookings"] or 0, abs=0.01), region
        assert got["quota_quarter"] == pytest.approx(row["quota"] or 0, abs=0.01), region
        assert got["target_quarter"] == pytest.approx(row["target"] or 0, abs=0.01), region
        assert got["open_pipeline"] == pytest.approx(row["open_pipeline"] or 0, abs=0.01), region
        assert (got["won_91d"], got["closed_91d"]) == (row["won"], row["closed"]), region
    company = rows["all"]  # the company counts every row, also those of no known region
    assert company["bookings_qtd"] == pytest.approx(expected["bookings"].sum(), abs=0.05)
    assert company["open_pipeline"] == pytest.approx(expected["open_pipeline"].sum(), abs=0.05)
    assert company["closed_91d"] == expected["closed"].sum()
    assert company["target_quarter"] == pytest.approx(regional["target"].sum(), abs=0.05)

    # given a reports folder, the figures are kept in one cache file per snapshot
    cached = snapshot_mart_figures(tiny_workspace.snapshots, as_of, tmp_path)
    files = list((tmp_path / CACHE_DIR).glob(f"{as_of}-*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text()) == cached == list(rows.values())


def test_weekly_figures_derive_ratios_and_take_report_numbers_from_headlines(
    tiny_workspace: Workspace, independent: tuple[str, pd.DataFrame], tmp_path: Path
) -> None:
    as_of, expected = independent
    reports = tmp_path / "reports"
    (reports / as_of / "dach").mkdir(parents=True)
    record = {"headlines": {"customers_at_risk": 4, "quality_score": 0.5}}
    (reports / as_of / "dach" / "30-segmentation.run.json").write_text(json.dumps(record))
    frame, notes = weekly_figures(reports, as_of, tiny_workspace.snapshots, ["dach"])
    assert notes == []
    assert sorted(frame["week"].unique()) == [d.isoformat() for d in list_snapshots(
        tiny_workspace.snapshots)]  # fmt: skip
    dach = frame[(frame["scope"] == "dach") & (frame["week"] == as_of)].iloc[0]
    row = expected.set_index("region_id").loc["dach"]
    assert dach["attainment_quota"] == pytest.approx(row["bookings"] / row["quota"])
    assert dach["win_rate"] == pytest.approx(row["won"] / row["closed"])
    assert dach["customers_at_risk"] == 4  # from the segmentation report's headlines
    assert pd.isna(dach["quality_score"])  # that headline belongs to another report
    assert frame[frame["week"] != as_of]["customers_at_risk"].isna().all()  # no report: n/a


def test_week_over_week_change_is_this_week_minus_the_week_before() -> None:
    frame = pd.DataFrame(
        {
            "scope": ["all", "all", "all", "dach", "dach"],
            "week": ["2026-11-09", "2026-11-16", "2026-11-23", "2026-11-16", "2026-11-23"],
            "bookings_qtd": [1.0, 5.0, 12.0, 2.0, None],
        }
    ).reindex(columns=["scope", "week", *FIGURE_COLUMNS])
    latest = week_over_week(frame).set_index("scope")
    assert latest.loc["all", "bookings_qtd_change"] == 7.0
    assert latest.loc["all", "previous_week"] == "2026-11-16"
    assert pd.isna(latest.loc["dach", "bookings_qtd_change"])  # this week unknown: no change
    assert frame["bookings_qtd"].tolist()[:3] == [1.0, 5.0, 12.0]  # input unchanged


def test_changes_are_ranked_by_money_at_stake_and_link_to_their_section(tmp_path: Path) -> None:
    day = tmp_path / "2026-11-23"
    for region in ("all", "dach"):
        (day / region).mkdir(parents=True)
        (day / region / "30-segmentation.html").write_text(
            '<h1 id="Customer-segmentation">x</h1><h2 id="Action-lists">y</h2>'
        )
    current = {
        ("all", "30-segmentation"): {"customers_at_risk": 10, "revenue_at_stake": 100.0},
        ("dach", "30-segmentation"): {"customers_at_risk": 2, "revenue_at_stake": 900.0},
        ("dach", "20-forecast"): {"quarter_forecast": 1000.0, "quarter_gap_to_target": 0.0},
        ("dach", "10-performance"): {"pipeline_change": -300.0, "bottlenecks": 2},
        ("all", "00-data-quality"): {"problem_records": 12},
    }
    previous = {
        ("dach", "20-forecast"): {"quarter_forecast": 1500.0},
        ("all", "00-data-quality"): {"problem_records": 10},
    }
    items = change_items(day, current, previous, {"all": "All regions", "dach": "DACH"})
    ranked = [(i.region, i.money, i.count) for i in items]
    # by hand: at stake 900 (dach customers), 500 (forecast 1500 -> 1000), 300 (pipeline),
    # 100 (company customers); then counts: 2 more problem records ties with 2 bottlenecks,
    # the company first
    assert ranked == [
        ("dach", 900.0, 2), ("dach", 500.0, 500.0), ("dach", 300.0, 300.0),
        ("all", 100.0, 10), ("all", 0.0, 2.0), ("dach", 0.0, 2),
    ]  # fmt: skip
    assert items[1].text == "Quarter forecast -$500 since last week, to $1K"
    assert items[0].href == "dach/30-segmentation.html#Action-lists"
    assert items[1].href is None  # no such report page: no link


def test_section_anchor_prefers_the_named_section_then_the_first_one(tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    page.write_text('<h1 id="Title">t</h1><h2 id="Appendix:-method">a</h2><h2 id="Risks">r</h2>')
    assert section_anchor(page, ("Missing", "Risks")) == "Risks"
    assert section_anchor(page, ("Missing",)) == "Appendix:-method"
    assert section_anchor(tmp_path / "none.html", ("Risks",)) is None


def test_sparkline_draws_known_points_and_leaves_gaps() -> None:
    svg = sparkline_svg([0.0, 10.0, None, 5.0, 10.0], "x <y>", width=42)
    # width 42, height 16, pad 2: x step 9.5; y = 14 - v / 10 * 12
    assert '<polyline points="2.0,14.0 11.5,2.0"' in svg
    assert '<polyline points="30.5,8.0 40.0,2.0"' in svg
    assert '<circle cx="40.0" cy="2.0"' in svg
    assert 'aria-label="x &lt;y&gt;"' in svg and "<y>" not in svg
    empty = sparkline_svg([None, None], "nothing")
    assert 'width="120" height="30"' in empty and "polyline" not in empty


@pytest.fixture(scope="module")
def cockpit_reports(tiny_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture reports folder, indexed with the tiny workspace's snapshots."""
    reports = tmp_path_factory.mktemp("cockpit") / "reports"
    weeks = [d.isoformat() for d in list_snapshots(tiny_workspace.snapshots)]
    with pytest.MonkeyPatch.context() as patch:
        for key, value in tiny_workspace.env().items():
            patch.setenv(key, value)
        publish_reports(reports, weeks[-2:])
    return reports


def test_cockpit_page_escapes_links_and_is_deterministic(
    cockpit_reports: Path, tiny_workspace: Workspace
) -> None:
    as_of = sorted(p.name for p in cockpit_reports.iterdir() if p.name[0].isdigit())[-1]
    day = cockpit_reports / as_of
    page = (day / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page and html.escape(HOSTILE_NAME) in page
    assert "boom &lt;b&gt;bold&lt;/b&gt;" in page
    assert page == date_index_html(day, tiny_workspace.snapshots)  # same inputs, same bytes
    assert "What changed this week" in page and "80% range $8.0M to $9.9M" in page
    changes = page.split('id="what-changed"')[1].split('id="reports"')[0]
    first = re.findall(r"<li>(.*?)</li>", changes)
    assert "2,500,000" not in first[0] and "$2.5M" in first[0]  # the largest money first
    for link in re.findall(r'href="([^"]+)"', page):
        target, _, anchor = html.unescape(link).partition("#")
        if target:
            assert (day / unquote(target)).is_file(), link
        if anchor:
            ids = re.findall(r'id="([^"]+)"', (day / unquote(target)).read_text() if target
                             else page)  # fmt: skip
            assert unquote(anchor) in [html.unescape(i) for i in ids], link
    root = root_index_html(cockpit_reports)
    assert f'href="{as_of}/index.html">cockpit as of {as_of}' in root


def test_a_week_without_its_snapshot_shows_na_and_says_why(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    (reports / "2026-11-23").mkdir(parents=True)
    page = date_index_html(reports / "2026-11-23", tmp_path / "no-snapshots")
    assert "n/a" in page and "No figures yet" not in page
    assert "Sales cockpit as of 2026-11-23" in page
