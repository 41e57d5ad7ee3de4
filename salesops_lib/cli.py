"""The ``salesops`` command line: demo data, validation, report runs.

Built with Typer. Heavy modules are imported inside the commands so that ``salesops --help``
starts fast. Every :class:`~salesops_lib.errors.WorkbenchError` is printed as one or two lines on
stderr and turned into a non-zero exit code; a traceback means a bug.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from salesops_lib.errors import WorkbenchError

app = typer.Typer(
    name="salesops",
    help="Sales Ops Workbench: demo snapshots, contracts, and per-region report runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def handles_errors(func: F) -> F:
    """Turn workbench errors raised by a command into a short message and an exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WorkbenchError as exc:
            _fail(str(exc), exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _say(message: str) -> None:
    typer.echo(message, err=True)


@app.command()
@handles_errors
def demo(
    as_of: Annotated[
        str | None, typer.Option(help="Latest snapshot date, YYYY-MM-DD (default: config).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: config).")] = None,
    scale: Annotated[
        str | None,
        typer.Option(help="tiny | small | default | large | huge, or a number of order lines."),
    ] = None,
    weeks: Annotated[
        int | None, typer.Option(help="Weekly snapshots to write, ending at --as-of.")
    ] = None,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing if any snapshot exists already.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace existing snapshots.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Snapshots folder (default: config paths.snapshots).")
    ] = None,
) -> None:
    """Generate the deterministic demo snapshots with planted signals (the embedded default)."""
    from salesops_lib.config import settings
    from salesops_lib.demo import generate_demo
    from salesops_lib.snapshot import list_snapshots

    cfg = settings()
    snapshots_dir = out or cfg.snapshots_dir
    if if_missing and list_snapshots(snapshots_dir):
        _say(f"snapshots exist in {snapshots_dir}; nothing to do (use --force to regenerate)")
        return
    paths = generate_demo(
        snapshots_dir,
        as_of or cfg.demo.as_of,
        seed=cfg.demo.seed if seed is None else seed,
        scale=cfg.demo.scale if scale is None else scale,
        weeks=cfg.demo.weeks if weeks is None else weeks,
        regions=cfg.regions,
        overwrite=force,
        progress=_say,
    )
    _say(f"wrote {len(paths)} snapshot(s): {paths[0].name} .. {paths[-1].name} in {snapshots_dir}")


@app.command()
@handles_errors
def snapshots(
    snapshots_dir: Annotated[Path | None, typer.Option("--dir", help="Snapshots folder.")] = None,
) -> None:
    """List the snapshots with their row counts."""
    from salesops_lib.config import settings
    from salesops_lib.snapshot import list_snapshots, open_snapshot

    folder = snapshots_dir or settings().snapshots_dir
    dates = list_snapshots(folder)
    if not dates:
        _fail(f"no snapshots in {folder}; run `salesops demo`")
    for date in dates:
        snap = open_snapshot(folder, date, verify=False)
        rows = snap.row_count("order_lines"), snap.row_count("opportunities")
        typer.echo(f"{snap.snapshot_id}  order_lines={rows[0]:>10,}  opportunities={rows[1]:>8,}")


@app.command()
@handles_errors
def validate(
    as_of: Annotated[
        str | None, typer.Argument(help="Snapshot date (default: latest); 'all' checks every one.")
    ] = None,
    failing_only: Annotated[
        bool, typer.Option("--failing-only", help="Print failing checks only.")
    ] = False,
) -> None:
    """Check a snapshot against its manifest and every contract; exit non-zero on any failure."""
    from salesops_lib.config import settings
    from salesops_lib.contracts import format_results, run_contracts
    from salesops_lib.snapshot import list_snapshots
    from salesops_lib.warehouse import Warehouse

    folder = settings().snapshots_dir
    targets: list[Any] = list_snapshots(folder) if as_of == "all" else [as_of]
    failed = 0
    for target in targets:
        with Warehouse.open(target) as wh:
            results = run_contracts(wh)
        bad = [r for r in results if not r.passed]
        failed += len(bad)
        typer.echo(f"snapshot {wh.snapshot.snapshot_id}:")
        typer.echo(format_results(results, show_passing=not failing_only))
    if failed:
        _fail(f"{failed} contract check(s) failed", 3)


@app.command()
@handles_errors
def run(
    region: Annotated[
        list[str] | None, typer.Option("--region", "-r", help="Region id; repeat for several.")
    ] = None,
    all_regions: Annotated[
        bool, typer.Option("--all", help="Every configured region plus the company view.")
    ] = False,
    as_of: Annotated[str | None, typer.Option(help="Snapshot date (default: latest).")] = None,
    notebook: Annotated[
        list[str] | None,
        typer.Option("--notebook", "-n", help="Notebook name under notebooks/ (default: all)."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Parallel notebook runs.")] = 2,
) -> None:
    """Run report notebooks per region through papermill and publish HTML under reports/."""
    from salesops_lib.config import ALL_REGIONS, settings
    from salesops_lib.errors import ParameterError
    from salesops_lib.runner import run_reports
    from salesops_lib.snapshot import open_snapshot

    cfg = settings()
    snapshot = open_snapshot(cfg.snapshots_dir, as_of or None)
    if all_regions and region:
        raise ParameterError("use either --region or --all, not both")
    if all_regions:
        regions = [*cfg.region_ids(), ALL_REGIONS]
    elif region:
        for region_id in region:
            cfg.region_name(region_id)  # raises for unknown ids, listing the allowed ones
        regions = list(region)
    else:
        raise ParameterError(
            f"name a region with --region (one of {', '.join(cfg.region_ids())}, {ALL_REGIONS}) "
            "or pass --all"
        )
    notebooks_dir = cfg.root / "notebooks"
    available = sorted(notebooks_dir.glob("[0-9][0-9]-*.ipynb"))
    if notebook:
        by_name = {p.stem: p for p in available} | {p.name: p for p in available}
        unknown = [n for n in notebook if n not in by_name]
        if unknown:
            raise ParameterError(
                f"unknown notebook(s) {', '.join(unknown)}; available: "
                f"{', '.join(p.stem for p in available)}"
            )
        selected = [by_name[n] for n in notebook]
    else:
        selected = available
    results = run_reports(
        selected,
        regions,
        snapshot.snapshot_id,
        cfg.reports_dir,
        workers=workers,
        progress=_say,
    )
    failed = [r for r in results if r.status != "ok"]
    typer.echo(
        f"{len(results) - len(failed)} report(s) published, {len(failed)} failed; "
        f"index: {cfg.reports_dir / snapshot.snapshot_id / 'index.html'}"
    )
    for result in failed:
        typer.echo(f"FAILED {result.region} {result.notebook}: {result.error}", err=True)
    if failed:
        raise typer.Exit(1)


def main() -> None:
    """Entry point used by ``python -m salesops_lib.cli``."""
    app()


if __name__ == "__main__":
    sys.exit(main())
