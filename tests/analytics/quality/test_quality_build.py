"""The data-quality build step and the report that reads it, on hand-made and demo snapshots.

The hand-made workspace has two snapshots. The earlier one (2024-03-13) holds the builder's one
clean deal in region r1. The latest (2024-03-20) has regions r1 (rep1) and r2 (rep2) with
planted problems, worked out by hand:

* opp1 (rep1): open, close date 2024-03-01 before the as-of date -> open_past_close;
* opp2 (rep1): open, last stage change 2023-11-01, 140 days before -> stale;
* opp3, opp5 (rep2): same account, product and amount 500, created 3 days apart -> duplicate;
* opp4 (rep2): amount 50,000 > 10 x 500 (the product's median deal; list price 100) -> extreme;
* opp6 (rep2): clean;
* the import quarantined source row deals.csv:7 (rep1, r1; missing account) and corrected
  opp3's product alias (not scored).

So r1 has 3 records (opp1, opp2, row 7), all with a problem; r2 has 4 records (opp3-opp6), 3 with
a problem; the company 7 records, 6 with a problem.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from salesops_lib.analytics.build import build_store
from salesops_lib.analytics.quality.build import STEPS
from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import SnapshotWriter, list_snapshots, open_snapshot
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.reports import quality as report
from salesops_lib.sources.importer.quarantine import ISSUE_COLUMNS, QUARANTINE_FILE, to_json_bytes
from tests.conftest import Workspace
from tests.snapshot_builder import DEFAULT_TABLES, arrow_table

D = dt.date
EARLIER, LATEST = D(2024, 3, 13), D(2024, 3, 20)


def _opp(
    opp_id: str, rep: str, stage: str, amount: float, created: dt.date, close: dt.date
) -> dict[str, object]:
    category = {"Closed Won": "Closed", "Closed Lost": "Omitted"}.get(stage, "Pipeline")
    return {
        "opportunity_id": opp_id,
        "owner_rep_id": rep,
        "stage": stage,
        "amount": amount,
        "created_date": created,
        "close_date": close,
        "forecast_category": category,
    }


def _history(opp_id: str, stage: str, created: dt.date, last: dt.date) -> list[dict[str, object]]:
    first = {
        "opportunity_id": opp_id,
        "sequence": 1,
        "stage": "Prospecting",
        "entered_date": created,
    }
    if stage == "Prospecting":
        return [first]
    return [first, {"opportunity_id": opp_id, "sequence": 2, "stage": stage, "entered_date": last}]


LATEST_TABLES: dict[str, list[dict[str, object]]] = {
    "regions": [
        {"region_id": "r1", "region_name": "Region One"},
        {"region_id": "r2", "region_name": "Region Two"},
    ],
    "reps": [
        {"rep_id": "rep1", "rep_name": "Rep One", "region_id": "r1"},
        {"rep_id": "rep2", "rep_name": "Rep Two", "region_id": "r2"},
    ],
    "opportunities": [
        _opp("opp1", "rep1", "Qualification", 500.0, D(2024, 1, 2), D(2024, 3, 1)),
        _opp("opp2", "rep1", "Qualification", 500.0, D(2023, 10, 1), D(2024, 6, 30)),
        _opp("opp3", "rep2", "Closed Won", 500.0, D(2023, 12, 1), D(2024, 2, 1)),
        _opp("opp4", "rep2", "Negotiation", 50000.0, D(2024, 2, 1), D(2024, 6, 30)),
        _opp("opp5", "rep2", "Closed Lost", 500.0, D(2023, 12, 4), D(2024, 1, 10)),
        _opp("opp6", "rep2", "Proposal", 800.0, D(2024, 2, 1), D(2024, 6, 30)),
    ],
    "opportunity_stage_history": [
        *_history("opp1", "Qualification", D(2024, 1, 2), D(2024, 3, 10)),
        *_history("opp2", "Qualification", D(2023, 10, 1), D(2023, 11, 1)),
        *_history("opp3", "Closed Won", D(2023, 12, 1), D(2024, 2, 1)),
        *_history("opp4", "Negotiation", D(2024, 2, 1), D(2024, 3, 1)),
        *_history("opp5", "Closed Lost", D(2023, 12, 4), D(2024, 1, 10)),
        *_history("opp6", "Proposal", D(2024, 2, 1), D(2024, 3, 1)),
    ],
}

ISSUES = pd.DataFrame(
    [
        [
            "missing_account",
            "quarantined",
            "deals.csv",
            7,
            "account",
            None,
            "X",
            "rep1",
            "r1",
            None,
        ],
        ["product_alias", "corrected", "deals.csv", 4, "product", "P1", "opp3", "rep2", "r2", None],
    ],
    columns=ISSUE_COLUMNS,
)


def _write(
    folder: Path,
    as_of: dt.date,
    tables: dict[str, list[dict[str, object]]],
    issues: pd.DataFrame | None,
) -> None:
    with SnapshotWriter(folder, as_of, source="tests", created_at="test") as writer:
        for name in TABLES:
            writer.write_table(name, arrow_table(name, tables.get(name, DEFAULT_TABLES[name])))
        if issues is not None:
            writer.write_extra(QUARANTINE_FILE, to_json_bytes(issues))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Snapshots folder and analytics folder of the hand-made workspace, store built."""
    root = tmp_path_factory.mktemp("quality-build")
    snapshots, analytics = root / "snapshots", root / "analytics"
    _write(snapshots, EARLIER, {}, None)
    _write(snapshots, LATEST, LATEST_TABLES, ISSUES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALESOPS_CODE_VERSION", "test-quality-build")
        build_store(LATEST.isoformat(), snapshots, analytics, steps=STEPS)
    return snapshots, analytics


@pytest.fixture()
def warehouse(built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("SALESOPS_CODE_VERSION", "test-quality-build")
    snapshots, analytics = built
    return Warehouse(open_snapshot(snapshots, LATEST), analytics_dir=analytics)


def test_findings_are_the_planted_ones_each_in_its_region(warehouse: Warehouse) -> None:
    with warehouse:
        r1 = warehouse.table("an_quality_findings", region="r1")
        r2 = warehouse.table("an_quality_findings", region="r2")
        every = warehouse.table("an_quality_findings")
    assert sorted(zip(r1["record"], r1["check"], strict=True)) == [
        ("opp1", "open_past_close"),
        ("opp2", "stale"),
        ("row deals.csv:7", "missing_account"),
    ]
    assert sorted(zip(r2["record"], r2["check"], strict=True)) == [
        ("opp3", "corrected"),
        ("opp3", "duplicate"),
        ("opp4", "extreme_amount"),
        ("opp5", "duplicate"),
    ]
    assert set(r1["owner_rep_id"]) == {"rep1"} and set(r2["owner_rep_id"]) == {"rep2"}
    assert len(every) == len(r1) + len(r2)


def test_scorecard_per_scope(warehouse: Warehouse) -> None:
    with warehouse:
        card = warehouse.table("an_quality_scorecard")
    company = card[card["grain"] == "company"].set_index("scope")
    assert company.loc[["all", "r1", "r2"], "records"].tolist() == [7, 3, 4]
    assert company.loc[["all", "r1", "r2"], "problem_records"].tolist() == [6, 3, 3]
    assert company.loc["r2", "score"] == pytest.approx(0.25)
    assert company.loc[["all", "r1", "r2"], "quarantined_rows"].tolist() == [1, 1, 0]
    r1 = card[card["scope"] == "r1"]
    assert set(r1["group_id"]) == {"all", "r1", "rep1"}  # nothing of r2 in r1's scope


def test_trend_has_a_row_per_scope_and_snapshot(warehouse: Warehouse) -> None:
    with warehouse:
        trend = warehouse.table("an_quality_trend")
    rows = {(r.scope, r.snapshot): (r.records, r.problem_records) for r in trend.itertuples()}
    assert rows == {
        ("all", "2024-03-13"): (1, 0),  # the builder's one clean deal (region r1)
        ("all", "2024-03-20"): (7, 6),
        ("r1", "2024-03-13"): (1, 0),
        ("r1", "2024-03-20"): (3, 3),
        ("r2", "2024-03-13"): (0, 0),  # no region r2 in the earlier snapshot
        ("r2", "2024-03-20"): (4, 3),
    }
    no_records = trend[trend["records"] == 0]
    assert no_records["score"].isna().all()


def test_regional_report_shows_its_region_only(warehouse: Warehouse) -> None:
    with warehouse:
        data = report.load_quality(warehouse, "r2")
    assert set(data.scorecard["scope"]) == {"r2"}
    assert set(data.fix_items["owner_rep_id"]) == {"rep2"}
    assert data.fix_items["check"].tolist() == ["duplicate", "duplicate", "extreme_amount"]
    assert set(data.import_rules["rule"]) == {"product_alias"}
    numbers = report.headline_numbers(data)
    assert {k: numbers[k] for k in ("records", "problem_records", "quality_score")} == {
        "records": 4,
        "problem_records": 3,
        "quality_score": 0.25,
    }
    assert numbers["quarantined_rows"] == 0
    owners = report.owner_scorecard_table(data)
    assert owners.frame["Owner"].tolist() == ["Rep Two"]
    assert "Region One" not in str(report.summary(data))


def test_company_report_summary_names_the_top_problem(warehouse: Warehouse) -> None:
    with warehouse:
        data = report.load_quality(warehouse, "all")
    text = str(report.summary(data))
    # Duplicate: opp3 and opp5 (2 records); every other problem has one record.
    assert "1 source row was quarantined" in text and "Duplicate" in text
    assert report.headline_numbers(data)["quality_score"] == round(1 / 7, 4)


def test_build_is_deterministic(
    built: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESOPS_CODE_VERSION", "test-quality-build")
    snapshots, analytics = built
    first = build_store(LATEST.isoformat(), snapshots, analytics, steps=STEPS)
    again = build_store(LATEST.isoformat(), snapshots, tmp_path / "analytics", steps=STEPS)
    assert not first.built and again.built
    sha = {n: t["sha256"] for n, t in first.store.manifest["tables"].items()}
    assert sha == {n: t["sha256"] for n, t in again.store.manifest["tables"].items()}


def test_tiny_demo_trend_counts_every_deal_of_every_snapshot(
    tiny_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESOPS_CODE_VERSION", "test-quality-build")
    result = build_store(None, tiny_workspace.snapshots, tmp_path / "analytics", steps=STEPS)
    trend = result.store.read("an_quality_trend")
    company = trend[trend["scope"] == "all"].sort_values("snapshot")
    dates = list_snapshots(tiny_workspace.snapshots)
    assert company["snapshot"].tolist() == [d.isoformat() for d in dates]
    for date, records in zip(dates, company["records"], strict=True):
        path = tiny_workspace.snapshots / date.isoformat() / "opportunities.parquet"
        assert records == pq.read_metadata(path).num_rows  # demo: nothing quarantined
    regions = trend[trend["scope"] != "all"].groupby("snapshot")["records"].sum()
    assert regions.tolist() == company["records"].tolist()  # every deal has one region
