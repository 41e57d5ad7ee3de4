"""Benchmark: a year of compensation payouts (target: 1,000 reps, 1M lines, < 30 s, < 2 GB).

Synthetic, seeded inputs: ``--reps`` reps split over three plans that use the heavy features
(marginal monthly plan on attainment, period to date, with a mid-year rate change, gate, deal cap,
period cap with carry-over, SPIF, draw and quarterly true-up; a retroactive quarterly plan on
amount with ``retro_from_tier``; a per-transaction overlay plan), ``--lines`` credited lines
spread over one year, monthly quotas, 0.5% of the deals cancelled. The engine
(:func:`~salesops_lib.analytics.compensation.calculate_payouts`) runs in a child process of its
own, so its peak RSS is its own; input generation is not timed. Wall seconds and CPU seconds are
both shown: on a shared machine the wall time includes waiting for a core. Prints (and writes with
``--out``) a markdown table: reps, lines, payout rows, line rows, seconds, peak RSS.

Usage::

    python -m tests.bench.bench_comp [--reps 1000] [--lines 1000000] [--out reports/bench/comp.md]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

YEAR = 2026
PLANS_YAML = """
plans:
  AE:
    period: month
    credit: {rule: split, type: revenue}
    tier_basis: attainment
    tier_mode: marginal
    accumulate: period_to_date
    rate_tables:
      - effective: 2026-01-01
        tiers:
          - {from: 0, to: 50, rate: 0.04}
          - {from: 50, to: 100, rate: 0.06}
          - {from: 100, rate: 0.10}
      - effective: 2026-07-01
        tiers:
          - {from: 0, to: 50, rate: 0.04}
          - {from: 50, to: 100, rate: 0.07}
          - {from: 100, rate: 0.12}
    gate: {min_attainment: 25, rate_factor: 0.5}
    deal_cap: 5000
    period_cap: {amount: 20000, carry_over: true}
    spifs:
      - {name: Q3 push, start: 2026-07-01, end: 2026-09-30, per_deal: 100, min_amount: 5000,
         budget: 50000}
    draw: {amount: 2000, periods: 3, recoverable: true, recovery_pct: 50}
    clawback: {window_days: 90}
    true_up: quarterly
    ramp: [50, 75]
  RETRO:
    period: quarter
    tier_basis: amount
    tier_mode: retroactive
    retro_from_tier: 2
    accumulate: period_to_date
    rate_tables:
      - tiers:
          - {from: 0, to: 100000, rate: 0.05}
          - {from: 100000, to: 250000, rate: 0.07}
          - {from: 250000, rate: 0.10}
    gate: {min_attainment: 50}
    clawback: {window_days: 180}
    true_up: annual
  OVERLAY:
    period: quarter
    credit: {rule: split, type: overlay}
    tier_basis: amount
    tier_mode: marginal
    accumulate: per_transaction
    rate_tables:
      - tiers:
          - {from: 0, to: 5000, rate: 0.01}
          - {from: 5000, rate: 0.015}
"""


def make_inputs(reps: int, lines: int, folder: Path, seed: int = 7) -> None:
    """Write plans.yml, credits.parquet, quotas.parquet, cancellations.parquet, hires.parquet."""
    rng = np.random.default_rng(seed)
    rep_ids = [f"R{i:05d}" for i in range(reps)]
    plan_of = ["AE" if i % 10 < 7 else "RETRO" if i % 10 < 9 else "OVERLAY" for i in range(reps)]
    assignments = "\n".join(
        f"  - {{rep_id: {rep}, plan: {plan}, start: {YEAR}-01-01}}"
        for rep, plan in zip(rep_ids, plan_of, strict=True)
    )
    (folder / "plans.yml").write_text(PLANS_YAML + "assignments:\n" + assignments + "\n")
    days = pd.Timestamp(f"{YEAR}-01-01") + pd.to_timedelta(rng.integers(0, 365, lines), unit="D")
    amounts = np.round(rng.lognormal(8.0, 1.0, lines), 2)
    refunds = rng.random(lines) < 0.02
    amounts[refunds] = -np.round(amounts[refunds] / 4, 2)
    credits = pd.DataFrame(
        {
            "rep_id": np.array(rep_ids)[rng.integers(0, reps, lines)],
            "credit_date": days,
            "amount": amounts,
            "deal_id": [f"D{i:07d}" for i in range(lines)],
            "split_pct": 100.0,
        }
    )
    credits.to_parquet(folder / "credits.parquet")
    months = pd.date_range(f"{YEAR}-01-01", periods=12, freq="MS")
    quotas = pd.DataFrame(
        {
            "rep_id": np.repeat(rep_ids, 12),
            "period_start": np.tile(months, reps),
            "quota": np.round(np.repeat(rng.uniform(2, 6, reps), 12) * lines / reps / 12 * 3000, 2),
        }
    )
    quotas.to_parquet(folder / "quotas.parquet")
    cancelled = credits.sample(frac=0.005, random_state=seed)
    cancellations = pd.DataFrame(
        {
            "deal_id": cancelled["deal_id"].to_numpy(),
            "cancel_date": cancelled["credit_date"].to_numpy() + np.timedelta64(30, "D"),
        }
    )
    cancellations.to_parquet(folder / "cancellations.parquet")
    hires = pd.DataFrame(
        {"rep_id": rep_ids[: reps // 10], "hire_date": pd.Timestamp(f"{YEAR}-01-01")}
    )
    hires.to_parquet(folder / "hires.parquet")


def run_engine(folder: Path) -> dict[str, float | int]:
    """Load the inputs and time one full-year calculation (runs in the child process)."""
    from salesops_lib.analytics.compensation import calculate_payouts, load_plan_book

    book = load_plan_book(folder / "plans.yml")
    credits = pd.read_parquet(folder / "credits.parquet")
    quotas = pd.read_parquet(folder / "quotas.parquet")
    cancellations = pd.read_parquet(folder / "cancellations.parquet")
    hires = pd.read_parquet(folder / "hires.parquet")
    start = time.perf_counter()
    cpu_start = time.process_time()
    result = calculate_payouts(book, credits, quotas, cancellations=cancellations, hire_dates=hires)
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(time.process_time() - cpu_start, 1),
        "payout_rows": len(result.payouts),
        "line_rows": len(result.lines),
        "total_payout": round(float(result.payouts["payout"].sum()), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Generate the inputs, run the engine in a child process, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_engine(args.child)))
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench_comp_") as tmp:
        folder = Path(tmp)
        make_inputs(args.reps, args.lines, folder)
        done = subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_comp", "--child", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    table = "\n".join(
        [
            "# Compensation engine: a year of payouts",
            "",
            "| reps | credited lines | payout rows | line rows | seconds (wall) | CPU seconds "
            "| peak RSS (MB) | target |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
            f"| {args.reps:,} | {args.lines:,} | {result['payout_rows']:,} | "
            f"{result['line_rows']:,} | {result['seconds']} | {result['cpu_seconds']} | "
            f"{result['peak_rss_mb']:,} | "
            "< 30 s, < 2,048 MB |",
            "",
        ]
    )
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)


if __name__ == "__main__":
    main()
