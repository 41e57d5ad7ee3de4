"""Compensation commands: ``salesops comp calculate``, ``lock``, ``compare`` and ``runs``.

``calculate`` prices a plans file over credits (a CSV, or the latest snapshot's bookings),
writes ``PAYOUTS.csv`` (one row per rep x plan x period) and ``PAYOUTS.lines.csv`` beside it
(every credited deal's tier, rate and amount, and each adjustment), and records the run in the
append-only payout ledger (``Settings.comp_ledger_dir``). A locked period is never rewritten:
changes to it are posted as prior-period adjustments in the first unlocked period.
Bad plan or input files are reported in one or two lines with a non-zero exit.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from salesops_lib.cli.app import _say, app, handles_errors
from salesops_lib.core.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

comp = typer.Typer(
    name="comp",
    help="Incentive compensation: calculate payouts, lock periods, compare plan designs.",
    no_args_is_help=True,
)
app.add_typer(comp, name="comp")

MONEY_COLUMNS = (
    "quota",
    "credit",
    "commission",
    "spif",
    "clawback",
    "draw",
    "draw_recovery",
    "true_up",
    "capped_excess",
    "held",
    "payout",
    "adjustment",
    "payout_due",
)
PERIOD_OPTION = typer.Option(
    "--period", help="Only this period: YYYY-MM, YYYY-Qn or YYYY (default: every period)."
)


@dataclass(frozen=True)
class _Inputs:
    credits: pd.DataFrame
    quotas: pd.DataFrame
    cancellations: pd.DataFrame | None
    hire_dates: pd.DataFrame | None
    as_of: dt.date
    engine_as_of: dt.date | None
    checksums: dict[str, Path | str]


def _load_inputs(
    credits: Path | None,
    quotas: Path | None,
    cancellations: Path | None,
    as_of: str | None,
) -> _Inputs:
    """Read the input files; what is not given comes from the snapshot (latest or --as-of)."""
    from salesops_lib.analytics.compensation import (
        read_cancellations_csv,
        read_credits_csv,
        read_quotas_csv,
    )

    snapshot = None
    if credits is None or quotas is None:
        from salesops_lib.analytics.compensation.snapshot_inputs import read_snapshot_inputs

        snapshot = read_snapshot_inputs(as_of)
    checksums: dict[str, Path | str] = {}
    if credits is not None:
        credit_frame = read_credits_csv(credits)
        checksums["credits"] = credits
    else:
        assert snapshot is not None
        credit_frame = snapshot.credits
        checksums["credits"] = f"snapshot {snapshot.snapshot_id} {snapshot.checksum}"
    if quotas is not None:
        quota_frame = read_quotas_csv(quotas)
        checksums["quotas"] = quotas
    else:
        assert snapshot is not None
        quota_frame = snapshot.quotas
        checksums["quotas"] = f"snapshot {snapshot.snapshot_id} {snapshot.checksum}"
    cancel_frame = None
    if cancellations is not None:
        cancel_frame = read_cancellations_csv(cancellations)
        checksums["cancellations"] = cancellations
    elif snapshot is not None and credits is None and snapshot.cancellations is not None:
        cancel_frame = snapshot.cancellations
        checksums["cancellations"] = f"snapshot {snapshot.snapshot_id} {snapshot.checksum}"
    engine_as_of: dt.date | None = None
    if snapshot is not None:
        engine_as_of = snapshot.as_of
    elif as_of is not None:
        try:
            engine_as_of = dt.date.fromisoformat(as_of)
        except ValueError:
            raise ParameterError(f"--as-of {as_of!r} is not a date; use YYYY-MM-DD") from None
    return _Inputs(
        credits=credit_frame,
        quotas=quota_frame,
        cancellations=cancel_frame,
        hire_dates=snapshot.hire_dates if snapshot is not None else None,
        as_of=engine_as_of or dt.date.today(),
        engine_as_of=engine_as_of,
        checksums=checksums,
    )


def lines_path(output: Path) -> Path:
    """The lines file beside a payouts file: ``PAYOUTS.csv`` -> ``PAYOUTS.lines.csv``."""
    return output.with_name(f"{output.stem}.lines{output.suffix or '.csv'}")


def _csv_ready(frame: pd.DataFrame, money: tuple[str, ...]) -> pd.DataFrame:
    """Dates as ISO text, money with exactly two decimals, everything else as is."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
        elif column in money and pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(lambda v: "" if v != v else f"{v:.2f}")
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    from salesops_lib.cli.adhoc import atomic_output

    try:
        with atomic_output(path) as temporary:
            frame.to_csv(temporary, index=False, lineterminator="\n")
    except OSError as exc:
        raise ParameterError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _ledger_dir(ledger: Path | None) -> Path:
    from salesops_lib.core.config import settings

    return ledger if ledger is not None else settings().comp_ledger_dir


@comp.command("calculate")
@handles_errors
def calculate(
    plans: Annotated[Path, typer.Argument(help="Plans YAML (see config/comp_plans.example.yml).")],
    output: Annotated[Path, typer.Option("--output", help="Payouts CSV to write.")],
    credits: Annotated[
        Path | None,
        typer.Option("--credits", help="CSV rep_id,credit_date,amount[,deal_id,split_pct]."),
    ] = None,
    quotas: Annotated[
        Path | None, typer.Option("--quotas", help="CSV rep_id,period_start,quota.")
    ] = None,
    cancellations: Annotated[
        Path | None, typer.Option("--cancellations", help="CSV deal_id,cancel_date.")
    ] = None,
    period: Annotated[str | None, PERIOD_OPTION] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Snapshot to read (default: latest); with CSV inputs, ignore later credits.",
        ),
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Why inputs changed; quoted in any adjustment.")
    ] = "",
    ledger: Annotated[
        Path | None, typer.Option("--ledger", help="Payout ledger folder (default: configured).")
    ] = None,
) -> None:
    """Calculate payouts, write PAYOUTS.csv and PAYOUTS.lines.csv, record the run in the ledger.

    Without --credits/--quotas the latest snapshot's bookings, quotas and hire dates are used.
    """
    from salesops_lib.analytics.compensation import calculate_payouts, load_plan_book
    from salesops_lib.analytics.compensation.ledger import record_payout_run
    from salesops_lib.analytics.compensation.model import LINE_COLUMNS, PAYOUT_COLUMNS

    book = load_plan_book(plans)
    inputs = _load_inputs(credits, quotas, cancellations, as_of)
    result = calculate_payouts(
        book,
        inputs.credits,
        inputs.quotas,
        period=period,
        cancellations=inputs.cancellations,
        hire_dates=inputs.hire_dates,
        as_of=inputs.engine_as_of,
    )
    if result.payouts.empty:
        raise ParameterError(
            f"{plans}: no rep on a plan has a payout row"
            + (f" in period {period}" if period else "")
            + "; check the assignments and the credit dates"
        )
    run = record_payout_run(
        _ledger_dir(ledger),
        result,
        inputs={"plans": plans, **inputs.checksums},
        plan_version=book.version,
        as_of=inputs.as_of,
        plan_text=book.text,
        reason=reason,
    )
    payout_columns = [*PAYOUT_COLUMNS, "locked", "adjustment", "payout_due"]
    line_columns = [*LINE_COLUMNS, "locked"]
    lines_out = run.lines[[c for c in line_columns if c in run.lines.columns]]
    _write_csv(_csv_ready(run.payouts[payout_columns], MONEY_COLUMNS), output)
    _write_csv(_csv_ready(lines_out, ()), lines_path(output))
    total = run.payouts["payout_due"].sum()
    _say(
        f"wrote {output} ({run.payouts['rep_id'].nunique()} reps, "
        f"{len(run.periods)} period(s), payout due {total:,.2f}) and {lines_path(output)}"
    )
    _say(f"payout run {run.run_id} recorded in {run.folder.parent.parent}")
    if len(run.adjustments):
        _say(
            f"{len(run.adjustments)} prior-period adjustment(s) posted for locked periods, total "
            f"{run.adjustments['amount'].sum():,.2f}"
        )


@comp.command("lock")
@handles_errors
def lock(
    period: Annotated[str, typer.Argument(help="Period to lock: YYYY-MM, YYYY-Qn or YYYY.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "",
    by: Annotated[
        str | None, typer.Option("--by", help="Who locks it (default: the user name).")
    ] = None,
    ledger: Annotated[
        Path | None, typer.Option("--ledger", help="Payout ledger folder (default: configured).")
    ] = None,
) -> None:
    """Lock a period: its payouts in the latest run become final (later changes are adjustments)."""
    from salesops_lib.analytics.compensation.ledger import lock_period

    who = by or os.environ.get("USER") or getpass.getuser()
    locked = lock_period(_ledger_dir(ledger), period, by=who, reason=reason)
    typer.echo(f"locked {locked.period} (run {locked.run_id}) by {locked.by}")


@comp.command("runs")
@handles_errors
def runs(
    ledger: Annotated[
        Path | None, typer.Option("--ledger", help="Payout ledger folder (default: configured).")
    ] = None,
) -> None:
    """List the recorded payout runs and the locked periods."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from salesops_lib.analytics.compensation.ledger import list_runs, locked_periods

    folder = _ledger_dir(ledger)
    table = Table(title=f"Payout runs in {folder}")
    for column in ("run", "recorded", "as of", "periods", "reps", "payout due", "adj."):
        table.add_column(column)
    for row in list_runs(folder).itertuples():
        table.add_row(
            Text(row.run_id),
            Text(row.recorded_at),
            Text(str(row.as_of)),
            Text(row.periods),
            Text(str(row.reps)),
            Text(f"{row.payout_due:,.2f}"),
            Text(str(row.adjustments)),
        )
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    for row in locked_periods(folder).itertuples():
        console.print(Text(f"locked {row.period} at {row.locked_at} by {row.by}: {row.reason}"))


def _labels(paths: list[Path]) -> list[str]:
    stems = [p.stem for p in paths]
    return stems if len(set(stems)) == len(stems) else [str(p) for p in paths]


def _money_text(value: float) -> Any:
    from rich.text import Text

    return Text("-" if value != value else f"{value:,.2f}")


def _share_text(value: float) -> Any:
    from rich.text import Text

    return Text("-" if value != value else f"{value:.2%}")


@comp.command("compare")
@handles_errors
def compare(
    plans: Annotated[list[Path], typer.Argument(help="Two or more plans YAML files; first = A.")],
    credits: Annotated[
        Path | None, typer.Option("--credits", help="Credits CSV (default: latest snapshot).")
    ] = None,
    quotas: Annotated[
        Path | None, typer.Option("--quotas", help="Quotas CSV (default: latest snapshot).")
    ] = None,
    cancellations: Annotated[
        Path | None, typer.Option("--cancellations", help="CSV deal_id,cancel_date.")
    ] = None,
    period: Annotated[str | None, PERIOD_OPTION] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot to read.")] = None,
    cliff_threshold: Annotated[
        float | None,
        typer.Option("--cliff-threshold", help="Payout jump per 1% attainment that is a cliff."),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Winners/losers shown.")] = 10,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="CSV of cost of sales by plan and scenario (+ .reps.csv)."),
    ] = None,
) -> None:
    """The same history under several plan files: cost of sales, scenarios, winners and
    losers against the first file, and payout cliffs."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from salesops_lib.analytics.compensation import load_plan_book
    from salesops_lib.analytics.compensation.whatif import compare_plan_books

    if len(plans) < 2:
        raise ParameterError("comp compare needs at least two plans files (PLAN_A.yml PLAN_B.yml)")
    books = {label: load_plan_book(path) for label, path in zip(_labels(plans), plans, strict=True)}
    inputs = _load_inputs(credits, quotas, cancellations, as_of)
    comparison = compare_plan_books(
        books,
        inputs.credits,
        inputs.quotas,
        cliff_threshold=cliff_threshold,
        period=period,
        cancellations=inputs.cancellations,
        hire_dates=inputs.hire_dates,
        as_of=inputs.engine_as_of,
    )
    console = Console(width=None if sys.stdout.isatty() else 200)
    scenarios = comparison.scenarios
    table = Table(title="Cost of sales by plan and attainment scenario")
    for column in ("plan", "scenario", "reps", "credited revenue", "payout", "cost of sales"):
        table.add_column(column)
    for row in scenarios.itertuples():
        table.add_row(
            Text(row.book),
            Text(row.scenario),
            Text(str(row.reps)),
            _money_text(row.credit),
            _money_text(row.payout),
            _share_text(row.cost_of_sales),
        )
    console.print(table)
    changes = comparison.changes
    baseline, *others = list(books)
    for label in others:
        part = changes[changes["book"] == label]
        counts = part["outcome"].value_counts()
        movers = Table(
            title=f"{label} vs {baseline}: {counts.get('wins', 0)} win, "
            f"{counts.get('loses', 0)} lose, {counts.get('same', 0)} unchanged"
        )
        for column in ("rep", "payout A", "payout B", "change", "outcome"):
            movers.add_column(column)
        shown = pd_concat_ends(part, top)
        for row in shown.itertuples():
            movers.add_row(
                Text(str(row.rep_id)),
                _money_text(row.payout_a),
                _money_text(row.payout_b),
                _money_text(row.change),
                Text(row.outcome),
            )
        console.print(movers)
    cliffs = comparison.cliffs
    if cliffs.empty:
        console.print(Text("no payout cliffs: no 1% attainment step jumps payout abnormally"))
    for row in cliffs.itertuples():
        console.print(
            Text(
                f"cliff in {row.book} plan {row.plan_id}: attainment {row.attainment_from:.0%} "
                f"-> {row.attainment_to:.0%} moves payout {row.payout_from:,.2f} -> "
                f"{row.payout_to:,.2f} ({row.jump:+,.2f})"
            )
        )
    if output is not None:
        _write_csv(scenarios, output)
        reps_file = output.with_name(f"{output.stem}.reps{output.suffix or '.csv'}")
        _write_csv(changes, reps_file)
        _say(f"wrote {output} and {reps_file}")


def pd_concat_ends(part: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` largest gains and ``top`` largest losses (part is sorted by change, desc)."""
    if len(part) <= 2 * top:
        return part
    import pandas as pd

    return pd.concat([part.head(top), part.tail(top)])
