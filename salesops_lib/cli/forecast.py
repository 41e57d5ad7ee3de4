"""Forecast commands: ``salesops forecast-backfill`` and ``salesops forecast-eval``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from salesops_lib.cli.app import _fail, _say, _stderr_console, app, handles_errors


@app.command("forecast-backfill")
@handles_errors
def forecast_backfill(
    every_weeks: Annotated[
        int, typer.Option(min=1, help="Weeks between the earlier forecasts (4: monthly).")
    ] = 4,
    count: Annotated[int, typer.Option(min=1, help="At most this many earlier forecasts.")] = 3,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Parallel runs (default: number of cores).")
    ] = None,
) -> None:
    """Run the company forecast report on earlier snapshots so the ledger has forecasts to score.

    A weekly schedule fills the forecast ledger by itself; on a new workspace this runs
    20-forecast for the company view (which records every region and the total) on snapshots
    every few weeks back from the latest, so the latest reports can already show accuracy.
    """
    from salesops_lib.analytics.forecasting.ledger import backfill_dates
    from salesops_lib.core.config import ALL_REGIONS, settings
    from salesops_lib.data.snapshot import list_snapshots
    from salesops_lib.runs.batch import default_workers, plan_job, run_planned, summary_line
    from salesops_lib.runs.jobs import get_job, load_jobs

    cfg = settings()
    dates = backfill_dates(list_snapshots(cfg.snapshots_dir), every_weeks, count)
    if not dates:
        typer.echo(f"no snapshot {every_weeks} or more weeks before the latest: nothing to do")
        return
    job = get_job("default", load_jobs(cfg=cfg))
    runs = [
        planned
        for day in dates
        for planned in plan_job(
            cfg, job, day.isoformat(), regions=[ALL_REGIONS], notebook_names=["20-forecast"]
        )
    ]
    results = run_planned(runs, _stderr_console(), workers=workers or default_workers())
    label = ", ".join(day.isoformat() for day in dates)
    typer.echo(f"forecasts as of {label}: " + summary_line(results, cfg.reports_dir, label[-10:]))
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


@app.command("forecast-eval")
@handles_errors
def forecast_eval(
    file: Annotated[Path, typer.Argument(help="Long CSV: one row per series and month.")],
    date_col: Annotated[
        str,
        typer.Option(
            "--date-col",
            help="Column holding the month: 1991-07, 1991 Jul, Jul-1991, 07/1991, a full date "
            "or an Excel serial day number (one format per column).",
        ),
    ],
    value_col: Annotated[str, typer.Option("--value-col", help="Column holding the value.")],
    horizon: Annotated[int, typer.Option("--horizon", help="Months forecast per origin.")],
    id_col: Annotated[
        str | None,
        typer.Option(
            "--id-col",
            help="Column holding the series id; leave out for a file with one series.",
        ),
    ] = None,
    origins: Annotated[int, typer.Option("--origins", help="Backtest origins.")] = 3,
    season_length: Annotated[
        int, typer.Option("--season-length", help="Months per season (12 = yearly).")
    ] = 12,
    output: Annotated[
        Path | None, typer.Option("--output", help="Also write the score table to this CSV.")
    ] = None,
) -> None:
    """Backtest every forecasting model on your own monthly series and print MASE, sMAPE, bias
    and 80%/95% interval coverage per series and model (* marks the chosen model)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from salesops_lib.analytics.forecasting.csv_eval import (  # imported here: fast --help
        evaluate_csv,
        score_table,
    )

    result = evaluate_csv(file, id_col, date_col, value_col, horizon, origins, season_length)
    scores = score_table(result)
    table = Table(title=f"Backtest: horizon {horizon}, {origins} origins")
    for column in ("series", "model", "MASE", "sMAPE", "bias", "cov 80%", "cov 95%", "points"):
        table.add_column(column, overflow="fold")

    def number(value: float, pattern: str) -> Text:
        return Text("-" if value != value else format(value, pattern))

    for row in scores.itertuples():
        table.add_row(
            Text(str(row.unique_id)),  # ids are data: Text, never markup
            Text(f"{row.model}{' *' if row.chosen else ''}"),
            number(row.mase, ".3f"),
            number(row.smape, ".1f"),
            number(row.bias, ",.2f"),
            number(row.coverage_80, ".0%"),
            number(row.coverage_95, ".0%"),
            Text(str(row.n_points)),
        )
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    for row in result.chosen.itertuples():
        console.print(Text(f"{row.unique_id}: {row.method_note}"))
    if output is not None:
        try:
            scores.to_csv(output, index=False)
        except OSError as exc:
            _fail(f"{output}: cannot write the score table ({exc.strerror})")
        _say(f"wrote {output}")
