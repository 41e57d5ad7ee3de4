"""Run report notebooks per region through papermill, in parallel, and publish them.

:func:`plan_jobs` checks the inputs and lists one :class:`RunJob` per notebook x region;
:func:`execute_runs` skips the runs whose inputs are unchanged since their last success, fans the
rest out (:mod:`salesops_lib.runs.executors`: this process, a local process pool or a Dask
cluster) and rewrites the index pages; :func:`run_reports` does both. Each run
(:func:`~salesops_lib.runs.one_run.run_job`, in any process) executes its notebook with papermill
in a quiet kernel (:mod:`salesops_lib.runs.kernel`; local workers keep theirs across runs and
reset it in between), renders the HTML in the same process, and publishes it
(:mod:`salesops_lib.runs.one_run`). One run's failure (an exception, a cell or run timeout, a
dead kernel) never stops the others.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from salesops_lib.core.config import ALL_REGIONS, REGION_ID_PATTERN, settings
from salesops_lib.core.errors import ParameterError, WorkbenchError
from salesops_lib.core.headlines import HEADLINES_MIMETYPE
from salesops_lib.data.snapshot import list_snapshots, open_snapshot, parse_as_of
from salesops_lib.data.submissions import submissions_dir_for, submissions_fingerprint
from salesops_lib.runs.execute import read_headlines
from salesops_lib.runs.model import KERNEL_ENV, RunJob, RunResult, default_kernel, result_dict
from salesops_lib.runs.one_run import clean_stale_staging, record_crash, run_job
from salesops_lib.runs.params import notebook_parameters
from salesops_lib.runs.publish import (
    RECORD_SUFFIX,
    ReportsWriteError,
    check_writable,
    write_indexes,
)
from salesops_lib.runs.records import code_fingerprint, inputs_fingerprint, unchanged_since_success

__all__ = [
    "HEADLINES_MIMETYPE",
    "KERNEL_ENV",
    "RunJob",
    "RunResult",
    "clean_stale_staging",
    "default_kernel",
    "execute_runs",
    "plan_jobs",
    "read_headlines",
    "record_crash",
    "result_dict",
    "run_job",
    "run_reports",
]
REUSE_ENV = "SALESOPS_KERNEL_REUSE"
_TOPIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _resolve_as_of(as_of: str) -> str:
    if not as_of:
        available = list_snapshots(settings().snapshots_dir)
        if not available:
            raise ParameterError(f"no snapshots in {settings().snapshots_dir} to default as_of to")
        return available[-1].isoformat()
    try:
        return parse_as_of(as_of).isoformat()
    except WorkbenchError as exc:
        raise ParameterError(str(exc)) from None


def _snapshot_identity(as_of: str) -> tuple[str | None, str | None]:
    """The snapshot's id and checksum; ``None`` when there is no folder for the date.

    A folder that exists but fails an identity check (no manifest, renamed or linked to
    another date) raises here, before any kernel starts.
    """
    if as_of not in {d.isoformat() for d in list_snapshots(settings().snapshots_dir)}:
        return None, None
    snapshot = open_snapshot(settings().snapshots_dir, as_of, verify=False)
    return snapshot.snapshot_id, snapshot.checksum


def _declared_parameters(notebook: Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    if not parameters:
        return {}
    declared = notebook_parameters(notebook)
    return {name: value for name, value in parameters.items() if name in declared}


def _data_checksum(notebook: Path, checksum: str | None, as_of: str) -> str | None:
    """The snapshot checksum, plus the submissions' digest for a notebook that reads them.

    A notebook whose metadata says ``"salesops": {"reads": ["submissions"]}`` (the forecast
    call) depends on the forecast submissions too: a late submission changes its fingerprint,
    so the next run is not skipped.
    """
    metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    reads = metadata.get("salesops", {}).get("reads", [])
    if "submissions" not in reads or checksum is None:
        return checksum
    folder = submissions_dir_for(settings().snapshots_dir)
    return f"{checksum}+submissions:{submissions_fingerprint(folder, parse_as_of(as_of))}"


def plan_jobs(
    notebooks: Sequence[Path],
    regions: Sequence[str],
    as_of: str,
    reports_dir: Path,
    kernel_name: str | None = None,
    timeout_s: int = 600,
    run_timeout_s: int | None = None,
    parameters: Mapping[str, Any] | None = None,
    job_name: str = "adhoc",
) -> list[RunJob]:
    """Check the inputs and list one job per notebook x region.

    Args:
        notebooks: Notebook files to run.
        regions: Region ids (path-safe) or ``all``.
        as_of: Snapshot date ``YYYY-MM-DD``; ``""`` means the latest configured snapshot.
        reports_dir: Root of the published reports.
        kernel_name: Kernel to use; defaults to :func:`default_kernel`.
        timeout_s: Limit per cell, in seconds.
        run_timeout_s: Limit per run, in seconds (``None`` for none).
        parameters: Parameters beyond ``region`` and ``as_of`` (already checked, see
            :mod:`salesops_lib.runs.jobs`); each notebook gets those its ``parameters`` cell
            declares.
        job_name: The job the runs belong to, for the records.

    Returns:
        The jobs, notebook-major in the given orders, each with its inputs fingerprint.

    Raises:
        ParameterError: For a missing notebook, a notebook name or region id that is not
            path-safe, or an as-of that is not a date.
    """
    date = _resolve_as_of(as_of)
    for region in regions:
        if region != ALL_REGIONS and not REGION_ID_PATTERN.match(region):
            raise ParameterError(
                f"region {region!r} is not a region id (lowercase letters, digits, hyphens) "
                f"or {ALL_REGIONS!r}"
            )
    for notebook in notebooks:
        if not Path(notebook).is_file():
            raise ParameterError(f"notebook {notebook} not found")
        if not _TOPIC.match(Path(notebook).stem):
            raise ParameterError(f"notebook name {Path(notebook).name!r} is not path-safe")
    snapshot_id, checksum = _snapshot_identity(date)
    kernel = kernel_name or default_kernel()
    code = code_fingerprint()
    jobs = []
    for nb in notebooks:
        path = Path(nb).resolve()
        extra = _declared_parameters(path, parameters or {})
        data = _data_checksum(path, checksum, date)  # one per notebook, the same for every region
        for region in dict.fromkeys(regions):
            job = RunJob(
                notebook=path,
                region=region,
                as_of=date,
                reports_dir=Path(reports_dir),
                kernel_name=kernel,
                timeout_s=timeout_s,
                snapshot_id=snapshot_id,
                snapshot_checksum=checksum,
                run_timeout_s=run_timeout_s,
                job_name=job_name,
                parameters=extra,
            )
            fingerprint = inputs_fingerprint(path, job.all_parameters, data, code, kernel)
            jobs.append(replace(job, inputs_fingerprint=fingerprint, command=_command(job)))
    return jobs


def _command(job: RunJob) -> str:
    """The shell command that re-runs one run, every word shell-quoted (safe to paste)."""
    words = ["salesops", "run"]
    if job.job_name != "adhoc":
        words.append(job.job_name)
    words += ["--region", job.region, "--as-of", job.as_of, "--notebook", job.topic]
    for name, value in job.parameters.items():
        words += ["--param", f"{name}={value}"]
    return shlex.join([*words, "--force"])


def _skipped(job: RunJob, record: Mapping[str, Any]) -> RunResult:
    folder = job.reports_dir / job.as_of / job.region
    return RunResult(
        region=job.region,
        notebook=job.topic,
        status="skipped",
        duration_s=0.0,
        notebook_path=folder / f"{job.topic}.ipynb",
        html_path=folder / f"{job.topic}.html",
        record_path=folder / f"{job.topic}{RECORD_SUFFIX}",
        headlines=dict(record.get("headlines") or {}),
    )


def execute_runs(
    jobs: Sequence[RunJob],
    workers: int = 2,
    force: bool = False,
    executor: str = "local",
    scheduler_address: str | None = None,
    on_result: Callable[[RunResult], None] | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    reuse_kernels: bool | None = None,
) -> list[RunResult]:
    """Run planned jobs (skipping unchanged ones), publish them, and write the index pages.

    Args:
        jobs: From :func:`plan_jobs`.
        workers: Parallel runs for the local executor; 1 runs them in this process.
        force: Run even when the inputs are unchanged since the last success.
        executor: ``local`` (process pool) or ``dask`` (a distributed cluster).
        scheduler_address: The Dask scheduler, e.g. ``tcp://127.0.0.1:8786``.
        on_result: Called with each result as it arrives (skipped runs first).
        on_plan: Called once with (runs to execute, runs skipped) before any starts.
        reuse_kernels: Whether local workers keep their kernel across successful runs
            (resetting it in between, see :mod:`salesops_lib.runs.kernel`); default: yes,
            unless ``$SALESOPS_KERNEL_REUSE`` is ``0``. Dask runs always start their own.

    Returns:
        One result per job, in plan order.

    Raises:
        ReportsWriteError: If the reports folder cannot be written (checked before any run
            starts) or the index pages cannot be written at the end; a run whose own outputs
            cannot be written fails alone (see :func:`~salesops_lib.runs.one_run.run_job`).
    """
    from salesops_lib.runs.executors import dispatch
    from salesops_lib.runs.kernel import shutdown_kept

    if reuse_kernels is None:
        reuse_kernels = os.environ.get(REUSE_ENV, "1") != "0"
    reuse = reuse_kernels and executor == "local"

    results: dict[int, RunResult] = {}
    pending: list[int] = []
    for index, job in enumerate(jobs):
        previous = (
            None
            if force
            else unchanged_since_success(
                job.reports_dir, job.as_of, job.region, job.topic, job.inputs_fingerprint
            )
        )
        if previous is not None:
            results[index] = _skipped(job, previous)
        else:
            pending.append(index)
    batches = sorted({(job.reports_dir, job.as_of) for job in jobs})
    for reports_dir, as_of in batches:  # a read-only folder fails here, before any run starts
        check_writable(reports_dir / as_of)
        clean_stale_staging(reports_dir / as_of)
        with contextlib.suppress(ReportsWriteError):  # a full disk: the runs go on, are filed
            write_indexes(reports_dir, as_of)  # as published now, whatever a killed runner left
    if on_plan:
        on_plan(len(pending), len(jobs) - len(pending))
    if on_result:
        for index in sorted(results):
            on_result(results[index])

    def done(position: int, result: RunResult) -> None:
        results[pending[position]] = result
        if on_result:
            on_result(result)

    try:
        dispatch(
            [replace(jobs[i], reuse_kernel=reuse) for i in pending],
            run_job,
            record_crash,
            done,
            executor=executor,
            workers=workers,
            scheduler_address=scheduler_address,
        )
    finally:
        shutdown_kept()  # a kernel kept in this process (workers=1) ends with the batch
    for reports_dir, as_of in batches:
        write_indexes(reports_dir, as_of)
    return [results[i] for i in range(len(jobs))]


def run_reports(
    notebooks: Sequence[Path],
    regions: Sequence[str],
    as_of: str,
    reports_dir: Path,
    workers: int = 2,
    kernel_name: str | None = None,
    timeout_s: int = 600,
    run_timeout_s: int | None = None,
    parameters: Mapping[str, Any] | None = None,
    force: bool = True,
    executor: str = "local",
    scheduler_address: str | None = None,
    on_result: Callable[[RunResult], None] | None = None,
    reuse_kernels: bool | None = None,
) -> list[RunResult]:
    """Plan and run every notebook for every region, publish, and write the index pages.

    Args:
        notebooks: Notebook files to run.
        regions: Region ids or ``all``.
        as_of: Snapshot date ``YYYY-MM-DD`` (``""`` for the latest configured snapshot).
        reports_dir: Root of the published reports.
        workers: Parallel runs (processes); 1 runs them one after another in this process.
        kernel_name: Kernel to use; defaults to ``$SALESOPS_KERNEL`` or ``python3``.
        timeout_s: Limit per cell, in seconds.
        run_timeout_s: Limit per run, in seconds.
        parameters: Further parameter values (see :func:`plan_jobs`).
        force: Run even when inputs are unchanged since the last success (default here).
        executor: ``local`` or ``dask``.
        scheduler_address: The Dask scheduler address (``dask`` only).
        on_result: Called with each result as it arrives.
        reuse_kernels: See :func:`execute_runs`.

    Returns:
        One result per notebook x region, in plan order.

    Raises:
        ParameterError: If the inputs are invalid (see :func:`plan_jobs`); nothing runs then.
    """
    jobs = plan_jobs(
        notebooks, regions, as_of, reports_dir, kernel_name, timeout_s, run_timeout_s, parameters
    )
    return execute_runs(
        jobs,
        workers=workers,
        force=force,
        executor=executor,
        scheduler_address=scheduler_address,
        on_result=on_result,
        reuse_kernels=reuse_kernels,
    )
