"""One benchmark case, run in its own process so that its peak memory is its own.

Prints one JSON line: ``{"case": ..., "seconds": ..., "peak_rss_mb": ..., ...}``.

Usage::

    python -m tests.bench.measure generate --scale 500000 --out /tmp/snaps
    python -m tests.bench.measure mart --snapshots /tmp/snaps
    python -m tests.bench.measure raw --snapshots /tmp/snaps
    python -m tests.bench.measure raw-double --snapshots /tmp/snaps
    python -m tests.bench.measure pandas --snapshots /tmp/snaps
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

DEMO_AS_OF = "2026-11-23"
MONTHLY_BY_REGION_RAW = """
select r.region_id,
       date_trunc('month', o.order_date) as order_month,
       sum(o.amount::decimal(18, 2)) as bookings
from read_parquet(?) as o
join read_parquet(?) as r on r.rep_id = o.rep_id
group by all
"""
"""The hand-written baseline. It sums in DECIMAL like the mart: a DOUBLE sum drifts by cents
over tens of millions of lines (see ``raw-double``), so it is not the same answer."""
MONTHLY_BY_REGION_RAW_DOUBLE = MONTHLY_BY_REGION_RAW.replace("o.amount::decimal(18, 2)", "o.amount")
MONTHLY_BY_REGION_MART = """
select region_id, order_month, sum(amount) as bookings
from fct_bookings
group by all
"""


TIMED_RUNS = 5


def _timed(run: Any) -> tuple[float, pd.DataFrame]:
    """Run a query once to warm up, then ``TIMED_RUNS`` times; return the median seconds."""
    frame = run()
    seconds = []
    for _ in range(TIMED_RUNS):
        start = time.perf_counter()
        frame = run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), frame


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(scale: int, out: Path) -> dict[str, Any]:
    """Generate one demo snapshot of ``scale`` order lines."""
    from salesops_lib.sources.demo import generate_demo

    start = time.perf_counter()
    generate_demo(out, DEMO_AS_OF, seed=42, scale=scale, weeks=1, overwrite=True)
    return {"seconds": time.perf_counter() - start}


def mart(snapshots: Path) -> dict[str, Any]:
    """Monthly bookings by region through the bookings mart."""
    from salesops_lib.data.warehouse import Warehouse

    with Warehouse(_snapshot(snapshots)) as wh:
        seconds, frame = _timed(lambda: wh.query(MONTHLY_BY_REGION_MART))
    return {"seconds": seconds, "rows": len(frame), "total": round(float(frame.bookings.sum()), 2)}


def raw(snapshots: Path, query: str = MONTHLY_BY_REGION_RAW) -> dict[str, Any]:
    """The same aggregate, hand-written in DuckDB over the raw parquet files."""
    import duckdb

    from salesops_lib.core.config import settings

    snap = _snapshot(snapshots)
    con = duckdb.connect(
        config={
            "threads": settings().duckdb.threads,
            "memory_limit": settings().duckdb.memory_limit,
        }
    )
    paths = [str(snap.table_path("order_lines")), str(snap.table_path("reps"))]
    seconds, frame = _timed(lambda: con.execute(query, paths).df())
    return {"seconds": seconds, "rows": len(frame), "total": round(float(frame.bookings.sum()), 2)}


def pandas_case(snapshots: Path) -> dict[str, Any]:
    """The same aggregate with pandas reading the parquet files."""
    snap = _snapshot(snapshots)
    start = time.perf_counter()
    lines = pd.read_parquet(
        snap.table_path("order_lines"), columns=["order_date", "rep_id", "amount"]
    )
    reps = pd.read_parquet(snap.table_path("reps"), columns=["rep_id", "region_id"])
    joined = lines.merge(reps, on="rep_id")
    joined["order_month"] = pd.to_datetime(joined["order_date"]).dt.to_period("M")
    frame = joined.groupby(["region_id", "order_month"], as_index=False)["amount"].sum()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": len(frame), "total": round(float(frame.amount.sum()), 2)}


def _snapshot(snapshots: Path):
    from salesops_lib.data.snapshot import open_snapshot

    return open_snapshot(snapshots, verify=False)


def main(argv: list[str] | None = None) -> None:
    """Run one case and print its JSON result line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["generate", "mart", "raw", "raw-double", "pandas"])
    parser.add_argument("--scale", type=int, default=500_000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--snapshots", type=Path)
    args = parser.parse_args(argv)
    if args.case == "generate":
        result = generate(args.scale, args.out)
    elif args.case == "mart":
        result = mart(args.snapshots)
    elif args.case == "raw":
        result = raw(args.snapshots)
    elif args.case == "raw-double":
        result = raw(args.snapshots, MONTHLY_BY_REGION_RAW_DOUBLE)
    else:
        result = pandas_case(args.snapshots)
    result |= {"case": args.case, "peak_rss_mb": round(_peak_rss_mb(), 1)}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
