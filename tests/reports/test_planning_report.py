"""The planning report (issue 15): hand-made cases, the demo's planted signals, independent SQL.

Hand-made frames check the report's own rules (planning targets, quota per ramped rep,
parameter checks). One small demo (two weekly snapshots) is generated for the module: its
``_truth.json`` names the planted region under capacity, the region whose quota is set too
high and the unbalanced territory, and the report must find each. Report numbers are checked
against plain DuckDB SQL over the snapshot's raw parquet files.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from salesops_lib.core.errors import ParameterError
from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import SnapshotWriter, open_snapshot
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.reports import planning
from salesops_lib.reports.planning.compute import quota_per_ramped_rep
from tests.conftest import Workspace, make_workspace
from tests.demo_fixtures import AS_OF, REGIONS, generate

# --- hand-made cases ---------------------------------------------------------------------------


def test_planning_targets_use_plan_then_bookings_then_targets_compounding() -> None:
    months = pd.date_range("2025-01-01", "2026-10-01", freq="MS")
    bookings = pd.DataFrame(
        {"region_id": "r1", "month": months, "bookings_amount": [float(i + 1) for i in range(22)]}
    )  # 2025-01 = 1 ... 2025-12 = 12, 2026-01 = 13 ... 2026-10 = 22
    targets = pd.DataFrame(
        {
            "region_id": ["r1", "r1"],
            "month": [dt.date(2027, 1, 1), dt.date(2026, 11, 1)],
            "target_amount": [100.0, 50.0],
        }
    )
    out = planning.planning_targets(
        targets, bookings, as_of=dt.date(2026, 11, 15), year=2027, growth=0.1
    ).set_index("month")
    assert len(out) == 12
    assert out.loc["2027-01-01", "target_amount"] == 100.0  # Finance's target
    assert out.loc["2027-01-01", "basis"] == "target"
    assert out.loc["2027-02-01", "target_amount"] == pytest.approx(14 * 1.1)  # 2026-02 booked
    assert out.loc["2027-10-01", "target_amount"] == pytest.approx(22 * 1.1)
    assert out.loc["2027-11-01", "target_amount"] == pytest.approx(50 * 1.1)  # 2026-11 running
    # 2026-12: not complete and no target -> 2025-12 booked 12, grown twice
    assert out.loc["2027-12-01", "target_amount"] == pytest.approx(12 * 1.1**2)
    assert out.loc["2027-12-01", "basis"] == "bookings"
    assert out.loc["2027-12-01", "basis_month"] == pd.Timestamp("2025-12-01")


def test_quota_per_ramped_rep_is_the_mean_annualised_quota_of_ramped_reps() -> None:
    reps = pd.DataFrame(
        {
            "rep_id": ["a", "b", "c", "d"],
            "hire_date": pd.to_datetime(["2020-01-01", "2024-12-31", "2025-06-01", "2018-05-05"]),
        }
    )
    months = pd.date_range("2026-01-01", "2026-06-01", freq="MS")
    rows = (
        [("r1", "a", m, 10.0) for m in months]
        + [("r1", "b", m, 20.0) for m in months]
        + [("r1", "c", m, 99.0) for m in months]
        + [("r2", "d", m, 5.0) for m in months]
    )
    attainment = pd.DataFrame(rows, columns=["region_id", "rep_id", "month", "quota_amount"])
    out = quota_per_ramped_rep(attainment, reps, "2026Q1", "2026Q2")
    # window starts 2026-01: a (72 months) and b (13 months) are ramped, c (7 months) is not;
    # a: 60 over two quarters -> 120 a year, b: 240 -> mean 180; r2: d 30 -> 60
    assert out.to_dict() == {"r1": pytest.approx(180.0), "r2": pytest.approx(60.0)}


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("planning_year", 1999, "planning_year"),
        ("planning_year", 2026.5, "planning_year"),
        ("target_growth", -1.0, "target_growth"),
        ("target_growth", "lots", "target_growth"),
        ("over_assignment", 1.5, "over_assignment"),
        ("method", "magic", "prior_year, t12m, potential, even"),
        ("attrition", 1.0, "attrition"),
        ("attrition", -0.1, "attrition"),
        ("tolerance", 0.0, "tolerance"),
        ("tolerance", float("nan"), "tolerance"),
        ("key_accounts", 7, "key_accounts"),
    ],
)
def test_bad_parameters_are_refused_by_name(name: str, value: Any, words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        planning.check_parameters(AS_OF, **{name: value})


def test_default_parameters_plan_the_year_after_the_snapshot() -> None:
    checked = planning.check_parameters(AS_OF, key_accounts=" ACC-2, ACC-1,,ACC-2 ")
    assert checked.planning_year == AS_OF.year + 1
    assert checked.key_accounts == ("ACC-1", "ACC-2")


# --- the small demo ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("planning-demo") / "snapshots"
    generate(folder, "small", weeks=2)
    snapshot = folder / AS_OF.isoformat()
    truth = json.loads((snapshot / "_truth.json").read_text(encoding="utf-8"))["planning"]
    con = duckdb.connect()
    for name in TABLES:
        path = str(snapshot / f"{name}.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    reports = {}
    with Warehouse.open(AS_OF, snapshots_dir=folder) as warehouse:
        reports["all"] = planning.load_report(warehouse, "all")
        for key in ("under_capacity", "plan_too_high", "unbalanced_territory"):
            region = truth[key]["region_id"]
            reports[region] = planning.load_report(warehouse, region)
    yield {"folder": folder, "truth": truth, "con": con, "reports": reports}
    con.close()


def _ytd(report: planning.PlanningReport) -> pd.DataFrame:
    health = report.plan.health
    return health.loc[health["period"] == f"{AS_OF.year} YTD"].set_index("region_id")


def test_planted_regions_are_three_different_regions(demo: dict[str, Any]) -> None:
    truth = demo["truth"]
    regions = {truth[k]["region_id"] for k in ("under_capacity", "plan_too_high")}
    regions.add(truth["unbalanced_territory"]["region_id"])
    assert len(regions) == 3 and regions <= {r.id for r in REGIONS}
    assert truth["planning_year"] == AS_OF.year + 1


def test_region_under_capacity_is_the_furthest_short_of_its_target(demo: dict[str, Any]) -> None:
    planted = demo["truth"]["under_capacity"]["region_id"]
    frame = planning.capacity_frame(demo["reports"]["all"].plan).set_index("region_id")
    assert frame.loc[planted, "needs_hires"]
    assert frame.loc[planted, "hires_by_january"] > 0
    assert frame["coverage"].idxmin() == planted
    assert frame.loc[planted, "coverage"] < 0.7
    others = frame.drop(index=planted)["coverage"]
    assert frame.loc[planted, "coverage"] < others.min() - 0.05
    # the regional report shows the same numbers for its region
    regional = planning.capacity_frame(demo["reports"][planted].plan).set_index("region_id")
    assert regional.index.tolist() == [planted]
    for column in ("target_amount", "capacity", "gap", "hires_by_january"):
        assert regional.loc[planted, column] == pytest.approx(frame.loc[planted, column])
    summary = " ".join(planning.summary_sentences(demo["reports"]["all"]))
    assert f"{planted} is furthest short" in summary


def test_region_with_the_quota_set_too_high_is_flagged(demo: dict[str, Any]) -> None:
    planted = demo["truth"]["plan_too_high"]["region_id"]
    ytd = _ytd(demo["reports"]["all"]).drop(index="all")
    assert ytd.loc[planted, "band"] == "below"
    assert ytd.loc[planted, "share_at_or_above_100"] < 0.3  # well under 60%
    assert ytd["share_at_or_above_100"].idxmin() == planted
    assert ytd["median"].idxmin() == planted
    note = planning.health_note(demo["reports"]["all"]).markup
    assert f"lowest {planted}:" in note


def test_unbalanced_territory_is_found_and_relieved(demo: dict[str, Any]) -> None:
    planted = demo["truth"]["unbalanced_territory"]
    report = demo["reports"][planted["region_id"]]
    territories = planning.territory_frame(report.plan).set_index("rep_id")
    rep = planted["rep_id"]
    assert territories["deviation_before"].idxmax() == rep
    assert territories.loc[rep, "deviation_before"] > 1.0  # more than twice the mean
    assert not territories.loc[rep, "within_before"]
    company = planning.territory_frame(demo["reports"]["all"].plan).set_index("rep_id")
    assert company["accounts_deviation"].idxmax() == rep  # the heaviest workload of all
    moves = planning.moves_frame(report.plan)
    assert report.plan.rebalance.status in ("optimal", "feasible")
    assert (moves["from_rep"] == rep).sum() >= 5
    assert territories.loc[rep, "within_after"]
    assert territories["within_after"].all()
    assert f"Most overloaded: {territories.loc[rep, 'rep_name']}" in " ".join(
        planning.notes.territory_sentences(report.plan)
    )


def test_targets_equal_independent_sql(demo: dict[str, Any]) -> None:
    """Target = planned months of 2027 + 2026 bookings (complete months) or targets, x 1.1."""
    rows = (
        demo["con"]
        .execute(
            """WITH booked AS (
             SELECT a.region_id, date_trunc('month', o.order_date) AS month, sum(o.amount) AS b
             FROM order_lines o JOIN accounts a USING (account_id) GROUP BY ALL),
           planned AS (SELECT region_id, sum(target_amount) AS t FROM region_targets
                       WHERE year(month) = 2027 GROUP BY ALL),
           grown_bookings AS (SELECT region_id, sum(b) * 1.1 AS g FROM booked
                       WHERE month BETWEEN DATE '2026-04-01' AND DATE '2026-10-01' GROUP BY ALL),
           grown_targets AS (SELECT region_id, sum(target_amount) * 1.1 AS g FROM region_targets
                       WHERE month IN (DATE '2026-11-01', DATE '2026-12-01') GROUP BY ALL)
           SELECT region_id, planned.t + grown_bookings.g + grown_targets.g FROM planned
           JOIN grown_bookings USING (region_id) JOIN grown_targets USING (region_id)"""
        )
        .fetchall()
    )
    expected = dict(rows)
    months = (
        demo["con"]
        .execute("SELECT DISTINCT month FROM region_targets WHERE year(month) = 2027 ORDER BY 1")
        .fetchall()
    )
    assert [m[0].month for m in months] == [1, 2, 3]  # the SQL above assumes Q1 is planned
    frame = planning.capacity_frame(demo["reports"]["all"].plan).set_index("region_id")
    assert len(expected) == len(frame) == len(REGIONS)
    for region, target in expected.items():
        assert frame.loc[region, "target_amount"] == pytest.approx(target, rel=1e-9)


def test_top_down_quotas_add_up_to_target_plus_over_assignment(demo: dict[str, Any]) -> None:
    plan = demo["reports"]["all"].plan
    targets = plan.targets.groupby("region_id")["target_amount"].sum()
    region_of = plan.data.reps.set_index("rep_id")["region_id"]
    quotas = plan.top_down.assign(region_id=plan.top_down["rep_id"].map(region_of))
    sums = quotas.groupby("region_id")["quota_amount"].sum()
    for region, target in targets.items():
        assert round(sums[region], 2) == round(target * 1.1, 2)
    assert set(pd.to_datetime(quotas["month"]).dt.year) == {2027}
    assert list(plan.top_down.columns) == TABLES["quotas"].schema.names


def test_attainment_health_equals_independent_sql(demo: dict[str, Any]) -> None:
    """Share of reps at or above quota over Jan-Oct 2026 (the complete months), per region."""
    rows = (
        demo["con"]
        .execute(
            """WITH q AS (SELECT q.rep_id, r.region_id, sum(q.quota_amount) AS quota FROM quotas q
                      JOIN reps r USING (rep_id)
                      WHERE q.month BETWEEN DATE '2026-01-01' AND DATE '2026-10-01' GROUP BY ALL),
           b AS (SELECT rep_id, sum(amount) AS booked FROM order_lines
                 WHERE order_date BETWEEN DATE '2026-01-01' AND DATE '2026-10-31' GROUP BY ALL)
           SELECT region_id, avg(CASE WHEN coalesce(booked, 0) >= quota THEN 1.0 ELSE 0.0 END),
                  count(*)
           FROM q LEFT JOIN b USING (rep_id) WHERE quota > 0 GROUP BY region_id"""
        )
        .fetchall()
    )
    ytd = _ytd(demo["reports"]["all"])
    for region, share, reps in rows:
        assert ytd.loc[region, "share_at_or_above_100"] == pytest.approx(share)
        assert ytd.loc[region, "reps"] == reps


def test_territory_potential_equals_independent_sql(demo: dict[str, Any]) -> None:
    """Potential = order lines of the rep's accounts in the 12 months to as-of + open deals."""
    rows = (
        demo["con"]
        .execute(
            """WITH booked AS (SELECT account_id, sum(amount) AS b FROM order_lines
                           WHERE order_date > DATE '2025-11-23' AND order_date <= DATE '2026-11-23'
                           GROUP BY ALL),
           open AS (SELECT account_id, sum(amount) AS p FROM opportunities
                    WHERE stage NOT LIKE 'Closed%' GROUP BY ALL)
           SELECT a.owner_rep_id, sum(coalesce(b, 0) + coalesce(p, 0)), count(*)
           FROM accounts a LEFT JOIN booked USING (account_id) LEFT JOIN open USING (account_id)
           GROUP BY ALL"""
        )
        .fetchall()
    )
    before = demo["reports"]["all"].plan.rebalance.before.set_index("rep_id")
    assert len(rows) == len(before)
    for rep, potential, accounts in rows:
        assert before.loc[rep, "potential"] == pytest.approx(potential, abs=0.01)
        assert before.loc[rep, "accounts"] == accounts


def test_regional_report_holds_its_region_only(demo: dict[str, Any]) -> None:
    region = demo["truth"]["plan_too_high"]["region_id"]
    report = demo["reports"][region]
    data = report.plan.data
    for frame in (
        data.reps, data.attainment, data.monthly_bookings, data.region_targets, data.accounts,
        data.deals, report.plan.capacity, report.plan.rebalance.before, report.plan.coverage,
    ):  # fmt: skip
        assert set(frame["region_id"]) == {region}
    assert set(report.plan.health["region_id"]) == {region}
    assert set(report.plan.top_down["rep_id"]) <= set(data.reps["rep_id"])
    text = json.dumps(planning.headline_numbers(report))
    others = [r.id for r in REGIONS if r.id != region]
    assert not any(f'"{other}"' in text for other in others)


def test_tables_escape_names_and_sentences_are_deterministic(demo: dict[str, Any]) -> None:
    report = demo["reports"]["all"]
    html = "".join(
        f(report)._repr_html_()
        for f in (planning.territory_table, planning.moves_table, planning.quota_table)
    )
    assert "<script>" not in html
    region = demo["truth"]["plan_too_high"]["region_id"]
    with Warehouse.open(AS_OF, snapshots_dir=demo["folder"]) as warehouse:
        again = planning.load_report(warehouse, region)
    assert planning.summary_sentences(again) == planning.summary_sentences(demo["reports"][region])


# --- snapshots without the data the report needs ----------------------------------------------


def _emptied(source: Workspace, folder: Path, emptied: tuple[str, ...]) -> Path:
    workspace = make_workspace(folder)
    snapshot = open_snapshot(source.snapshots)
    with SnapshotWriter(workspace.snapshots, snapshot.as_of, "planning partial") as writer:
        for name in TABLES:
            table = pq.read_table(snapshot.table_path(name))
            writer.write_table(name, table.schema.empty_table() if name in emptied else table)
    return workspace.snapshots


def test_missing_quotas_name_the_data_and_missing_deals_still_plan(
    tiny_workspace: Workspace, tmp_path: Path
) -> None:
    no_quotas = _emptied(tiny_workspace, tmp_path / "a", ("quotas", "order_lines"))
    with Warehouse.open(None, snapshots_dir=no_quotas) as warehouse:
        report = planning.load_report(warehouse, "all")
    assert report.plan is None
    for show in (planning.summary_html, planning.capacity_table, planning.territory_table):
        assert '<p class="missing">' in show(report)._repr_html_()
    assert planning.headline_numbers(report)["planning_year"] == 2027
    no_deals = _emptied(
        tiny_workspace, tmp_path / "b", ("opportunities", "opportunity_stage_history")
    )
    with Warehouse.open(None, snapshots_dir=no_deals) as warehouse:
        report = planning.load_report(warehouse, "nordics")
    assert report.plan is not None
    assert (report.plan.coverage["open_pipeline"] == 0).all()
    assert planning.coverage_table(report)._repr_html_()


def test_unknown_key_account_is_refused(demo: dict[str, Any]) -> None:
    with (
        Warehouse.open(AS_OF, snapshots_dir=demo["folder"]) as warehouse,
        pytest.raises(ParameterError, match=r"key_accounts: 'ACC-999999' not in table accounts"),
    ):
        planning.load_report(warehouse, "nordics", key_accounts="ACC-999999")


def test_a_snapshot_in_january_plans_on_last_year(tmp_path: Path) -> None:
    """No month of the as-of year is complete: plan health reads the whole year before."""
    from salesops_lib.sources.demo import generate_demo

    folder = tmp_path / "snapshots"
    generate_demo(folder, "2026-01-10", seed=7, scale="tiny", weeks=1, regions=REGIONS)
    with Warehouse.open(None, snapshots_dir=folder) as warehouse:
        report = planning.load_report(warehouse, "nordics", planning_year=2026)
    assert report.plan is not None
    assert report.plan.ytd_period == "2025"
    assert "2025" in set(report.plan.health["period"])
    assert planning.headline_numbers(report)["share_at_or_above_quota_ytd"] is not None
    # 2026's first half is planned (Finance's targets); the rest grows 2025's bookings
    basis = report.plan.targets.set_index("month")["basis"]
    assert basis["2026-03-01"] == "target" and basis["2026-09-01"] == "bookings"
