"""The default job, old code against new: 45 report runs on 2 workers, the build, per-run times.

One call measures, on one demo workspace (generated once, shared read-only):

- the **baseline**: the code of git commit ``--baseline`` (default ``7e8490f``, before the
  analytics store and the kernel changes), extracted with ``git archive`` into the scratch
  folder (no worktree, nothing in the checkout changes) and run with ``PYTHONPATH`` pointing at
  it, from the same virtual environment; its kernels inherit ``PYTHONPATH`` and so import the
  baseline package too (checked before it runs). It reads the same demo snapshots rewritten by
  its own snapshot writer in its own schema (:func:`_baseline_snapshots`: the same rows, without
  the columns and files later schema versions added);
- both sides run the baseline commit's ``default`` job (its ``config/schedule.yml``: the same
  notebooks, so the same runs);
- the **current** code: ``salesops build`` (the analytics store, timed on its own), then
  ``salesops run --all`` with the store built;
- per-run figures of both from the run records: execution (kernel start excluded), kernel
  start, rendering, total, each as a median over the runs.

Each side has its own reports folder and forecast ledger. Writes a markdown table.

Usage::

    python -m tests.bench.bench_batch --out reports/bench/batch.md [--scale default]
        [--weeks 13] [--workers 2] [--baseline 7e8490f] [--work DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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

import yaml

ROOT = Path(__file__).resolve().parents[2]
PHASES = ("execute_s", "kernel_start_s", "render_s", "total_s")


def _config(work: Path, snapshots: Path, side: str) -> Path:
    """A workbench.yml for one side: shared snapshots, its own reports and forecast ledger."""
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text())
    config["paths"] = {
        "snapshots": str(snapshots),
        "reports": str(work / f"reports-{side}"),
        "forecast_ledger": str(work / f"ledger-{side}"),
    }
    path = work / f"workbench-{side}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _env(config: Path, home: Path, pythonpath: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SALESOPS_SCHEDULE")}
    env |= {"SALESOPS_CONFIG": str(config), "SALESOPS_HOME": str(home)}
    env.setdefault("SALESOPS_KERNEL", "salesops")
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def _cli(env: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``python -m salesops_lib.cli ARGS``; return its wall seconds and the process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "salesops_lib.cli", *args],
        env=env,
        cwd=env["SALESOPS_HOME"],
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - start, done


def _extract_baseline(commit: str, folder: Path) -> Path:
    """``git archive COMMIT | tar -x`` into ``folder`` (reads the repository, writes nothing)."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", commit], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


BASELINE_COPY = """
import datetime as dt, json, sys
from pathlib import Path
import pyarrow.parquet as pq
try:  # the layered package
    from salesops_lib.data.schema import TABLES
    from salesops_lib.data.snapshot import SnapshotWriter
except ImportError:  # the flat package of the default baseline
    from salesops_lib.schema import TABLES
    from salesops_lib.snapshot import SnapshotWriter
source, target = Path(sys.argv[1]), Path(sys.argv[2])
for folder in sorted(p for p in source.iterdir() if p.is_dir() and p.name[:1].isdigit()):
    manifest = json.loads((folder / "_manifest.json").read_text(encoding="utf-8"))
    label = manifest["source"] + " (copied into this schema)"
    with SnapshotWriter(target, dt.date.fromisoformat(folder.name), source=label) as writer:
        for name, table in TABLES.items():
            path = folder / (name + ".parquet")
            writer.write_table(name, pq.read_table(path, columns=list(table.columns)))
        for extra, entry in sorted(manifest["files"].items()):
            if entry.get("table") is None and extra != "_stages.json":
                writer.write_extra(extra, (folder / extra).read_bytes())
"""
"""Run with the baseline code: every snapshot of ``argv[1]`` rewritten into ``argv[2]``."""


def _baseline_snapshots(env: dict[str, str], source: Path, target: Path) -> None:
    """The demo snapshots in the baseline's schema, written by the baseline's own writer.

    Same rows; the columns a later schema version added (e.g. ``order_lines.region_id``) and
    the stage-model file are left out, so the baseline reads the data it was written for.
    """
    done = subprocess.run(
        [sys.executable, "-c", BASELINE_COPY, str(source), str(target)],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"copying the snapshots for the baseline failed:\n{done.stderr[-3000:]}")


def _check_imports_from(env: dict[str, str], folder: Path) -> None:
    """Fail unless ``import salesops_lib`` with ``env`` loads the package under ``folder``."""
    found = subprocess.run(
        [sys.executable, "-c", "import salesops_lib; print(salesops_lib.__file__)"],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(folder.resolve()):
        raise RuntimeError(f"PYTHONPATH={env.get('PYTHONPATH')} imports {found}, not {folder}")


def _records(reports: Path) -> list[dict[str, Any]]:
    """The run records of every run of the ``default`` job under ``reports/<as_of>/``."""
    records = []
    for path in sorted(reports.glob("*/**/*.run.json")):
        record = json.loads(path.read_text())
        if record.get("job") == "default":
            records.append(record)
    return records


def _medians(records: list[dict[str, Any]]) -> dict[str, float]:
    return {
        phase: statistics.median(r["durations"].get(phase, 0.0) for r in records)
        if records
        else float("nan")
        for phase in PHASES
    }


def _side(
    label: str, wall: float, done: subprocess.CompletedProcess[str], reports: Path
) -> dict[str, Any]:
    records = _records(reports)
    failed = [r for r in records if r["status"] != "ok"]
    if done.returncode not in (0, 1):
        raise RuntimeError(
            f"{label}: salesops run exited {done.returncode}:\n{done.stderr[-3000:]}"
        )
    return {
        "label": label,
        "wall": wall,
        "runs": len(records),
        "failed": len(failed),
        "errors": sorted({f"{r['region']}/{r['notebook']}: {r['error']}" for r in failed}),
        "reused": sum(bool(r.get("kernel_reused")) for r in records),
        **_medians(records),
    }


def _headlines(reports: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(region, notebook) -> the headline numbers its run record carries."""
    return {
        (str(r["region"]), str(r["notebook"])): dict(r.get("headlines") or {})
        for r in _records(reports)
        if r["status"] == "ok"
    }


NOT_COMPARED = ("snapshot_checksum",)
"""Headlines that name the input, not a result: the baseline reads a copy of the snapshots."""


def compare_headlines(
    baseline: dict[tuple[str, str], dict[str, Any]],
    current: dict[tuple[str, str], dict[str, Any]],
) -> tuple[int, list[str]]:
    """Compare every headline value both sides publish for the same region and report.

    The headlines in :data:`NOT_COMPARED` are left out: the baseline's snapshot files are
    rewritten in its schema, so their checksums differ by construction.

    Returns:
        The number of values compared and one line per difference (``region/notebook key:
        old -> new``), plus a line per run only one side published.
    """
    compared, differences = 0, []
    for key in sorted(set(baseline) | set(current)):
        label = "/".join(key)
        if key not in baseline or key not in current:
            side = "baseline" if key in baseline else "current"
            differences.append(f"{label}: published by the {side} code only")
            continue
        old, new = baseline[key], current[key]
        for name in sorted((set(old) & set(new)) - set(NOT_COMPARED)):
            compared += 1
            if old[name] != new[name]:
                differences.append(f"{label} {name}: {old[name]!r} -> {new[name]!r}")
    return compared, differences


def _table(sides: list[dict[str, Any]], build_s: float, workers: int) -> list[str]:
    lines = [
        f"| code | runs | failed | wall, {workers} workers (s) | median execution (s) "
        "| median kernel start (s) | median rendering (s) | median run total (s) "
        "| runs in a kept kernel |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for side in sides:
        lines.append(
            f"| {side['label']} | {side['runs']} | {side['failed']} | {side['wall']:.1f} "
            f"| {side['execute_s']:.2f} | {side['kernel_start_s']:.2f} | {side['render_s']:.2f} "
            f"| {side['total_s']:.2f} | {side['reused']} |"
        )
    lines += ["", f"Analytics store build (current code, once per snapshot): {build_s:.1f} s"]
    for side in sides:
        for error in side["errors"][:10]:
            lines.append(f"- {side['label']} failed: {error}")
    return lines


def main(argv: list[str] | None = None) -> None:
    """Run both sides of the benchmark and write the results table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench" / "batch.md")
    parser.add_argument("--scale", default="default")
    parser.add_argument("--weeks", type=int, default=13)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", default="7e8490f", help="git commit of the old code")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    parser.add_argument(
        "--region", action="append", default=[], help="run these regions only (a smoke test)"
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="salesops-bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    snapshots = work / "data" / "snapshots"

    current_env = _env(_config(work, snapshots, "current"), ROOT, None)
    # pinned: other edits to the checkout during the benchmark must not invalidate the store
    current_env.setdefault("SALESOPS_CODE_VERSION", f"bench-{dt.datetime.now(dt.UTC):%Y%m%d%H%M}")
    _check_imports_from(current_env, ROOT / "salesops_lib")
    if not snapshots.is_dir():
        generate_s, done = _cli(
            current_env, "demo", "--scale", args.scale, "--weeks", str(args.weeks)
        )
        if done.returncode != 0:
            raise RuntimeError(f"demo generation failed:\n{done.stderr[-3000:]}")
        print(f"demo data: {generate_s:.0f} s", flush=True)

    baseline_dir = _extract_baseline(args.baseline, work / "baseline")
    baseline_snapshots = work / "baseline-data" / "snapshots"
    baseline_env = _env(_config(work, baseline_snapshots, "baseline"), baseline_dir, baseline_dir)
    _check_imports_from(baseline_env, baseline_dir / "salesops_lib")
    if not baseline_snapshots.is_dir():
        _baseline_snapshots(baseline_env, snapshots, baseline_snapshots)
    schedule = str(baseline_dir / "config" / "schedule.yml")  # the same job on both sides
    baseline_env["SALESOPS_SCHEDULE"] = current_env["SALESOPS_SCHEDULE"] = schedule
    regions = [arg for region in args.region for arg in ("--region", region)] or ["--all"]
    run_args = ("run", *regions, "--workers", str(args.workers), "--force")
    wall, done = _cli(baseline_env, *run_args)
    baseline = _side(f"baseline {args.baseline}", wall, done, work / "reports-baseline")
    print(f"baseline: {baseline['runs']} runs in {wall:.1f} s", flush=True)

    build_s, done = _cli(current_env, "build")
    if done.returncode != 0:
        raise RuntimeError(f"salesops build failed:\n{done.stderr[-3000:]}")
    print(f"build: {build_s:.1f} s", flush=True)
    wall, done = _cli(current_env, *run_args)
    current = _side("current", wall, done, work / "reports-current")
    print(f"current: {current['runs']} runs in {wall:.1f} s", flush=True)

    compared, differences = compare_headlines(
        _headlines(work / "reports-baseline"), _headlines(work / "reports-current")
    )
    lines = [
        f"# Default job: baseline against current code ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}"
        " UTC)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; demo scale `{args.scale}`, {args.weeks} weekly snapshots; "
        f"load average at start {load_at_start:.1f}, at end {os.getloadavg()[0]:.1f} (other "
        "work on the machine inflates every figure). Wall = `salesops run --all --force` as a "
        "process (planning, runs, index pages); execution = a run's cells, kernel start "
        "excluded; a run in a kept kernel pays no kernel start or library import.",
        "",
        *_table([baseline, current], build_s, args.workers),
        "",
        f"Published headlines: {compared} values compared, {len(differences)} different "
        f"({', '.join(NOT_COMPARED)} not compared: the baseline reads a copy of the snapshots "
        "in its own schema).",
        *[f"- {line}" for line in differences[:60]],
        "",
        f"Benchmark wall time: {time.perf_counter() - started:.0f} s",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {args.out}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
