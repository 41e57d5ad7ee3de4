"""Benchmark: RFM + behavioural clusters + CLV on synthetic order books of many customers.

Each size runs in its own process so that its peak memory is its own; each prints one JSON
line with the seconds of every step and the peak RSS.

Usage::

    python -m tests.bench.bench_segmentation                  # 100k and 1M customers
    python -m tests.bench.bench_segmentation --customers 100000 --one
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2026-11-23")
FAMILIES = ("Hardware", "Software Licenses", "Subscriptions", "Professional Services", "Support")
SIZES = (100_000, 1_000_000)


def synthetic_order_book(customers: int, seed: int = 0) -> pd.DataFrame:
    """One order line per order; about 4 orders per customer over three years.

    Customers differ in order rate, spend, discount and family (five kinds), so clustering has
    structure to find.
    """
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, len(FAMILIES), customers)
    orders = 1 + rng.poisson(np.array([1.0, 2.0, 3.0, 4.0, 6.0])[kind])
    customer = np.repeat(np.arange(customers), orders)
    lines = len(customer)
    first = rng.integers(0, 3 * 365, customers)[customer]
    days = np.minimum(first + rng.integers(0, 3 * 365, lines), 3 * 365 - 1)
    family_kind = np.where(rng.random(lines) < 0.7, kind[customer], rng.integers(0, 5, lines))
    return pd.DataFrame(
        {
            "account_id": pd.Series(customer).map("ACC-{:07d}".format),
            "order_id": np.arange(lines).astype(str),
            "order_date": AS_OF - pd.to_timedelta(3 * 365 - 1 - days, unit="D"),
            "amount": np.round(rng.gamma(2.0, 250.0 * (1 + kind[customer]), lines), 2),
            "discount": np.clip(rng.normal(0.05 * kind[customer], 0.02), 0, 0.6).round(2),
            "product_family": np.array(FAMILIES)[family_kind],
        }
    )


def run_one(customers: int) -> dict[str, Any]:
    """Time each step on one order book; return seconds per step and peak RSS."""
    from salesops_lib.analytics.segmentation.clusters import cluster_accounts
    from salesops_lib.analytics.segmentation.clv import clv_table, summary_from_orders
    from salesops_lib.analytics.segmentation.clv_models import fit_bgnbd, fit_gamma_gamma
    from salesops_lib.analytics.segmentation.features import account_features
    from salesops_lib.analytics.segmentation.rfm import rfm_table

    start = time.perf_counter()
    book = synthetic_order_book(customers)
    timings: dict[str, float] = {"build_s": time.perf_counter() - start}

    def step(name: str, work: Any) -> Any:
        began = time.perf_counter()
        result = work()
        timings[name] = round(time.perf_counter() - began, 2)
        return result

    step("rfm_s", lambda: rfm_table(book, AS_OF))
    features = step("features_s", lambda: account_features(book, AS_OF))
    found = step("clusters_s", lambda: cluster_accounts(features))
    summary = step("clv_summary_s", lambda: summary_from_orders(book, AS_OF))
    params = step(
        "clv_fit_s",
        lambda: (
            fit_bgnbd(summary["x"], summary["t_x"], summary["T"]),
            fit_gamma_gamma(summary["x"], summary["zbar"]),
        ),
    )
    step("clv_predict_s", lambda: clv_table(summary, *params))
    return {
        "customers": customers,
        "order_lines": len(book),
        "chosen_k": found.k,
        **timings,
        "total_s": round(sum(v for k, v in timings.items() if k != "build_s"), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    """Run the benchmark sizes, each in a fresh process, and print one JSON line per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, action="append")
    parser.add_argument("--one", action="store_true", help="run in this process")
    args = parser.parse_args()
    sizes = args.customers or list(SIZES)
    if args.one:
        for size in sizes:
            print(json.dumps(run_one(size)), flush=True)
        return
    for size in sizes:
        command = [sys.executable, "-m", "tests.bench.bench_segmentation", "--one"]
        subprocess.run([*command, "--customers", str(size)], check=True)


if __name__ == "__main__":
    main()
