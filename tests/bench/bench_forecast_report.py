"""Benchmark: the forecast on demo data (default scale, 13 weekly snapshots).

1. Backtest + forecast of every monthly series of the demo (company total, 8 regions and every
   region x product family), horizon 6, 3 origins, one process.
2. The ``20-forecast`` notebook's wall time per region through papermill with a real kernel
   (the company view and every region), and its load / compute split in-process.

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

    from salesops_lib.analytics.forecasting import models as forecasting
    from salesops_lib.core.config import load_settings
    from salesops_lib.reports import forecast as forecast_report
    from salesops_lib.reports import overview
    from salesops_lib.sources.demo import generate_demo

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workspace = make_workspace(Path(tmp), scale="default", weeks=13)
        cfg = load_settings(workspace.config)
        generate_demo(workspace.snapshots, cfg.demo.as_of, seed=cfg.demo.seed, scale="default",
                      weeks=13, regions=cfg.regions)  # fmt: skip
        os.environ.update(workspace.env())

        with overview.open_report_warehouse("all", "") as warehouse:
            start = time.perf_counter()
            data = forecast_report.load_forecast_data(warehouse, "all", HORIZON, 80)
            load_s = time.perf_counter() - start
        series = data.monthly
        start = time.perf_counter()
        backtest = forecasting.backtest(series, HORIZON, n_origins=3)
        forecasting.forecast(series, HORIZON, backtest.chosen)
        every_s = time.perf_counter() - start
        n_series = series["unique_id"].nunique()
        rows.append(
            (
                f"backtest + forecast of every demo series ({n_series} series, "
                f"{series.groupby('unique_id').size().max()} months, h={HORIZON}, "
                "3 origins, 1 process)",
                f"{every_s:.1f} s",
            )
        )
        start = time.perf_counter()
        forecast_report.compute_forecast(data)
        rows.append(
            (
                "all-regions report: load (series, win model over 7 earlier snapshots, "
                "ledger) / compute",
                f"{load_s:.1f} s / {time.perf_counter() - start:.1f} s",
            )
        )

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
