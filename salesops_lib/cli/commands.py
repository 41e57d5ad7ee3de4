"""The core commands: demo data, snapshots, validation, report runs, the store, the schedule,
past runs and imports.

Heavy modules are imported inside the commands so that ``salesops --help`` starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from salesops_lib.cli.app import _fail, _say, _stderr_console, app, handles_errors


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
    from salesops_lib.core.config import settings
    from salesops_lib.data.snapshot import list_snapshots
    from salesops_lib.sources.demo import generate_demo

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
    from salesops_lib.core.config import settings
    from salesops_lib.data.snapshot import list_snapshots, open_snapshot

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
    from salesops_lib.core.config import settings
    from salesops_lib.data.contract_report import format_results
    from salesops_lib.data.contracts import run_contracts
    from salesops_lib.data.snapshot import list_snapshots
    from salesops_lib.data.warehouse import Warehouse

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
    job: Annotated[str, typer.Argument(help="Job in config/schedule.yml.")] = "default",
    region: Annotated[
        list[str] | None, typer.Option("--region", "-r", help="Region id; repeat for several.")
    ] = None,
    all_regions: Annotated[
        bool, typer.Option("--all", help="Every configured region plus the company view.")
    ] = False,
    as_of: Annotated[str | None, typer.Option(help="Snapshot date (default: latest).")] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Notebook parameter name=value; repeat for several."),
    ] = None,
    notebook: Annotated[
        list[str] | None,
        typer.Option("--notebook", "-n", help="Report notebook (NN-topic); default: the job's."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Parallel runs (default: number of cores).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run even if inputs are unchanged since last success.")
    ] = False,
    executor: Annotated[
        str, typer.Option(help="local (process pool) or dask (a distributed cluster).")
    ] = "local",
    scheduler_address: Annotated[
        str | None, typer.Option(help="Dask scheduler, e.g. tcp://127.0.0.1:8786.")
    ] = None,
) -> None:
    """Run a job's report notebooks per region through papermill and publish HTML."""
    from salesops_lib.core.config import project_root, settings
    from salesops_lib.core.errors import ParameterError
    from salesops_lib.data.snapshot import open_snapshot
    from salesops_lib.runs.batch import default_workers, plan_job, run_planned, summary_line
    from salesops_lib.runs.executors import EXECUTORS
    from salesops_lib.runs.jobs import get_job, load_jobs
    from salesops_lib.runs.params import parse_assignments

    if executor not in EXECUTORS:
        raise ParameterError(f"--executor {executor!r}: allowed: {', '.join(EXECUTORS)}")
    if executor == "dask" and not scheduler_address:
        raise ParameterError("--executor dask needs --scheduler-address tcp://HOST:PORT")
    cfg = settings()
    snapshot = open_snapshot(cfg.snapshots_dir, as_of or None)
    configured = get_job(job, load_jobs(cfg=cfg))
    if executor == "dask" and scheduler_address:
        from salesops_lib.runs.executors import check_scheduler

        if check_scheduler(scheduler_address) == 0:
            _say(f"warning: no Dask workers connected to {scheduler_address} yet")
    runs = plan_job(
        cfg,
        configured,
        snapshot.snapshot_id,
        regions=region or [],
        all_regions=all_regions,
        notebook_names=notebook or [],
        parameters=parse_assignments(param or []),
    )
    _build_store(snapshot.snapshot_id, executor, scheduler_address)  # after the checks
    results = run_planned(
        runs,
        _stderr_console(),
        workers=workers or default_workers(),
        force=force,
        executor=executor,
        scheduler_address=scheduler_address,
    )
    typer.echo(summary_line(results, cfg.reports_dir, snapshot.snapshot_id))
    from salesops_lib.runs.queries import render_run_questions  # after the checks: heavy

    pages, failures = render_run_questions(
        project_root() / "queries", snapshot.snapshot_id, sorted({r.region for r in runs}),
        cfg.reports_dir,
    )  # fmt: skip
    if pages or failures:
        typer.echo(f"question pages: {len(pages)} published, {len(failures)} failed")
    for line in failures:
        _say(f"  failed: {line}")
    if failures or any(r.status == "failed" for r in results):
        raise typer.Exit(1)


def _build_store(as_of: str | None, executor: str, scheduler_address: str | None) -> int:
    """Build the snapshot's analytics store if it is missing; return its failed steps' count."""
    from salesops_lib.analytics.build import build_store

    result = build_store(
        as_of, executor=executor, scheduler=scheduler_address, progress=lambda s: _say(f"  {s}")
    )
    state = "built" if result.built else "up to date"
    _say(f"analytics store {state}: {result.store.folder} ({result.seconds:.1f} s)")
    for step, error in result.failed_steps.items():
        _say(f"  failed step {step}: {error} (reports that need it will fail; the rest run)")
    return len(result.failed_steps)


@app.command()
@handles_errors
def build(
    as_of: Annotated[str | None, typer.Option(help="Snapshot date (default: latest).")] = None,
    executor: Annotated[
        str, typer.Option(help="local (this process) or dask (a distributed cluster).")
    ] = "local",
    scheduler_address: Annotated[
        str | None,
        typer.Option(help="Dask scheduler, e.g. tcp://127.0.0.1:8786 (default: a local cluster)."),
    ] = None,
) -> None:
    """Compute a snapshot's heavy analytics once into its analytics store (no-op if built)."""
    if _build_store(as_of, executor, scheduler_address):
        raise typer.Exit(1)


@app.command()
@handles_errors
def schedule(
    next_: Annotated[
        bool, typer.Option("--next", help="Print the next fire times of every job and exit.")
    ] = False,
    now: Annotated[
        str | None, typer.Option(help="Count --next from this ISO time (default: now, UTC).")
    ] = None,
    count: Annotated[int, typer.Option(min=1, help="Fire times per job for --next.")] = 1,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Parallel runs (default: number of cores).")
    ] = None,
    executor: Annotated[str, typer.Option(help="local or dask.")] = "local",
    scheduler_address: Annotated[
        str | None, typer.Option(help="Dask scheduler, e.g. tcp://127.0.0.1:8786.")
    ] = None,
) -> None:
    """Fire the jobs of config/schedule.yml on their cron expressions (foreground)."""
    import datetime as dt

    from salesops_lib.core.config import settings
    from salesops_lib.core.errors import ParameterError, WorkbenchError
    from salesops_lib.data.snapshot import open_snapshot
    from salesops_lib.runs.batch import default_workers, plan_job, run_planned, summary_line
    from salesops_lib.runs.jobs import Job, load_jobs
    from salesops_lib.runs.scheduler import next_fire_table, run_scheduler

    cfg = settings()
    jobs = load_jobs(cfg=cfg)
    if next_:
        try:
            start = dt.datetime.fromisoformat(now) if now else dt.datetime.now(dt.UTC)
        except ValueError:
            raise ParameterError(f"--now {now!r} is not an ISO date-time") from None
        start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
        for line in next_fire_table(jobs, start, count):
            typer.echo(line)
        return
    console = _stderr_console()

    def fire(job: Job) -> None:
        try:
            snapshot = open_snapshot(cfg.snapshots_dir, None)
            runs = plan_job(cfg, job, snapshot.snapshot_id)
            results = run_planned(
                runs,
                console,
                workers=workers or default_workers(),
                executor=executor,
                scheduler_address=scheduler_address,
            )
            console.print(
                f"job {job.name}: " + summary_line(results, cfg.reports_dir, snapshot.snapshot_id),
                highlight=False,
            )
        except WorkbenchError as exc:
            console.print(f"job {job.name}: error: {exc}", highlight=False, markup=False)

    run_scheduler(jobs, fire, console)


@app.command()
@handles_errors
def runs(
    limit: Annotated[int, typer.Option(min=1, help="Most recent runs to list.")] = 20,
    failed: Annotated[bool, typer.Option("--failed", help="List failed runs only.")] = False,
) -> None:
    """List past runs (newest first) with status, duration and where the outputs are."""
    from rich.console import Console
    from rich.table import Table

    from salesops_lib.core.config import settings
    from salesops_lib.runs.records import read_manifests

    manifests = read_manifests(settings().reports_dir)
    if failed:
        manifests = [m for m in manifests if m.get("status") != "ok"]
    manifests = manifests[:limit]
    if not manifests:
        typer.echo(f"no runs recorded in {settings().reports_dir}")
        return
    table = Table()
    for column in ("started", "job", "as of", "region", "notebook", "status", "seconds", "output"):
        table.add_column(column, overflow="fold")
    for m in manifests:
        outputs = m.get("outputs") or {}
        table.add_row(
            str(m.get("started_at", "")),
            str(m.get("job", "")),
            str(m.get("as_of", "")),
            str(m.get("region", "")),
            str(m.get("notebook", "")),
            str(m.get("status", "")),
            f"{float(m.get('duration_s') or 0):.1f}",
            str(outputs.get("html") or outputs.get("notebook") or m.get("error") or ""),
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@app.command("import")
@handles_errors
def import_(
    mapping: Annotated[
        Path, typer.Argument(help="YAML mapping, e.g. config/mappings/maven_crm.yml")
    ],
    sources: Annotated[list[Path], typer.Argument(help="Source files or folders holding them.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Snapshot date YYYY-MM-DD (default: from data).")
    ] = None,
    snapshots_dir: Annotated[
        Path | None, typer.Option("--snapshots", help="Snapshot folder (default: configured).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing snapshot.")] = False,
) -> None:
    """Import CSV exports through a YAML mapping into a validated snapshot (rows that break a
    rule are quarantined, never dropped)."""
    from salesops_lib.core.config import settings
    from salesops_lib.sources.importer.command import (
        import_snapshot,  # imported here: keeps --help fast
    )

    folder = snapshots_dir or settings().snapshots_dir
    summary = import_snapshot(mapping, list(sources), as_of, folder, force)
    for line in summary.lines():
        typer.echo(line)
