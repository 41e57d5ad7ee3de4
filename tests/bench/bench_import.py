"""Import time and peak memory: the Maven CRM set, and a generated 1M-row order-lines CSV.

Each case runs in its own process (so its peak RSS is its own) and prints one JSON line.

Usage::

    python -m tests.bench.bench_import            # both cases, 1,000,000 generated rows
    python -m tests.bench.bench_import --rows 200000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
MAVEN = ROOT.parent / "shared" / "data" / "maven_crm"
TEMPLATE = ROOT / "config" / "mappings" / "order_lines_template.yml"


def generate_order_lines(path: Path, rows: int, seed: int = 7) -> None:
    """Write a plain order-lines export with the template's column names.

    Args:
        path: CSV to write.
        rows: Number of order lines.
        seed: Random seed (same seed, same file).
    """
    rng = np.random.default_rng(seed)
    customers = 50_000
    customer = rng.integers(0, customers, rows)
    regions = np.array(["North", "South", "East", "West"])
    frame = pd.DataFrame(
        {
            "Order ID": [f"O{i // 3:07d}" for i in range(rows)],
            "Order Date": (
                pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730, rows), unit="D")
            ).strftime("%Y-%m-%d"),
            "Customer": [f"C{c:06d}" for c in customer],
            "Product": rng.choice(np.array(["Alpha", "Beta", "Gamma", "Delta"]), rows),
            "Region": regions[customer % 4],
            "Quantity": rng.integers(1, 10, rows),
            "Amount": np.round(rng.gamma(2.0, 150.0, rows), 2),
        }
    )
    frame.to_csv(path, index=False)


def _run_case(mapping: Path, sources: list[Path], as_of: str | None) -> dict[str, float]:
    from salesops_lib.sources.importer import import_snapshot

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        summary = import_snapshot(mapping, sources, as_of, Path(folder), force=False)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak, 1),
        "quarantined_rows": summary.quarantined_rows,
        "order_lines": summary.table_rows["order_lines"],
    }


def main() -> None:
    """Run one case (``--case``) in this process, or every case in child processes."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=["maven", "generic"])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args()
    if args.case == "maven":
        # the Maven workspace declares the CRM's own stages, which its mapping maps onto
        os.environ["SALESOPS_CONFIG"] = str(ROOT / "config" / "workbench.maven_crm.yml")
        result = _run_case(ROOT / "config" / "mappings" / "maven_crm.yml", [MAVEN], None)
        print(json.dumps({"case": "maven_crm", **result}))
        return
    if args.case == "generic":
        result = _run_case(TEMPLATE, [args.csv], None)
        print(json.dumps({"case": f"order_lines_{args.rows}", **result}))
        return
    subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_import", "--case", "maven"], cwd=ROOT, check=True
    )
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "orders.csv"
        generate_order_lines(csv_path, args.rows)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.bench.bench_import",
                "--case",
                "generic",
                "--rows",
                str(args.rows),
                "--csv",
                str(csv_path),
            ],
            cwd=ROOT,
            check=True,
        )


if __name__ == "__main__":
    main()
