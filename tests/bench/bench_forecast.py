"""Benchmark: our backtest against statsforecast's own cross_validation on the same series.

1,000 synthetic monthly series of 48 months (seeded level, trend, yearly seasonality, noise),
horizon 12, 3 origins, the same four models (SeasonalNaive, AutoETS, AutoARIMA, AutoTheta) and
the same origin spacing, both with ``n_jobs=2``, in the same process and run. Our overhead is
what :func:`salesops_lib.analytics.forecasting.models.backtest` adds on top: input checks, the
Ensemble, the
long frame, MASE per origin, the other metrics and the model choice. One-time costs (import,
first fit) are measured separately, before either timed run. Prints a markdown table.

Usage::

    python -m tests.bench.bench_forecast [--series 1000] [--out reports/bench/forecast.md]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

LENGTH = 48
HORIZON = 12
ORIGINS = 3
SEASON = 12
N_JOBS = 2


def synthetic_series(count: int, seed: int = 0) -> pd.DataFrame:
    """Monthly series with a random level, trend, yearly seasonality and noise (no zeros)."""
    rng = np.random.default_rng(seed)
    months = np.arange(LENGTH)
    level = rng.uniform(500, 5000, (count, 1))
    trend = rng.normal(0, 0.01, (count, 1)) * level
    amplitude = rng.uniform(0.0, 0.3, (count, 1)) * level
    phase = rng.uniform(0, 2 * np.pi, (count, 1))
    noise = rng.normal(0, 1, (count, LENGTH)) * rng.uniform(0.02, 0.15, (count, 1)) * level
    values = level + trend * months + amplitude * np.sin(2 * np.pi * months / SEASON + phase)
    values = np.maximum(values + noise, 1.0)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i:04d}" for i in range(count)], LENGTH),
            "ds": np.tile(pd.date_range("2022-01-01", periods=LENGTH, freq="MS"), count),
            "y": values.ravel(),
        }
    )


def _library_cross_validation(series: pd.DataFrame, step_size: int) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    engine = StatsForecast(
        models=[
            SeasonalNaive(season_length=SEASON),
            AutoETS(season_length=SEASON),
            AutoARIMA(season_length=SEASON),
            AutoTheta(season_length=SEASON),
        ],
        freq="MS",
        n_jobs=N_JOBS,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return engine.cross_validation(
            h=HORIZON, df=series, n_windows=ORIGINS, step_size=step_size, level=[80, 95]
        )


def run(count: int) -> list[tuple[str, str]]:
    """Time the one-time costs, then the library's cross_validation and our backtest."""
    began = time.perf_counter()
    import statsforecast  # noqa: F401

    import_s = time.perf_counter() - began
    from salesops_lib.analytics.forecasting.models import backtest

    tiny = synthetic_series(2, seed=1)
    began = time.perf_counter()
    _library_cross_validation(tiny, step_size=6)
    first_fit_s = time.perf_counter() - began
    began = time.perf_counter()
    _library_cross_validation(tiny, step_size=6)
    second_fit_s = time.perf_counter() - began

    series = synthetic_series(count)
    step_size = min(HORIZON, (LENGTH - HORIZON - 2 * SEASON) // (ORIGINS - 1))
    began = time.perf_counter()
    library = _library_cross_validation(series, step_size)
    library_s = time.perf_counter() - began
    began = time.perf_counter()
    ours = backtest(series, HORIZON, n_origins=ORIGINS, season_length=SEASON, n_jobs=N_JOBS)
    ours_s = time.perf_counter() - began
    assert set(ours.chosen["series_kind"]) == {"seasonal"}
    assert len(ours.cv) == len(library) * 5  # four models plus the Ensemble
    return [
        ("series x months, horizon, origins", f"{count} x {LENGTH}, {HORIZON}, {ORIGINS}"),
        ("import statsforecast (s)", f"{import_s:.2f}"),
        ("first fit, 2 series (s)", f"{first_fit_s:.2f}"),
        ("same fit again (s)", f"{second_fit_s:.2f}"),
        ("statsforecast cross_validation (s)", f"{library_s:.1f}"),
        ("salesops backtest (s)", f"{ours_s:.1f}"),
        ("ratio ours / library", f"{ours_s / library_s:.2f} (target <= 1.20)"),
    ]


def main() -> None:
    """Run the benchmark and print (and optionally write) a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = run(args.series)
    lines = ["# Forecast backtest benchmark", "", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
