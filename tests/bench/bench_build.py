"""The analytics store build at several demo scales: wall time, time per step, peak memory.

Each scale gets its own workspace (two weekly snapshots: the build reads the previous one for
segment migration and the quality trend) and its build runs in a fresh process, so the peak
resident set size is the build's own (``ru_maxrss`` of the child, which includes everything it
imported).

Usage::

    python -m tests.bench.bench_build --out reports/bench/build.md [--scale default --scale large]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import json, resource, time
from salesops_lib.analytics.build import build_store
steps = []
started = time.perf_counter()
result = build_store(progress=steps.append)
print(json.dumps({"seconds": time.perf_counter() - started, "steps": steps,
                  "failed": result.failed_steps,
                  "tables": len(result.store.tables)}))
"""


def _workspace(folder: Path, scale: str) -> dict[str, str]:
    """Write a config for a workspace under ``folder`` and return the environment for it."""
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text())
    config["paths"] = {"snapshots": str(folder / "snapshots"), "reports": str(folder / "reports")}
    path = folder / "workbench.yml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return dict(os.environ) | {"SALESOPS_CONFIG": str(path), "SALESOPS_HOME": str(ROOT)}


def measure(scale: str, work: Path) -> dict[str, object]:
    """Generate the demo at ``scale`` (two weeks), then time the build in a child process."""
    env = _workspace(work / scale, scale)
    salesops = str(Path(sys.executable).with_name("salesops"))
    started = time.perf_counter()
    subprocess.run(
        [salesops, "demo", "--scale", scale, "--weeks", "2"], env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    generate_s = time.perf_counter() - started
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, check=True, capture_output=True, text=True
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith('{"seconds"'))
    result = json.loads(line)
    return {
        "scale": scale,
        "generate_s": round(generate_s, 1),
        "build_s": round(float(result["seconds"]), 1),
        # ru_maxrss of children is the largest child so far: report it only if this one set it
        "peak_rss_mb": round(peak_kb / 1024) if peak_kb > before else None,
        "steps": result["steps"],
        "failed": result["failed"],
    }


def main(argv: list[str] | None = None) -> None:
    """Measure each scale and write a markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench" / "build.md")
    parser.add_argument("--scale", action="append", default=[])
    args = parser.parse_args(argv)
    scales = args.scale or ["default", "large"]
    work = Path(tempfile.mkdtemp(prefix="salesops-bench-build-"))
    rows = []
    try:
        for scale in scales:  # smallest first, so each peak is that build's own
            rows.append(measure(scale, work))
            shutil.rmtree(work / scale, ignore_errors=True)
            print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "# Analytics store build (`salesops build`, one process, local executor)",
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
        "| demo scale | generate 2 snapshots (s) | build (s) | peak RSS (MB) | steps |",
        "|---|---:|---:|---:|---|",
    ]
    for row in rows:
        steps = "; ".join(row["steps"])  # type: ignore[arg-type]
        peak = "n/a" if row["peak_rss_mb"] is None else f"{row['peak_rss_mb']:,}"
        lines.append(
            f"| {row['scale']} | {row['generate_s']} | {row['build_s']} | {peak} | {steps} |"
        )
        if row["failed"]:
            lines.append(f"| | failed steps: {row['failed']} | | | |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
