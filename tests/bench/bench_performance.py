"""Benchmarks of the performance diagnosis (issue 4), each case in its own process.

Cases:

* ``waterfall``: the pipeline waterfall (deal rows, bars per region and the reconciliation)
  over two synthetic snapshots of ``--opportunities`` opportunities each (default 1M).
* ``diagnosis``: generate demo data of ``--scale`` order lines (two weekly snapshots), build
  its analytics store (timed apart), then time
  :func:`~salesops_lib.reports.performance.load.load_performance` +
  :func:`~salesops_lib.reports.performance.diagnosis.diagnose` for one region and for every
  region plus ``all``.

Peak memory is the process's peak resident set size. Usage::

    python -m tests.bench.bench_performance                 # both cases, default sizes
    python -m tests.bench.bench_performance --scale 10000000
    python -m tests.bench.bench_performance waterfall --opportunities 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ("apac", "dach", "latam", "na-central", "na-east", "na-west", "nordics", "uki")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_snapshots(opportunities: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two snapshots of the same opportunities a week apart, with every kind of movement.

    Args:
        opportunities: Opportunities in the earlier snapshot.
        seed: Random seed.

    Returns:
        ``(earlier, later)`` frames with the waterfall's columns; the later one drops 0.5% of
        the deals and adds 2% new ones.
    """
    rng = np.random.default_rng(seed)
    n = opportunities
    ids = np.char.add("OPP-", np.arange(n).astype(str))
    region = rng.choice(np.array(REGIONS), n)
    amount = np.round(rng.lognormal(10, 1, n), 2)
    close = pd.Timestamp("2026-10-01") + pd.to_timedelta(rng.integers(0, 180, n), unit="D")
    closed = rng.random(n) < 0.3
    earlier = pd.DataFrame(
        {
            "opportunity_id": ids,
            "region_id": region,
            "amount": amount,
            "close_date": close,
            "is_closed": closed,
            "is_won": closed & (rng.random(n) < 0.5),
        }
    )
    later = earlier.copy()
    move = rng.random(n)
    shift = rng.integers(-40, 60, n)
    later["close_date"] = later["close_date"] + pd.to_timedelta(
        np.where(move < 0.1, shift, 0), unit="D"
    )
    later["amount"] = np.where(
        (move > 0.1) & (move < 0.2), np.round(amount * rng.uniform(0.5, 1.5, n), 2), amount
    )
    now_closed = ~closed & (move > 0.95)
    later["is_closed"] = closed | now_closed
    later["is_won"] = earlier["is_won"] | (now_closed & (rng.random(n) < 0.5))
    later = later[rng.random(n) > 0.005]
    extra = n // 50
    new = pd.DataFrame(
        {
            "opportunity_id": np.char.add("NEW-", np.arange(extra).astype(str)),
            "region_id": rng.choice(np.array(REGIONS), extra),
            "amount": np.round(rng.lognormal(10, 1, extra), 2),
            "close_date": pd.Timestamp("2026-11-01")
            + pd.to_timedelta(rng.integers(0, 120, extra), unit="D"),
            "is_closed": False,
            "is_won": False,
        }
    )
    return earlier, pd.concat([later, new], ignore_index=True)


def waterfall_case(opportunities: int) -> dict[str, Any]:
    """Time the waterfall over two synthetic snapshots."""
    from salesops_lib.analytics.performance import waterfall as wf

    earlier, later = synthetic_snapshots(opportunities)
    window = ("2026-10-01", "2026-12-31")
    timings = {}
    start = time.perf_counter()
    deals = wf.waterfall_deals(earlier, later, *window)
    timings["deals_s"] = time.perf_counter() - start
    start = time.perf_counter()
    bars = wf.pipeline_waterfall(earlier, later, *window, by_group=True)
    timings["bars_by_region_s"] = time.perf_counter() - start
    start = time.perf_counter()
    recon = wf.waterfall_reconciliation(earlier, later, *window)
    timings["reconciliation_s"] = time.perf_counter() - start
    return {
        "case": "waterfall",
        "opportunities": opportunities,
        "deal_rows": len(deals),
        "bars": len(bars),
        "reconciles": bool(recon["reconciles"].all()),
        **{k: round(v, 3) for k, v in timings.items()},
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def diagnosis_case(scale: int, region: str) -> dict[str, Any]:
    """Generate demo data, then time load + diagnose for one region or for every region."""
    from salesops_lib.analytics.build import build_store
    from salesops_lib.core.config import Region
    from salesops_lib.reports import performance
    from salesops_lib.sources.demo import generate_demo

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "snapshots"
        start = time.perf_counter()
        generate_demo(
            folder,
            dt.date(2026, 11, 23),
            seed=42,
            scale=scale,
            weeks=2,
            regions=[Region(id=r, name=r) for r in REGIONS],
        )
        generate_s = time.perf_counter() - start
        start = time.perf_counter()
        build_store(None, snapshots_dir=folder)  # the analytics store, once per snapshot
        build_s = time.perf_counter() - start
        regions = [region] if region != "every" else [*REGIONS, "all"]
        start = time.perf_counter()
        for name in regions:
            with performance.open_report_warehouse(name, "", snapshots_dir=folder) as warehouse:
                data = performance.load_performance(warehouse, name, snapshots_dir=folder)
            performance.diagnose(data)
        diagnose_s = time.perf_counter() - start
    return {
        "case": "diagnosis",
        "scale": scale,
        "regions": region,
        "generate_s": round(generate_s, 2),
        "build_store_s": round(build_s, 2),
        "load_and_diagnose_s": round(diagnose_s, 2),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def _in_process(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_performance", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Run one case (``waterfall`` / ``diagnosis``) or, with no case, all of them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", nargs="?", choices=["waterfall", "diagnosis"])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--scale", type=int, default=500_000)
    parser.add_argument("--region", default="dach", help="a region id, 'all' or 'every'")
    args = parser.parse_args(argv)
    if args.case == "waterfall":
        print(json.dumps(waterfall_case(args.opportunities)))
        return
    if args.case == "diagnosis":
        print(json.dumps(diagnosis_case(args.scale, args.region)))
        return
    results = [
        _in_process("waterfall", "--opportunities", str(args.opportunities)),
        _in_process("diagnosis", "--scale", str(args.scale), "--region", "dach"),
        _in_process("diagnosis", "--scale", str(args.scale), "--region", "every"),
    ]
    for result in results:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
