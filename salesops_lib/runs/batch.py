"""Run a configured job now (``salesops run`` and every scheduled firing go through here).

:func:`plan_job` turns a job of ``config/schedule.yml`` plus command-line overrides (regions,
notebooks, as-of, parameters) into checked runs, before any kernel starts;
:func:`run_planned` executes them with a progress display and prints the outcome.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from salesops_lib.core.config import ALL_REGIONS, Settings
from salesops_lib.core.errors import ParameterError
from salesops_lib.runs.jobs import Job, available_notebooks, notebooks_dir, resolve_parameter
from salesops_lib.runs.progress import RunProgress, failure_table
from salesops_lib.runs.runner import RunJob, RunResult, execute_runs, plan_jobs


def default_workers() -> int:
    """Parallel runs by default: the number of cores."""
    return os.cpu_count() or 1


def choose_regions(cfg: Settings, job: Job, regions: Sequence[str], all_regions: bool) -> list[str]:
    """The regions to run: ``--all``, the ``--region`` list, or the job's own.

    Args:
        cfg: Workbench settings (the configured regions).
        job: The job (its regions are the default).
        regions: ``--region`` ids.
        all_regions: ``--all``.

    Returns:
        Region ids, ``all`` meaning the company view.

    Raises:
        ParameterError: If both ``--all`` and ``--region`` are given.
        ConfigError: For an unknown region id (the message lists the configured ones).
    """
    if all_regions and regions:
        raise ParameterError("use either --region or --all, not both")
    if all_regions:
        return [*cfg.region_ids(), ALL_REGIONS]
    if regions:
        for region in regions:
            cfg.region_name(region)  # raises for unknown ids, listing the allowed ones
        return list(dict.fromkeys(regions))
    return list(job.regions)


def choose_notebooks(cfg: Settings, job: Job, names: Sequence[str]) -> list[Path]:
    """The notebooks to run: the ``--notebook`` names (any report notebook), or the job's own.

    Args:
        cfg: Workbench settings (the project root).
        job: The job (its notebooks are the default).
        names: ``--notebook`` names, with or without ``.ipynb``.

    Returns:
        Notebook paths.

    Raises:
        ParameterError: For a name that is not a report notebook; the message lists them.
    """
    if not names:
        return list(job.notebooks)
    available = available_notebooks(notebooks_dir(cfg))
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        if stem not in available:
            raise ParameterError(
                f"unknown notebook {name!r}; available: {', '.join(available) or 'none'}"
            )
        chosen.append(available[stem])
    return list(dict.fromkeys(chosen))


def plan_job(
    cfg: Settings,
    job: Job,
    as_of: str,
    regions: Sequence[str] = (),
    all_regions: bool = False,
    notebook_names: Sequence[str] = (),
    parameters: Mapping[str, Any] | None = None,
    kernel_name: str | None = None,
) -> list[RunJob]:
    """Check a job plus overrides and list its runs; nothing starts here.

    Args:
        cfg: Workbench settings.
        job: The configured job.
        as_of: Snapshot date (already checked to exist).
        regions: ``--region`` ids (empty for the job's).
        all_regions: ``--all``.
        notebook_names: ``--notebook`` names (empty for the job's).
        parameters: ``--param`` values (text), overriding the job's.
        kernel_name: Kernel to use (default ``$SALESOPS_KERNEL`` or ``python3``).

    Returns:
        The runs, notebook-major.

    Raises:
        ParameterError: For an unknown notebook or parameter, a mistyped value, or conflicting
            region options; ConfigError for an unknown region.
    """
    chosen_regions = choose_regions(cfg, job, regions, all_regions)
    notebooks = choose_notebooks(cfg, job, notebook_names)
    values = dict(job.parameters)
    for name, value in (parameters or {}).items():
        values[name] = resolve_parameter(notebooks, name, value)
    return plan_jobs(
        notebooks,
        chosen_regions,
        as_of,
        cfg.reports_dir,
        kernel_name=kernel_name,
        timeout_s=job.cell_timeout_s,
        run_timeout_s=job.run_timeout_s,
        parameters={k: v for k, v in values.items() if _declared_by_any(notebooks, k)},
        job_name=job.name,
    )


def _declared_by_any(notebooks: Sequence[Path], name: str) -> bool:
    from salesops_lib.runs.params import notebook_parameters

    return any(name in notebook_parameters(nb) for nb in notebooks)


def run_planned(
    runs: Sequence[RunJob],
    console: Console,
    workers: int,
    force: bool = False,
    executor: str = "local",
    scheduler_address: str | None = None,
) -> list[RunResult]:
    """Execute planned runs with a progress display, then print a summary (and failures).

    Args:
        runs: From :func:`plan_job`.
        console: Where progress and the failure table go (stderr in the CLI).
        workers: Parallel local runs.
        force: Run even when inputs are unchanged since the last success.
        executor: ``local`` or ``dask``.
        scheduler_address: The Dask scheduler (``dask`` only).

    Returns:
        One result per run, in plan order.
    """
    with RunProgress(console, workers) as progress:
        results = execute_runs(
            runs,
            workers=workers,
            force=force,
            executor=executor,
            scheduler_address=scheduler_address,
            on_result=progress.result,
            on_plan=progress.plan,
        )
    if any(r.status == "failed" for r in results):
        console.print(failure_table(results))
    return results


def summary_line(results: Sequence[RunResult], reports_dir: Path, as_of: str) -> str:
    """One line: how many published, skipped and failed, and where the index is.

    Args:
        results: The batch's results.
        reports_dir: The reports folder.
        as_of: The as-of date folder.

    Returns:
        The line.
    """
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed")}
    return (
        f"{counts['ok']} report(s) published, {counts['skipped']} unchanged (skipped), "
        f"{counts['failed']} failed; index: {reports_dir / as_of / 'index.html'}"
    )
