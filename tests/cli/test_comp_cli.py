"""``salesops comp``: calculate, lock, runs and compare, end to end on small hand-made files.

The plan pays marginal brackets on each month's running total: 0-10k at 5%, 10k-25k at 7%,
25k and up at 10% (the public example: 30,000 pays 500 + 1,050 + 500 = 2,050). R2's 8,000 pays
400 in January and 12,000 pays 500 + 140 = 640 in February.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from salesops_lib.cli import app
from tests.conftest import Workspace, make_workspace

RUNNER = CliRunner()
PLAN = """\
version: 1
currency: USD
plans:
  BRACKETS:
    name: Marginal brackets
    period: month
    ote: 100000
    base_pct: 50
    credit: {{rule: owner}}
    tier_basis: amount
    tier_mode: {mode}
    accumulate: period_to_date
    clawback: {{window_days: 90}}
    rate_tables:
      - effective: 2026-01-01
        tiers:
          - {{from: 0, to: 10000, rate: 0.05}}
          - {{from: 10000, to: 25000, rate: 0.07}}
          - {{from: 25000, rate: 0.10}}
assignments:
  - {{rep_id: R1, plan: BRACKETS, start: 2026-01-01}}
  - {{rep_id: R2, plan: BRACKETS, start: 2026-01-01}}
"""
CREDITS = """\
rep_id,credit_date,amount,deal_id
R1,2026-01-10,30000,D1
R2,2026-01-12,8000,D2
R2,2026-02-03,12000,D3
"""
QUOTAS = """\
rep_id,period_start,quota
R1,2026-01-01,50000
R1,2026-02-01,50000
R2,2026-01-01,40000
R2,2026-02-01,40000
"""
PAYOUT_HEADER = (
    "rep_id,plan_id,period,period_start,period_end,quota,credit,attainment,commission,spif,"
    "clawback,draw,draw_recovery,true_up,capped_excess,held,payout,gate_met,capped,locked,"
    "adjustment,payout_due"
)
ZEROS = "0.00,0.00,0.00,0.00,0.00,0.00,0.00"  # spif .. held


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "plans": tmp_path / "plans.yml",
        "retro": tmp_path / "retro.yml",
        "credits": tmp_path / "credits.csv",
        "quotas": tmp_path / "quotas.csv",
    }
    paths["plans"].write_text(PLAN.format(mode="marginal"))
    paths["retro"].write_text(PLAN.format(mode="retroactive"))
    paths["credits"].write_text(CREDITS)
    paths["quotas"].write_text(QUOTAS)
    return paths


@pytest.fixture()
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws")


def comp(workspace: Workspace, *args: str | Path) -> Result:
    return RUNNER.invoke(app, ["comp", *map(str, args)], env=workspace.env())


def calculate(workspace: Workspace, files: dict[str, Path], out: Path, *extra: str) -> Result:
    return comp(
        workspace,
        "calculate",
        files["plans"],
        "--credits",
        files["credits"],
        "--quotas",
        files["quotas"],
        "--output",
        out,
        *extra,
    )


def test_calculate_writes_exact_payouts_and_lines(
    workspace: Workspace, files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out" / "payouts.csv"
    result = calculate(workspace, files, out, "--period", "2026-01")
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines() == [
        PAYOUT_HEADER,
        f"R1,BRACKETS,2026-01,2026-01-01,2026-01-31,50000.00,30000.00,0.6,2050.00,{ZEROS},"
        "2050.00,True,False,False,0.00,2050.00",
        f"R2,BRACKETS,2026-01,2026-01-01,2026-01-31,40000.00,8000.00,0.2,400.00,{ZEROS},"
        "400.00,True,False,False,0.00,400.00",
    ]
    lines = pd.read_csv(tmp_path / "out" / "payouts.lines.csv", keep_default_na=False)
    assert lines[["rep_id", "deal_id", "tier", "rate", "amount", "kind"]].values.tolist() == [
        ["R1", "D1", "T1", 0.05, 500.0, "commission"],
        ["R1", "D1", "T2", 0.07, 1050.0, "commission"],
        ["R1", "D1", "T3", 0.10, 500.0, "commission"],
        ["R2", "D2", "T1", 0.05, 400.0, "commission"],
    ]
    assert "payout due 2,450.00" in result.stderr
    runs = list((workspace.snapshots.parent / "comp_ledger" / "runs").iterdir())
    assert len(runs) == 1, "the run is recorded in the configured ledger (beside the snapshots)"


def test_lock_then_cancel_posts_an_adjustment_in_the_next_month(
    workspace: Workspace, files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "payouts.csv"
    assert calculate(workspace, files, out, "--as-of", "2026-02-28").exit_code == 0
    locked = comp(workspace, "lock", "2026-01", "--reason", "January payroll", "--by", "ops")
    assert locked.exit_code == 0, locked.output
    assert locked.stdout.startswith("locked 2026-01 (run 000001-")
    cancellations = tmp_path / "cancellations.csv"
    cancellations.write_text("deal_id,cancel_date\nD1,2026-01-25\n")
    result = calculate(
        workspace,
        files,
        out,
        "--as-of",
        "2026-02-28",
        "--cancellations",
        str(cancellations),
        "--reason",
        "D1 cancelled",
    )
    assert result.exit_code == 0, result.output
    assert "1 prior-period adjustment(s) posted for locked periods, total -2,050.00" in (
        result.stderr
    )
    payouts = pd.read_csv(out, keep_default_na=False)
    view = payouts[["rep_id", "period", "payout", "locked", "adjustment", "payout_due"]]
    assert view.values.tolist() == [
        ["R1", "2026-01", 2050.0, True, 0.0, 2050.0],  # locked: unchanged
        ["R1", "2026-02", 0.0, False, -2050.0, -2050.0],  # the clawback, posted in February
        ["R2", "2026-01", 400.0, True, 0.0, 400.0],
        ["R2", "2026-02", 640.0, False, 0.0, 640.0],
    ]
    lines = pd.read_csv(tmp_path / "payouts.lines.csv", keep_default_na=False)
    adjustment = lines[lines["kind"] == "adjustment"]
    assert adjustment[["rep_id", "period", "amount"]].values.tolist() == [
        ["R1", "2026-02", -2050.0]
    ]
    assert adjustment["note"].iloc[0] == (
        "prior-period adjustment for 2026-01: D1 cancelled: deal D1 clawback added (-2,050.00) "
        "(booked 2,050.00, now 0.00)"
    )
    listed = comp(workspace, "runs")
    assert listed.exit_code == 0, listed.output
    assert "3,090.00" in listed.stdout and "1,040.00" in listed.stdout
    assert "locked 2026-01" in listed.stdout and "January payroll" in listed.stdout
    again = comp(workspace, "lock", "2026-01")
    assert again.exit_code == 2
    assert again.stderr.startswith("error: period 2026-01 is already locked (by 'ops'")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "credits",
            "rep_id,credit_date,amount\nR1,2026-01-10,100\nR1,2026-01-11,12.345\n",
            "credits.csv: row 3, column amount: not a number with at most 2 decimals",
        ),
        (
            "credits",
            "rep_id,amount\nR1,100\n",
            "credits.csv: row 1, column credit_date: missing required column",
        ),
        (
            "quotas",
            "rep_id,period_start,quota\nR1,2026-13-01,100\n",
            "quotas.csv: row 2, column period_start: not a date YYYY-MM-DD",
        ),
        ("plans", "plans: [1, 2\n", "plans.yml:"),
        (
            "plans",
            PLAN.format(mode="marginal").replace("to: 25000, rate", "to: 26000, rate"),
            "plans.yml:",
        ),
    ],
)
def test_bad_files_give_a_short_error_and_exit_code(
    workspace: Workspace,
    files: dict[str, Path],
    tmp_path: Path,
    name: str,
    content: str,
    message: str,
) -> None:
    files[name].write_text(content)
    result = calculate(workspace, files, tmp_path / "p.csv")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert 1 <= len(errors) <= 2 and message in errors[0], result.stderr
    assert str(files[name]) in errors[0]
    assert not (tmp_path / "p.csv").exists()
    assert not (workspace.snapshots.parent / "comp_ledger").exists()


def test_missing_snapshot_and_bad_period_are_clear(
    workspace: Workspace, files: dict[str, Path], tmp_path: Path
) -> None:
    result = comp(workspace, "calculate", files["plans"], "--output", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no snapshots in ")
    result = comp(workspace, "lock", "2026-1")
    assert result.exit_code == 2
    assert "period '2026-1' is not a period label" in result.stderr
    result = comp(workspace, "lock", "2026-01")
    assert result.exit_code == 2
    assert "no recorded payout run has a row in period 2026-01" in result.stderr


def test_compare_two_plans(workspace: Workspace, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "compare.csv"
    result = comp(
        workspace,
        "compare",
        files["plans"],
        files["retro"],
        "--credits",
        files["credits"],
        "--quotas",
        files["quotas"],
        "--as-of",
        "2026-02-28",
        "--output",
        out,
    )
    assert result.exit_code == 0, result.output
    scenarios = pd.read_csv(out)
    plan = scenarios[scenarios["scenario"] == "plan"]
    # marginal 2,050 + 400 + 640; retroactive 3,000 + 400 + 840 (see tests/analytics/...whatif)
    assert plan[["book", "payout", "credit"]].values.tolist() == [
        ["plans", 3090.0, 50000.0],
        ["retro", 4240.0, 50000.0],
    ]
    assert scenarios["scenario"].tolist() == ["-20%", "plan", "+20%"] * 2
    reps = pd.read_csv(tmp_path / "compare.reps.csv")
    assert reps[["rep_id", "change", "outcome"]].values.tolist() == [
        ["R1", 950.0, "wins"],
        ["R2", 200.0, "wins"],
    ]
    assert "Cost of sales by plan and attainment scenario" in result.stdout
    assert "6.18%" in result.stdout and "8.48%" in result.stdout
    assert "retro vs plans: 2 win, 0 lose, 0 unchanged" in result.stdout
    assert "cliff in retro plan BRACKETS" in result.stdout
    assert "cliff in plans plan" not in result.stdout
    one = comp(workspace, "compare", files["plans"], "--credits", files["credits"])
    assert one.exit_code == 2 and "at least two plans files" in one.stderr


FLAT_PLAN = """\
plans:
  FLAT:
    period: month
    ote: 100000
    base_pct: 50
    credit: {{rule: owner}}
    tier_basis: amount
    tier_mode: marginal
    accumulate: per_transaction
    rate_tables:
      - effective: 2026-01-01
        tiers:
          - {{from: 0, rate: 0.1}}
assignments:
  - {{rep_id: {first}, plan: FLAT, start: 2026-01-01}}
  - {{rep_id: {second}, plan: FLAT, start: 2026-01-01}}
"""


def test_calculate_from_the_latest_snapshot(tiny_workspace: Workspace, tmp_path: Path) -> None:
    """Without --credits/--quotas the latest snapshot's bookings are credited; checked against
    a plain pandas sum of the snapshot's order lines (10% of each month's bookings)."""
    from decimal import ROUND_HALF_UP, Decimal

    from salesops_lib.data.snapshot import list_snapshots

    as_of = list_snapshots(tiny_workspace.snapshots)[-1]
    folder = tiny_workspace.snapshots / as_of.isoformat()
    order_lines = pd.read_parquet(folder / "order_lines.parquet")
    order_lines["order_date"] = pd.to_datetime(order_lines["order_date"])
    reps = pd.read_parquet(folder / "reps.parquet")
    sellers = reps.loc[reps["role"] != "manager", "rep_id"]
    busiest = order_lines[order_lines["rep_id"].isin(sellers)]["rep_id"].value_counts()
    first, second = sorted(busiest.index[:2])
    plans = tmp_path / "flat.yml"
    plans.write_text(FLAT_PLAN.format(first=first, second=second))
    out = tmp_path / "payouts.csv"
    result = RUNNER.invoke(
        app,
        ["comp", "calculate", str(plans), "--output", str(out), "--ledger", str(tmp_path / "l")],
        env=tiny_workspace.env(),
    )
    assert result.exit_code == 0, result.output
    booked = order_lines[
        order_lines["rep_id"].isin([first, second])
        & (order_lines["order_date"] >= "2026-01-01")
        & (order_lines["order_date"] <= pd.Timestamp(as_of))
    ]
    expected = {}
    for (rep, month), part in booked.groupby(["rep_id", booked["order_date"].dt.strftime("%Y-%m")]):
        total = sum(Decimal(f"{amount:.2f}") for amount in part["amount"]) * Decimal("0.1")
        expected[(rep, month)] = float(total.quantize(Decimal("0.01"), ROUND_HALF_UP))
    payouts = pd.read_csv(out)
    got = {(r.rep_id, r.period): r.payout for r in payouts.itertuples() if r.payout != 0}
    assert got == expected
    assert len(expected) >= 3
    run_folder = next((tmp_path / "l" / "runs").iterdir())
    manifest = (run_folder / "run.json").read_text()
    assert f"snapshot {as_of.isoformat()}" in manifest
