"""The compensation store step and report on a hand-made two-region snapshot with a plans file,
numbers checked against hand arithmetic; and on the tiny demo against plain SQL.

Hand-made plan (monthly, marginal, amount tiers: under 100 at 10%, 100 and above at 20%,
period to date; clawback window 30 days). Rita (r1, east) books ord1 (200 + 90) on 15 Jan and
ord2 (75) on 31 Jan: January credit 365, commission 100 x 10% + 265 x 20% = 63.00. ord2 is
cancelled on 10 Feb, inside the window: its 75 was paid at 20%, so February claws back 15.00.
Wes (r3, west) books ord4 (100) on 1 Mar: on the boundary, so 100 x 10% = 10.00 (nothing above
it). Raj (r2, east) has bookings but no plan; Wes's plan ends on 30 April.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from salesops_lib.analytics.build import BuildContext, build_store
from salesops_lib.analytics.compensation.build import STEPS, compute_compensation
from salesops_lib.core.errors import ParameterError
from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import SnapshotWriter
from salesops_lib.data.store import Store
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.reports import compensation
from salesops_lib.reports.compensation.statements import safe_rep_id, statement_html
from tests.conftest import Workspace
from tests.snapshot_builder import (
    TWO_REGION_AS_OF,
    TWO_REGION_TABLES,
    arrow_table,
    build_two_region_snapshot,
)

PLANS = """\
version: 1
currency: USD
plans:
  flat:
    name: Flat <monthly>
    period: month
    ote: 12000
    base_pct: 50
    tier_basis: amount
    tier_mode: marginal
    accumulate: period_to_date
    rate_tables:
      - tiers:
          - {from: 0, to: 100, rate: 0.10}
          - {from: 100, rate: 0.20}
    clawback: {window_days: 30}
assignments:
  - {rep_id: r1, plan: flat, start: 2024-01-01}
  - {rep_id: r3, plan: flat, start: 2024-03-01, end: 2024-04-30}
"""
CANCELLATIONS = "deal_id,cancel_date\nord2,2024-02-10\n"


def _write(folder: Path) -> Path:
    with SnapshotWriter(folder, TWO_REGION_AS_OF, source="test", created_at="test") as writer:
        for name in TABLES:
            writer.write_table(name, arrow_table(name, TWO_REGION_TABLES[name]))
        writer.write_extra("comp_plans.yml", PLANS.encode())
        writer.write_extra("comp_cancellations.csv", CANCELLATIONS.encode())
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Store]:
    """The snapshot with plans, and its compensation-only store."""
    root = tmp_path_factory.mktemp("comp-report")
    snapshots, analytics = _write(root / "snapshots"), root / "analytics"
    built = build_store(None, snapshots_dir=snapshots, analytics_dir=analytics, steps=STEPS)
    return snapshots, built.store


@pytest.fixture()
def warehouse(workspace: tuple[Path, Store]) -> Iterator[Warehouse]:
    snapshots, store = workspace
    with Warehouse.open(TWO_REGION_AS_OF, snapshots_dir=snapshots, store=store) as w:
        yield w


def _report(warehouse: Warehouse, region: str, period: str = "") -> compensation.CompReport:
    return compensation.load_report(warehouse, region, period)


def test_store_payouts_by_hand(warehouse: Warehouse) -> None:
    rows = warehouse.query(
        "SELECT rep_id, period, credit, commission, clawback, payout FROM an_comp_payouts "
        "WHERE scope = 'all' ORDER BY rep_id, period"
    )
    by = {(r.rep_id, r.period): r for r in rows.itertuples()}
    assert by[("r1", "2024-01")].credit == pytest.approx(365.00)
    assert by[("r1", "2024-01")].payout == pytest.approx(63.00)
    assert abs(by[("r1", "2024-02")].clawback) == pytest.approx(15.00)
    assert by[("r1", "2024-02")].payout == pytest.approx(-15.00)
    assert by[("r3", "2024-03")].payout == pytest.approx(10.00)
    assert "r2" not in set(rows["rep_id"]), "a rep on no plan gets no payout"


def test_regional_scope_holds_its_reps_only(warehouse: Warehouse) -> None:
    scopes = warehouse.query(
        "SELECT scope, list(DISTINCT rep_id ORDER BY rep_id) AS reps FROM an_comp_payouts "
        "GROUP BY scope ORDER BY scope"
    )
    assert dict(zip(scopes["scope"], scopes["reps"].map(list), strict=True)) == {
        "all": ["r1", "r3"],
        "east": ["r1"],
        "west": ["r3"],
    }
    east = _report(warehouse, "east", "2024-01")
    assert set(east.payouts["rep_id"]) == {"r1"}
    assert set(east.lines["rep_id"]) == {"r1"}
    assert set(east.credits["rep_id"]) <= {"r1", "r2"}, "the region's reps' bookings only"


def test_period_summary_by_hand(warehouse: Warehouse) -> None:
    summary = compensation.period_summary(_report(warehouse, "east", "2024-01"))
    assert summary["payout"] == pytest.approx(63.00)
    assert summary["credit"] == pytest.approx(365.00)
    assert summary["cost_of_sales"] == pytest.approx(63.00 / 365.00)
    assert summary["effective_rate"] == pytest.approx(63.00 / 365.00)
    # target variable: 12,000 OTE x 50% variable / 12 months = 500 a month
    assert summary["target_variable"] == pytest.approx(500.00)
    assert summary["payout_vs_target"] == pytest.approx(63.00 / 500.00)


def test_default_period_is_the_last_closed_one(warehouse: Warehouse) -> None:
    assert _report(warehouse, "all").period == "2024-02"  # March is open on 20 March
    with pytest.raises(ParameterError, match="2099-01"):
        _report(warehouse, "all", "2099-01")


def test_anomalies_by_hand(warehouse: Warehouse) -> None:
    found = compensation.anomalies(_report(warehouse, "all", "2024-02"))
    kinds = set(zip(found["kind"], found["rep_id"], strict=True))
    assert ("bookings on no plan", "r2") in kinds
    assert ("plan ending with rep on it", "r3") in kinds
    assert ("payout without bookings", "r1") in kinds  # the February clawback
    west = compensation.anomalies(_report(warehouse, "west", "2024-03"))
    assert set(west["rep_id"]) == {"r3"}, "a region sees its own reps' anomalies only"


def test_statement_holds_only_the_reps_deals_and_escapes_names(warehouse: Warehouse) -> None:
    report = _report(warehouse, "all", "2024-01")
    hostile = report.payouts.assign(rep_name="<b>Rita</b> & co")
    page = statement_html(dataclasses.replace(report, payouts=hostile), "r1")
    assert "&lt;b&gt;Rita&lt;/b&gt; &amp; co" in page and "<b>Rita" not in page
    deals = set(re.findall(r"ord\d", page))
    assert deals == {"ord1", "ord2"}
    assert "Flat &lt;monthly&gt;" in page, "the plan text, escaped"
    assert "<script" not in page and "src=" not in page and "http" not in page


def test_write_statements_refuses_unsafe_rep_ids(warehouse: Warehouse, tmp_path: Path) -> None:
    for bad in ("../x", ".hidden", "a/b", ""):
        with pytest.raises(ParameterError):
            safe_rep_id(bad)
    report = _report(warehouse, "east", "2024-01")
    shown = compensation.write_statements(report, str(tmp_path))
    assert sorted(p.name for p in (tmp_path / "statements").iterdir()) == ["r1.html"]
    assert "statements/r1.html" in shown.markup
    company = compensation.write_statements(_report(warehouse, "all"), str(tmp_path / "c"))
    assert not (tmp_path / "c").exists() and "each region" in company.markup


def test_headlines_carry_the_base_and_the_numbers(warehouse: Warehouse) -> None:
    values = compensation.headlines(_report(warehouse, "east", "2024-01")).values
    assert values["region"] == "east" and values["snapshot_id"] == "2024-03-20"
    assert values["comp_payout"] == pytest.approx(63.00)
    assert values["comp_period"] == "2024-01"


def test_snapshot_without_plans_gives_empty_tables_and_a_note(tmp_path: Path) -> None:
    snapshot = build_two_region_snapshot(tmp_path)
    with Warehouse(snapshot) as warehouse:
        tables = compute_compensation(BuildContext(warehouse, tmp_path / "snapshots"))
    assert tables["an_comp_payouts"].empty and tables["an_comp_lines"].empty
    notes = tables["an_comp_notes"]
    assert set(notes["scope"]) == {"all", "east", "west"}
    assert notes["detail"].str.contains("no comp_plans.yml").all()


def test_tiny_demo_report_numbers_equal_sql(
    tiny_store: Store, tiny_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regional payouts and headlines of the tiny demo against plain SQL on the store table."""
    for key, value in tiny_workspace.env().items():
        monkeypatch.setenv(key, value)
    with Warehouse.open(None, snapshots_dir=tiny_workspace.snapshots, store=tiny_store) as w:
        report = compensation.load_report(w, "nordics")
        sql = w.query(
            "SELECT sum(payout) AS payout, sum(credit) AS credit, count(*) AS reps, "
            "sum(CASE WHEN capped THEN 1 ELSE 0 END) AS capped FROM an_comp_payouts "
            "WHERE scope = 'all' AND region_id = 'nordics' AND period = ?",
            [report.period],
        ).iloc[0]
    summary = compensation.period_summary(report)
    assert summary["payout"] == pytest.approx(float(sql["payout"]), abs=0.01)
    assert summary["credit"] == pytest.approx(float(sql["credit"]), abs=0.01)
    assert summary["reps"] == int(sql["reps"])
    assert summary["reps_capped"] == int(sql["capped"])
    assert set(report.current["region_id"]) == {"nordics"}


def test_adjustments_since_the_last_ledger_run_by_hand(tmp_path: Path) -> None:
    """January locked at 63.00; a corrected credit (ord1's 90 line removed) makes January
    10 + 175 x 20% = 45.00, so the next run posts -18.00 for Rita; Wes has none."""
    from salesops_lib.analytics.compensation import calculate_payouts, plan_book_from_text
    from salesops_lib.analytics.compensation.ledger import lock_period, record_payout_run
    from salesops_lib.reports.compensation.load import latest_adjustments

    book = plan_book_from_text(PLANS)
    credits = pd.DataFrame(
        {
            "rep_id": ["r1", "r1", "r1"],
            "credit_date": pd.to_datetime(["2024-01-15", "2024-01-15", "2024-01-31"]),
            "amount": [200.0, 90.0, 75.0],
            "deal_id": ["ord1", "ord1", "ord2"],
            "split_pct": [100.0, 100.0, 100.0],
        }
    )
    quotas = pd.DataFrame({"rep_id": [], "period_start": pd.to_datetime([]), "quota": []})
    ledger = tmp_path / "ledger"
    assert latest_adjustments(ledger, {"r1"})[0].empty
    for number, frame in enumerate((credits, credits.drop(index=1)), start=1):
        result = calculate_payouts(book, frame, quotas, as_of=TWO_REGION_AS_OF)
        record_payout_run(
            ledger,
            result,
            inputs={"credits": frame},
            plan_version=book.version,
            as_of=TWO_REGION_AS_OF,
            now=f"2024-03-2{number}T00:00:00+00:00",
        )
        if number == 1:
            lock_period(ledger, "2024-01", by="test", now="2024-03-21T01:00:00+00:00")
    found, sentence = latest_adjustments(ledger, {"r1"})
    assert len(found) == 1 and "1 prior-period adjustment" in sentence
    row = found.iloc[0]
    assert (row["period"], row["posted_period"]) == ("2024-01", "2024-02")
    assert float(row["old_value"]) == pytest.approx(63.00)
    assert float(row["new_value"]) == pytest.approx(45.00)
    assert float(row["amount"]) == pytest.approx(-18.00)
    assert latest_adjustments(ledger, {"r3"})[0].empty
