"""The demo generator: determinism, shape of the data, weekly snapshots and bad input."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from salesops_lib.core.errors import ParameterError, SnapshotError
from salesops_lib.data.schema import FORECAST_CATEGORIES, SIZE_BANDS, STAGES, TABLES
from salesops_lib.data.snapshot import open_snapshot, sha256_file
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.sources.demo import generate_demo, resolve_scale
from salesops_lib.sources.demo.calendar import build_calendar
from salesops_lib.sources.demo.orders import avoid_half_cents, line_amount
from tests.demo_fixtures import AS_OF, REGIONS, connect, generate, manifest, one


@dataclass(frozen=True)
class TinyRuns:
    """Two tiny runs with seed 42 (three weekly snapshots each) and one with seed 7."""

    first: list[Path]
    second: list[Path]
    other_seed: list[Path]
    messages: list[str]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> TinyRuns:
    messages: list[str] = []
    first = generate_demo(
        tmp_path_factory.mktemp("demo-a"), AS_OF, seed=42, scale="tiny", weeks=3,
        regions=REGIONS, progress=messages.append,
    )  # fmt: skip
    second = generate(tmp_path_factory.mktemp("demo-b"), "tiny", weeks=3, seed=42)
    other = generate(tmp_path_factory.mktemp("demo-c"), "tiny", weeks=3, seed=7)
    return TinyRuns(first, second, other, messages)


@pytest.fixture(scope="module")
def con(runs: TinyRuns) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(runs.first[-1], runs.first[-2])
    yield connection
    connection.close()


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(runs: TinyRuns) -> None:
    for a, b in zip(runs.first, runs.second, strict=True):
        assert (a / "_manifest.json").read_bytes() == (b / "_manifest.json").read_bytes()
        files = manifest(a)["files"]
        extras = {"_truth.json", "comp_plans.yml", "comp_plans_alternative.yml"}
        assert set(files) == {f"{t}.parquet" for t in TABLES} | extras | {"comp_cancellations.csv"}
        for name, entry in files.items():
            assert sha256_file(a / name) == sha256_file(b / name) == entry["sha256"]


def test_other_seed_gives_other_order_lines(runs: TinyRuns) -> None:
    ours = manifest(runs.first[-1])["files"]["order_lines.parquet"]["sha256"]
    theirs = manifest(runs.other_seed[-1])["files"]["order_lines.parquet"]["sha256"]
    assert ours != theirs


def test_snapshots_verify_and_progress_is_reported(runs: TinyRuns) -> None:
    snapshot = open_snapshot(runs.first[0].parent, AS_OF)
    assert snapshot.as_of == AS_OF
    assert any("order lines" in m for m in runs.messages)
    assert len(runs.messages) > 30  # one message per month of the three years


# --- shape -------------------------------------------------------------------------------------


def test_weekly_snapshots_are_seven_days_apart_oldest_first(runs: TinyRuns) -> None:
    dates = [dt.date.fromisoformat(p.name) for p in runs.first]
    assert dates == [AS_OF - dt.timedelta(days=14), AS_OF - dt.timedelta(days=7), AS_OF]


def test_every_table_matches_its_schema(runs: TinyRuns) -> None:
    for folder in runs.first:
        for name, table in TABLES.items():
            schema = pq.read_schema(folder / f"{name}.parquet")
            assert schema.equals(table.schema, check_metadata=False), name


def test_regions_reps_and_managers(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) FROM regions") == 8
    reps_per_region = dict(
        con.execute("SELECT region_id, count(*) FROM reps WHERE role = 'rep' GROUP BY 1").fetchall()
    )
    assert len(reps_per_region) == 8
    assert 140 <= sum(reps_per_region.values()) <= 160
    assert len(set(reps_per_region.values())) >= 5  # regions have distinct sizes
    assert one(con, "SELECT count(*) FROM reps WHERE role = 'manager'") >= 8
    # every rep reports to a manager of the same region; managers report to nobody
    bad = one(
        con,
        """SELECT count(*) FROM reps r LEFT JOIN reps m ON m.rep_id = r.manager_id
           WHERE r.role = 'rep'
             AND (m.role IS DISTINCT FROM 'manager' OR m.region_id <> r.region_id)""",
    )
    assert bad == 0
    assert (
        one(con, "SELECT count(*) FROM reps WHERE role = 'manager' AND manager_id IS NOT NULL") == 0
    )
    assert (
        one(con, "SELECT count(*) FROM quotas JOIN reps USING (rep_id) WHERE role = 'manager'") == 0
    )
    window_start = AS_OF.replace(year=AS_OF.year - 3)
    hired_in_window = one(
        con, "SELECT avg((hire_date > ?)::int) FROM reps WHERE role = 'rep'", [window_start]
    )
    assert 0.3 <= hired_in_window <= 0.6


def test_accounts_and_products(con: duckdb.DuckDBPyConnection) -> None:
    assert 1000 <= one(con, "SELECT count(*) FROM accounts") <= 2000
    assert set(
        r[0] for r in con.execute("SELECT DISTINCT size_band FROM accounts").fetchall()
    ) == set(SIZE_BANDS)
    assert one(con, "SELECT count(DISTINCT industry) FROM accounts") >= 5
    mismatched = one(
        con,
        """SELECT count(*) FROM accounts a JOIN reps r ON r.rep_id = a.owner_rep_id
           WHERE r.region_id <> a.region_id OR r.role <> 'rep'""",
    )
    assert mismatched == 0
    names = [r[0] for r in con.execute("SELECT account_name FROM accounts").fetchall()]
    for special in ("<", ">", "&", "'", '"', "ß"):
        assert any(special in n for n in names), special
    assert 40 <= one(con, "SELECT count(*) FROM products") <= 60
    assert 5 <= one(con, "SELECT count(DISTINCT family) FROM products") <= 6
    assert one(con, "SELECT min(list_price) FROM products") > 0


def test_order_lines_arithmetic_and_order_shape(con: duckdb.DuckDBPyConnection) -> None:
    wrong = one(
        con,
        """SELECT count(*) FROM order_lines
           WHERE CAST(amount AS DECIMAL(18, 2))
                 <> round(quantity * CAST(unit_price AS DECIMAL(18, 2))
                 * (1 - CAST(discount AS DECIMAL(4, 2))), 2)""",
    )
    assert wrong == 0
    # no amount sits on a half cent, so double-precision arithmetic agrees too
    wrong_in_double = one(
        con,
        """SELECT count(*) FROM order_lines
           WHERE abs(amount - round(quantity * unit_price * (1 - discount), 2)) > 0.001""",
    )
    assert wrong_in_double == 0
    assert (
        one(
            con,
            "SELECT count(*) FROM order_lines WHERE quantity < 1 OR discount NOT BETWEEN 0 AND 0.6",
        )
        == 0
    )
    lines = con.execute(
        """SELECT min(n), max(n), bool_and(max_line = n) FROM (
             SELECT order_id, count(*) n, max(line_number) max_line FROM order_lines GROUP BY 1)"""
    ).fetchone()
    assert lines == (1, 5, True)
    single_date = one(
        con,
        """SELECT count(*) FROM (SELECT order_id FROM order_lines GROUP BY 1
           HAVING count(DISTINCT order_date) > 1)""",
    )
    assert single_date == 0
    # a line is sold by the account's owner, on or after the account was created
    bad_rep = one(
        con,
        """SELECT count(*) FROM order_lines o JOIN accounts a USING (account_id)
           WHERE o.rep_id <> a.owner_rep_id OR o.order_date < a.created_date""",
    )
    assert bad_rep == 0


def test_line_amount_is_exact_and_half_cents_are_avoided() -> None:
    quantity = np.array([10, 1, 3])
    price = np.array([1369.99, 0.01, 19.99])
    discount = np.array([0.25, 0.5, 0.6])
    # 10 x 1369.99 x 0.75 = 10274.925 and 1 x 0.01 x 0.5 = 0.005: halves round up
    assert line_amount(quantity, price, discount).tolist() == [10274.93, 0.01, 23.99]
    moved = avoid_half_cents(quantity, price, discount)
    assert moved.tolist() == [0.26, 0.51, 0.6]  # 3 x 19.99 x 0.4 = 23.988 is no half
    assert discount.tolist() == [0.25, 0.5, 0.6]  # input untouched
    # 10 x 1369.99 x 0.74 = 10137.926; 1 x 0.01 x 0.49 = 0.0049
    assert line_amount(quantity, price, moved).tolist() == [10137.93, 0.0, 23.99]


def test_last_snapshot_holds_three_years_of_orders(con: duckdb.DuckDBPyConnection) -> None:
    first, last = con.execute("SELECT min(order_date), max(order_date) FROM order_lines").fetchone()
    assert first >= AS_OF.replace(year=AS_OF.year - 3)
    assert last <= AS_OF
    assert (last - first).days >= 3 * 365 - 10


def test_each_snapshot_only_holds_data_up_to_its_date(runs: TinyRuns) -> None:
    last = connect(runs.first[-1])
    for folder in runs.first:
        day = dt.date.fromisoformat(folder.name)
        c = connect(folder)
        assert one(c, "SELECT max(order_date) FROM order_lines") <= day
        assert one(c, "SELECT max(created_date) FROM opportunities") <= day
        assert one(c, "SELECT max(entered_date) FROM opportunity_stage_history") <= day
        # the same order lines as the last snapshot, cut at this date
        expected = one(last, "SELECT count(*) FROM order_lines WHERE order_date <= ?", [day])
        assert one(c, "SELECT count(*) FROM order_lines") == expected


def test_opportunities_and_stage_history(con: duckdb.DuckDBPyConnection) -> None:
    # at least MIN_OPPORTUNITIES (10k) are drawn: enough won deals per rep (issue 12); nearly
    # all were created by the as-of date
    assert 9000 <= one(con, "SELECT count(*) FROM opportunities") <= 10_000
    assert one(con, "SELECT count(*) FROM opportunities WHERE close_date < created_date") == 0
    assert one(con, "SELECT count(*) FROM prev_opportunities WHERE close_date < created_date") == 0
    assert {
        r[0] for r in con.execute("SELECT DISTINCT stage FROM opportunities").fetchall()
    } == set(STAGES)
    # forecast category follows the stage
    rows = con.execute("SELECT DISTINCT stage, forecast_category FROM opportunities").fetchall()
    expected = {
        "Prospecting": "Pipeline", "Qualification": "Pipeline", "Proposal": "Best Case",
        "Negotiation": "Commit", "Closed Won": "Closed", "Closed Lost": "Omitted",
    }  # fmt: skip
    assert all(expected[stage] == category for stage, category in rows)
    assert {c for _, c in rows} <= set(FORECAST_CATEGORIES)
    # histories start in Prospecting at the created date, run in funnel order without gaps,
    # and end in the opportunity's current stage
    bad = one(
        con,
        """WITH h AS (
             SELECT *, row_number() OVER w rn, lag(entered_date) OVER w prev_date,
                    lag(stage) OVER w prev_stage,
                    max(sequence) OVER (PARTITION BY opportunity_id) last_seq
             FROM opportunity_stage_history
             WINDOW w AS (PARTITION BY opportunity_id ORDER BY sequence))
           SELECT count(*) FROM h JOIN opportunities o USING (opportunity_id)
           WHERE h.sequence <> h.rn
              OR (h.sequence = 1 AND (h.stage <> 'Prospecting' OR h.entered_date <> o.created_date))
              OR h.entered_date < h.prev_date
              OR (h.prev_stage LIKE 'Closed%')
              OR (h.sequence = h.last_seq AND h.stage <> o.stage)
              OR (h.stage NOT LIKE 'Closed%' AND h.sequence > 1 AND h.stage <> (
                    ['Prospecting', 'Qualification', 'Proposal', 'Negotiation'])[h.sequence])""",
    )
    assert bad == 0
    missing = one(
        con,
        """SELECT count(*) FROM opportunities o
           WHERE NOT EXISTS (SELECT 1 FROM opportunity_stage_history h
                             WHERE h.opportunity_id = o.opportunity_id)""",
    )
    assert missing == 0
    # losses happen from every open stage
    lost_from = con.execute(
        """SELECT DISTINCT p.stage FROM opportunity_stage_history h
           JOIN opportunity_stage_history p ON p.opportunity_id = h.opportunity_id
            AND p.sequence = h.sequence - 1
           WHERE h.stage = 'Closed Lost'"""
    ).fetchall()
    assert {r[0] for r in lost_from} == set(STAGES[:4])
    # closed deals carry their close date as the closing stage's entry date
    mismatch = one(
        con,
        """SELECT count(*) FROM opportunities o JOIN opportunity_stage_history h
             ON h.opportunity_id = o.opportunity_id AND h.stage = o.stage
           WHERE o.stage LIKE 'Closed%' AND h.entered_date <> o.close_date""",
    )
    assert mismatch == 0
    assert one(con, "SELECT max(push_count) FROM opportunities") >= 1


def test_quotas_cover_every_rep_month_since_hire(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT min(quota_amount) FROM quotas") > 0
    missing = one(
        con,
        """SELECT count(*) FROM reps r, (SELECT DISTINCT month FROM quotas) m
           WHERE r.role = 'rep' AND m.month >= date_trunc('month', r.hire_date)
             AND NOT EXISTS (SELECT 1 FROM quotas q
                             WHERE q.rep_id = r.rep_id AND q.month = m.month)""",
    )
    assert missing == 0
    # plans are set ahead: through the end of the quarter after the as-of quarter (Q4 2026 ->
    # Q1 2027), so every rep has a quota in December and January-March
    assert one(con, "SELECT max(month) FROM quotas") == dt.date(2027, 3, 1)
    assert one(con, "SELECT max(month) FROM region_targets") == dt.date(2027, 3, 1)
    planned = con.execute(
        "SELECT DISTINCT month FROM quotas WHERE month > ? ORDER BY month", [AS_OF]
    ).fetchall()
    assert [row[0] for row in planned] == [dt.date(2026, 12, 1)] + [
        dt.date(2027, m, 1) for m in (1, 2, 3)
    ]
    # region targets are the sum of the region's quotas
    off = one(
        con,
        """SELECT max(abs(t.target_amount - coalesce(s.total, 0))) FROM region_targets t
           LEFT JOIN (SELECT r.region_id, q.month, sum(q.quota_amount) total
                      FROM quotas q JOIN reps r USING (rep_id) GROUP BY ALL) s
           USING (region_id, month)""",
    )
    assert off < 0.01


@pytest.mark.parametrize(
    ("as_of", "last_planned"),
    [
        (dt.date(2026, 11, 23), dt.date(2027, 3, 1)),
        (dt.date(2026, 12, 31), dt.date(2027, 3, 1)),
        (dt.date(2026, 10, 1), dt.date(2027, 3, 1)),
        (dt.date(2026, 1, 1), dt.date(2026, 6, 1)),
        (dt.date(2026, 9, 30), dt.date(2026, 12, 1)),
    ],
)
def test_plan_runs_through_the_end_of_the_next_quarter(
    as_of: dt.date, last_planned: dt.date
) -> None:
    calendar = build_calendar(as_of, weeks=1)
    assert calendar.plan_months[-1] == last_planned
    assert calendar.plan_months[: len(calendar.months)] == calendar.months
    assert calendar.months[-1] == as_of.replace(day=1)


def test_marts_keep_attainment_to_as_of_and_targets_ahead(runs: TinyRuns) -> None:
    snapshot = open_snapshot(runs.first[-1].parent, AS_OF, verify=True)
    with Warehouse(snapshot, threads=1, memory_limit="512MB") as wh:
        attainment = wh.table("fct_quota_attainment", columns=["month"])
        targets = wh.table("fct_region_targets")
    assert pd.to_datetime(attainment["month"]).max() == pd.Timestamp(2026, 11, 1)
    later = targets[pd.to_datetime(targets["month"]) > pd.Timestamp(AS_OF)]
    assert sorted(pd.to_datetime(later["month"]).dt.strftime("%Y-%m").unique()) == [
        "2026-12", "2027-01", "2027-02", "2027-03",
    ]  # fmt: skip
    assert not later["is_complete_month"].astype(bool).any()
    assert (later["bookings_amount"].astype(float) == 0).all()
    assert (later["target_amount"].astype(float) > 0).all()


def test_truth_records_the_plan_horizon(runs: TinyRuns) -> None:
    truth = json.loads((runs.first[-1] / "_truth.json").read_text())
    assert truth["rep_performance"]["plan_through"] == "2027-03-01"


# --- bad input ---------------------------------------------------------------------------------


def test_resolve_scale_accepts_names_and_numbers() -> None:
    assert resolve_scale("tiny") == 5_000
    assert resolve_scale("small") == 50_000
    assert resolve_scale("Default") == 500_000
    assert resolve_scale("large") == 10_000_000
    assert resolve_scale("huge") == 50_000_000
    assert resolve_scale(1000) == 1000
    assert resolve_scale("250000") == 250_000


@pytest.mark.parametrize("bad", ["enormous", "", "12abc", 999, 100_000_001, -5, 1.5, True, None])
def test_resolve_scale_rejects_bad_input(bad: object) -> None:
    with pytest.raises(ParameterError, match=r"demo scale .* not allowed; use one of tiny, small"):
        resolve_scale(bad)  # type: ignore[arg-type]


def test_bad_date_weeks_and_seed_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="not a date; use YYYY-MM-DD"):
        generate_demo(tmp_path, "2026-13-45", scale="tiny", regions=REGIONS)
    with pytest.raises(ParameterError, match="demo weeks 0"):
        generate_demo(tmp_path, AS_OF, scale="tiny", weeks=0, regions=REGIONS)
    with pytest.raises(ParameterError, match="demo seed"):
        generate_demo(tmp_path, AS_OF, seed=-1, scale="tiny", regions=REGIONS)
    with pytest.raises(ParameterError, match="demo scale"):
        generate_demo(tmp_path, AS_OF, scale="gigantic", regions=REGIONS)
    assert list(tmp_path.iterdir()) == []


def test_existing_snapshot_is_not_overwritten_without_overwrite(tmp_path: Path) -> None:
    (first,) = generate(tmp_path, 1000, weeks=1, seed=1)
    before = (first / "order_lines.parquet").read_bytes()
    with pytest.raises(SnapshotError, match="already exists"):
        generate(tmp_path, 1000, weeks=1, seed=2)
    assert (first / "order_lines.parquet").read_bytes() == before
    generate_demo(tmp_path, AS_OF, seed=2, scale=1000, weeks=1, regions=REGIONS, overwrite=True)
    assert (first / "order_lines.parquet").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == [AS_OF.isoformat()]  # no temp folders
