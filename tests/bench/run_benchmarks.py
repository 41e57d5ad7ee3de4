"""The foundation benchmarks (``make bench``): writes a markdown results table.

Each case runs in its own process (see :mod:`tests.bench.measure`) so that peak memory is that
case's own. DuckDB query timings are the median of five warm runs inside the case's process;
ratios are taken within this one run, on this one machine.

Usage::

    python -m tests.bench.run_benchmarks --out reports/bench/results.md \
        [--sizes 500000 10000000 50000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = (500_000, 10_000_000, 50_000_000)
QUERY_SIZES = (10_000_000, 50_000_000)


def _case(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.measure", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench case {args} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _make_run_seconds(work: Path) -> float:
    config = work / "workbench.yml"
    source = (ROOT / "config" / "workbench.yml").read_text()
    source = source.replace("snapshots: data/snapshots", f"snapshots: {work / 'snapshots'}")
    source = source.replace("reports: reports", f"reports: {work / 'reports'}")
    config.write_text(source)
    env = os.environ | {"SALESOPS_CONFIG": str(config)}
    start = time.perf_counter()
    subprocess.run(["make", "-s", "run"], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Run every benchmark and write the results table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench" / "results.md")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--skip-make-run", action="store_true")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="salesops-bench-"))
    lines = [
        f"# Foundation benchmarks ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}.",
        "",
        "## Demo generation (one weekly snapshot)",
        "",
        "| order lines | seconds | peak RSS (MB) |",
        "|---:|---:|---:|",
    ]
    query_rows = []
    for size in args.sizes:
        folder = work / f"gen-{size}"
        result = _case("generate", "--scale", str(size), "--out", str(folder))
        lines.append(f"| {size:,} | {result['seconds']:.1f} | {result['peak_rss_mb']:.0f} |")
        print(lines[-1], flush=True)
        if size in QUERY_SIZES:
            mart = _case("mart", "--snapshots", str(folder))
            raw = _case("raw", "--snapshots", str(folder))
            raw_double = _case("raw-double", "--snapshots", str(folder))
            pandas = _case("pandas", "--snapshots", str(folder))
            query_rows.append((size, mart, raw, raw_double, pandas))
            print(size, mart, raw, raw_double, pandas, flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    lines += [
        "",
        "## Monthly bookings by region",
        "",
        "DuckDB: median of 5 warm runs in one process (after one warm-up); pandas: one cold run "
        "(read + join + group). The result totals of all three agree (checked).",
        "",
        "| order lines | mart (s) | raw DuckDB, DECIMAL sum (s) | mart / raw | raw DuckDB, DOUBLE "
        "sum (s) | DOUBLE total - exact total | pandas (s) | pandas / mart | mart peak RSS (MB) "
        "| pandas peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, mart, raw, raw_double, pandas in query_rows:
        if abs(mart["total"] - raw["total"]) > 0.001 or abs(mart["total"] - pandas["total"]) > 1:
            raise RuntimeError(f"results differ at {size}: {mart}, {raw}, {pandas}")
        lines.append(
            f"| {size:,} | {mart['seconds']:.3f} | {raw['seconds']:.3f} "
            f"| {mart['seconds'] / raw['seconds']:.2f} | {raw_double['seconds']:.3f} "
            f"| {raw_double['total'] - raw['total']:+.2f} | {pandas['seconds']:.2f} "
            f"| {pandas['seconds'] / mart['seconds']:.1f} | {mart['peak_rss_mb']:.0f} "
            f"| {pandas['peak_rss_mb']:.0f} |"
        )
    if not args.skip_make_run:
        seconds = _make_run_seconds(work / "make-run")
        lines += ["", "## make run at default scale", "", f"Wall time: {seconds:.1f} s", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
