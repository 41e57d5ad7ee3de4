"""Runner benchmarks: where one run's time goes, and the whole default job on 1 and 2 workers.

Writes a markdown table. Figures:

- start-up: interpreter, ``import nbformat`` with and without the optional ``rfc3987_syntax``
  import (see :mod:`salesops_lib.runs._startup`), the runner's imports, a bare Jupyter kernel start,
  and the report library import a notebook's first cell pays;
- one notebook run (``00-overview`` for the company view): kernel start, execution, HTML rendering
  and publishing, each the median of ``--repeats`` runs in fresh kernels (from the run records),
  and the same for runs in a kept kernel (one worker, every region in turn);
- the whole job (every region plus the company view x every report notebook) with 1 and 2
  workers: wall time, the sum of the runs' own execution time, and wall / (sum / workers).

Usage::

    python -m tests.bench.bench_runner --out reports/bench/runner.md [--scale default]
        [--repeats 5] [--workers 1 2] [--notebooks 00-overview 10-performance] [--work DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _seconds(code: str, repeats: int = 3, env: dict[str, str] | None = None) -> float:
    """Median wall time of a fresh interpreter running ``code``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _kernel_start_seconds(repeats: int) -> float:
    from jupyter_client.manager import start_new_kernel

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        manager, client = start_new_kernel(kernel_name="python3", startup_timeout=60)
        times.append(time.perf_counter() - start)
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return statistics.median(times)


def _workspace(work: Path, scale: str) -> Any:
    from salesops_lib.core.config import load_settings
    from salesops_lib.sources.demo import generate_demo
    from tests.conftest import make_workspace

    workspace = make_workspace(work / "ws", scale=scale, weeks=2)
    cfg = load_settings(workspace.config)
    generate_demo(
        workspace.snapshots, cfg.demo.as_of, seed=42, scale=scale, weeks=2, regions=cfg.regions
    )
    return workspace


def _median(results: list[Any], key: str) -> float:
    return statistics.median(r.durations.get(key, 0.0) for r in results)


def main(argv: list[str] | None = None) -> None:
    """Run the runner benchmarks and write the results table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench" / "runner.md")
    parser.add_argument("--scale", default="default")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--notebooks", nargs="*", default=None, help="default: every report")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="salesops-bench-runner-"))

    started = time.perf_counter()
    workspace = _workspace(work, args.scale)
    os.environ.update(workspace.env())  # for this process, the pool's workers and the kernels
    from salesops_lib.analytics.build import build_store
    from salesops_lib.core.config import settings
    from salesops_lib.runs.jobs import available_notebooks
    from salesops_lib.runs.runner import run_reports

    cfg = settings()
    build_seconds = build_store().seconds  # the reports read the store: build it first
    available = available_notebooks(ROOT / "notebooks")
    notebooks = (
        [available[n] for n in args.notebooks] if args.notebooks else list(available.values())
    )
    regions = [*cfg.region_ids(), "all"]
    lines = [
        f"# Runner benchmarks ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; demo scale `{args.scale}`; load average at start "
        f"{os.getloadavg()[0]:.1f} (other work on the machine inflates every figure).",
        "",
        "## Start-up (median of 3 fresh processes)",
        "",
        "| what | seconds |",
        "|---|---:|",
    ]
    startup = {
        "python -c pass": "pass",
        "import nbformat (jsonschema pulls rfc3987_syntax)": "import nbformat",
        "import nbformat after salesops_lib.runs._startup": (
            "import salesops_lib.runs._startup, nbformat"
        ),
        "import salesops_lib.runs.runner + papermill (a pool worker)": (
            "import salesops_lib.runs.runner, papermill"
        ),
        "from salesops_lib.reports import overview (a notebook's first cell)": (
            "from salesops_lib.reports import overview"
        ),
    }
    for label, code in startup.items():
        lines.append(f"| {label} | {_seconds(code):.2f} |")
        print(lines[-1], flush=True)
    lines.append(f"| bare python3 kernel start (jupyter_client) | {_kernel_start_seconds(3):.2f} |")
    print(lines[-1], flush=True)

    if args.repeats > 0:  # --repeats 0 skips the single-run figures
        reports = work / "reports-single"
        overview = available["00-overview"]
        single = [  # one batch per run: every run starts its own kernel
            run_reports([overview], ["all"], "", reports, workers=1)[0] for _ in range(args.repeats)
        ]
        kept = run_reports([overview], regions, "", work / "reports-kept", workers=1)[1:]
        failed = [r.error for r in [*single, *kept] if r.status != "ok"]
        if failed:
            raise RuntimeError(f"single runs failed: {failed}")
        lines += [
            "",
            f"## One run of 00-overview (median of {args.repeats} fresh kernels; median of "
            f"{len(kept)} runs in a kept kernel, one worker, every region after the first)",
            "",
            "| kernel | kernel start (s) | execution (s) | kernel reset (s) | HTML rendering (s) "
            "| publishing (s) | total (s) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for label, runs in (("fresh", single), ("kept", kept)):
            lines.append(
                f"| {label} | {_median(runs, 'kernel_start_s'):.2f} "
                f"| {_median(runs, 'execute_s'):.2f} | {_median(runs, 'kernel_reset_s'):.2f} "
                f"| {_median(runs, 'render_s'):.2f} | {_median(runs, 'publish_s'):.3f} "
                f"| {_median(runs, 'total_s'):.2f} |"
            )
            print(lines[-1], flush=True)

    lines += [
        "",
        f"## Whole job: {len(regions)} regions x {len(notebooks)} notebooks "
        f"({', '.join(n.stem for n in notebooks)})",
        "",
        "Ideal = sum of the runs' execution time / workers. Overhead per run = kernel start + "
        "rendering + publishing, mean over the runs.",
        "",
        "| workers | runs | failed | wall (s) | sum of execution (s) | ideal (s) | wall / ideal "
        "| overhead per run (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers in args.workers:
        start = time.perf_counter()
        results = run_reports(notebooks, regions, "", work / f"reports-{workers}", workers=workers)
        wall = time.perf_counter() - start
        executed = sum(r.durations.get("execute_s", 0.0) for r in results)
        overhead = statistics.mean(
            sum(r.durations.get(k, 0.0) for k in ("kernel_start_s", "render_s", "publish_s"))
            for r in results
        )
        ideal = executed / workers
        bad = sum(r.status != "ok" for r in results)
        lines.append(
            f"| {workers} | {len(results)} | {bad} | {wall:.1f} | {executed:.1f} | {ideal:.1f} "
            f"| {wall / ideal:.2f} | {overhead:.2f} |"
        )
        print(lines[-1], flush=True)
    lines += ["", f"Analytics store build: {build_seconds:.1f} s"]
    lines += ["", f"Benchmark wall time: {time.perf_counter() - started:.0f} s", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
