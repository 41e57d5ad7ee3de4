"""Benchmark: the forecast on demo data (default scale, 13 weekly snapshots).

1. The forecasting build steps (backtest + forecast of the company total and every region at
   horizon 6, the win model over earlier snapshots, the quarter simulation), once per snapshot.
2. The report's own load from the analytics store (no fitting), in process.
3. The ``20-forecast`` notebook's wall time per region through papermill with a real kernel
   (the company view and every region; the store already built).

Prints a Markdown table. Usage::

    SALESOPS_KERNEL=salesops python -m tests.bench.bench_forecast_report
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from tests.conftest import ROOT, make_workspace

HORIZON = 6


def main() -> None:
    """Generate the demo in a temporary workspace and time the forecast on it."""
    import papermill

    from salesops_lib.analytics.build import build_store
    from salesops_lib.analytics.forecasting.build import STEPS
    from salesops_lib.core.config import load_settings
    from salesops_lib.reports import forecast
    from salesops_lib.sources.demo import generate_demo

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workspace = make_workspace(Path(tmp), scale="default", weeks=13)
        cfg = load_settings(workspace.config)
        generate_demo(workspace.snapshots, cfg.demo.as_of, seed=cfg.demo.seed, scale="default",
                      weeks=13, regions=cfg.regions)  # fmt: skip
        os.environ.update(workspace.env())

        steps: list[str] = []
        build_store(None, snapshots_dir=workspace.snapshots, steps=STEPS, progress=steps.append)
        rows.extend((f"build step {line.split(':')[0]}", line.split(" in ")[-1]) for line in steps)
        build_store(None, snapshots_dir=workspace.snapshots)  # the other topics' steps
        with forecast.open_report_warehouse("all", "") as warehouse:
            start = time.perf_counter()
            forecast.load_forecast(warehouse, "all", HORIZON, 80)
            rows.append(("all-regions report: load from the store",
                         f"{time.perf_counter() - start:.2f} s"))  # fmt: skip

        kernel = os.environ.get("SALESOPS_KERNEL", "python3")
        notebook = ROOT / "notebooks" / "20-forecast.ipynb"
        timings = []
        for region in ["all", *[r.id for r in cfg.regions]]:
            start = time.perf_counter()
            papermill.execute_notebook(
                str(notebook),
                str(Path(tmp) / f"forecast-{region}.ipynb"),
                parameters={"region": region},
                kernel_name=kernel,
                cwd=str(ROOT / "notebooks"),
                progress_bar=False,
            )
            timings.append((region, time.perf_counter() - start))
        for region, seconds in timings:
            rows.append((f"`20-forecast` notebook, region `{region}` (papermill, kernel included)",
                         f"{seconds:.1f} s"))  # fmt: skip
    print("| what | time |\n|---|---:|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
