"""The demo's compensation: plans and cancellations in every snapshot, and the truth file's
expected payouts (computed by plain arithmetic in the generator) equal to the payout engine's.

The expected payouts are re-derived here from the snapshot's parquet files (bookings and
quotas summed with DuckDB), so the truth's inputs are checked against the data, not trusted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from salesops_lib.analytics.compensation import (
    calculate_payouts,
    load_plan_book,
    read_cancellations_csv,
)
from salesops_lib.sources.demo.comp import ALTERNATIVE_FILE, CANCELLATIONS_FILE, PLANS_FILE
from salesops_lib.sources.demo.comp_truth import FEATURES
from tests.demo_fixtures import connect, generate, manifest, read_truth


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A small demo (50k order lines, two weekly snapshots)."""
    return generate(tmp_path_factory.mktemp("demo-comp"), "small", 2)


@pytest.fixture(scope="module")
def engine(snapshots: list[Path]) -> pd.DataFrame:
    """The engine's payouts on the latest snapshot's plans, bookings, quotas and hire dates."""
    snapshot = snapshots[-1]
    con = connect(snapshot)
    credits = con.execute(
        "SELECT rep_id, order_date AS credit_date, amount, order_id AS deal_id, 100.0 AS split_pct "
        "FROM order_lines ORDER BY order_date, order_id, line_number"
    ).df()
    quotas = con.execute(
        "SELECT rep_id, month AS period_start, quota_amount AS quota FROM quotas"
    ).df()
    hires = con.execute("SELECT rep_id, hire_date FROM reps").df()
    book = load_plan_book(snapshot / PLANS_FILE)
    credits = credits[credits["rep_id"].isin(set(book.assignments["rep_id"]))]
    result = calculate_payouts(
        book,
        credits.assign(credit_date=pd.to_datetime(credits["credit_date"])).reset_index(drop=True),
        quotas.assign(period_start=pd.to_datetime(quotas["period_start"])),
        cancellations=read_cancellations_csv(snapshot / CANCELLATIONS_FILE),
        hire_dates=hires.assign(hire_date=pd.to_datetime(hires["hire_date"])),
        as_of=dt.date(2026, 11, 23),
    )
    return result.payouts


def test_every_snapshot_lists_the_plans_and_the_cancellations(snapshots: list[Path]) -> None:
    texts = set()
    for snapshot in snapshots:
        files = manifest(snapshot)["files"]
        for name in (PLANS_FILE, CANCELLATIONS_FILE, ALTERNATIVE_FILE):
            assert name in files, f"{snapshot.name} lacks {name}"
        texts.add((snapshot / PLANS_FILE).read_bytes())
        book = load_plan_book(snapshot / PLANS_FILE)
        assert {p.tier_mode for p in book.plans.values()} == {"marginal", "retroactive"}
        assert any(p.gate for p in book.plans.values())
        assert any(p.period_cap for p in book.plans.values())
        assert any(p.spifs for p in book.plans.values())
        assert any(p.draw for p in book.plans.values())
    assert len(texts) == 1, "the plans are the same in every weekly snapshot"


def test_cancelled_deals_are_booked_orders_inside_the_clawback_window(
    snapshots: list[Path],
) -> None:
    snapshot = snapshots[-1]
    cancelled = pd.read_csv(snapshot / CANCELLATIONS_FILE, dtype=str)
    assert len(cancelled) >= 2
    con = connect(snapshot)
    con.register("cancelled", cancelled)
    rows = con.execute(
        "SELECT c.deal_id, max(o.order_date) AS booked, any_value(c.cancel_date) AS cancelled "
        "FROM cancelled c JOIN order_lines o ON o.order_id = c.deal_id GROUP BY c.deal_id"
    ).df()
    assert len(rows) == len(cancelled), "every cancelled deal is a booked order"
    days = (pd.to_datetime(rows["cancelled"]) - pd.to_datetime(rows["booked"])).dt.days
    assert ((days > 0) & (days <= 90)).all()
    first_snapshot = dt.date.fromisoformat(snapshots[0].name)
    assert (pd.to_datetime(rows["cancelled"]).dt.date <= first_snapshot).all()


def test_truth_inputs_are_the_reps_bookings_and_quotas(snapshots: list[Path]) -> None:
    snapshot = snapshots[-1]
    truth = read_truth(snapshot)["compensation"]
    year, quarter = truth["period"].split("-Q")
    start = dt.date(int(year), 3 * int(quarter) - 2, 1)
    end = dt.date(int(year) + (start.month + 3 > 12), (start.month + 2) % 12 + 1, 1)
    con = connect(snapshot)
    for entry in truth["expected_payouts"]:
        credit, quota = con.execute(
            "SELECT (SELECT sum(amount) FROM order_lines WHERE rep_id = $rep "
            "AND order_date >= $start AND order_date < $end), "
            "(SELECT sum(quota_amount) FROM quotas WHERE rep_id = $rep "
            "AND month >= $start AND month < $end)",
            {"rep": entry["rep_id"], "start": start, "end": end},
        ).fetchone()
        assert entry["credit"] == pytest.approx(credit, abs=0.005), entry["feature"]
        assert entry["quota"] == pytest.approx(quota, abs=0.005), entry["feature"]


def test_truth_covers_every_plan_feature_at_small_scale(snapshots: list[Path]) -> None:
    truth = read_truth(snapshots[-1])["compensation"]
    assert truth["missing"] == []
    assert sorted(e["feature"] for e in truth["expected_payouts"]) == sorted(FEATURES)


def test_hand_checkable_arithmetic_of_the_truth(snapshots: list[Path]) -> None:
    """Recompute each entry's commission from its own credit and quota by its formula."""
    truth = read_truth(snapshots[-1])["compensation"]
    by_feature = {e["feature"]: e for e in truth["expected_payouts"]}
    acc = by_feature["marginal_accelerator"]
    expected = 0.05 * acc["quota"] + 0.08 * (acc["credit"] - acc["quota"])
    assert acc["commission"] == pytest.approx(expected, abs=0.01)
    assert by_feature["gate"]["commission"] == 0.0
    assert by_feature["gate"]["attainment_pct"] < 50
    retro = by_feature["retroactive"]
    assert 80 <= retro["attainment_pct"] < 100
    assert retro["commission"] == pytest.approx(0.05 * retro["credit"], abs=0.01)
    cap = by_feature["period_cap"]
    assert cap["payout"] == pytest.approx(truth["period_cap"] + cap["spif"], abs=0.01)
    draw = by_feature["draw"]
    assert draw["payout"] == pytest.approx(truth["draw_amount"], abs=0.01)
    claw = by_feature["clawback"]
    assert claw["clawback"] == pytest.approx(claw["rate_paid"] * claw["deal_credit"], abs=0.01)


@pytest.mark.parametrize("feature", FEATURES)
def test_truth_payouts_equal_the_engine(
    snapshots: list[Path], engine: pd.DataFrame, feature: str
) -> None:
    truth = read_truth(snapshots[-1])["compensation"]
    entry = next(e for e in truth["expected_payouts"] if e["feature"] == feature)
    row = engine[(engine["rep_id"] == entry["rep_id"]) & (engine["period"] == entry["period"])]
    assert len(row) == 1, f"{feature}: engine has no payout for {entry['rep_id']}"
    got = row.iloc[0]
    assert float(got["quota"]) == pytest.approx(entry["quota"], abs=0.01)
    assert float(got["credit"]) == pytest.approx(entry["credit"], abs=0.01)
    assert float(got["commission"]) == pytest.approx(entry["commission"], abs=0.01)
    assert float(got["spif"]) == pytest.approx(entry["spif"], abs=0.01)
    assert abs(float(got["clawback"])) == pytest.approx(entry["clawback"], abs=0.01)
    assert float(got["draw"]) == pytest.approx(entry["draw"], abs=0.01)
    assert float(got["payout"]) == pytest.approx(entry["payout"], abs=0.01), entry["formula"]
