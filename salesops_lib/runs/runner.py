"""Run report notebooks per region through papermill, in parallel, and publish them.

:func:`plan_jobs` checks the inputs and lists one :class:`RunJob` per notebook x region;
:func:`execute_runs` skips the runs whose inputs are unchanged since their last success, fans the
rest out (:mod:`salesops_lib.runs.executors`: a local process pool or a Dask cluster) and rewrites
the
index pages; :func:`run_reports` does both. Each run (:func:`run_job`, in any process) executes its
notebook in-process with papermill (one kernel per run, retried when the kernel fails to start),
renders the HTML in the same process, and publishes through :mod:`salesops_lib.runs.publish`: into
``reports/<as_of>/<region>/`` on success, into ``reports/<as_of>/_failed/<region>/`` on failure,
with a manifest in ``reports/_runs/`` (:mod:`salesops_lib.runs.records`). One run's failure (an
exception, a cell or run timeout, a dead kernel) never stops the others.

A run is staged in ``reports/<as_of>/.tmp-<host>-<pid>-*`` and renamed into place; a runner that
is killed leaves only such a folder, which the next run removes (:func:`clean_stale_staging`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesops_lib.core.config import ALL_REGIONS, REGION_ID_PATTERN, settings
from salesops_lib.core.errors import ParameterError, WorkbenchError
from salesops_lib.core.headlines import HEADLINES_MIMETYPE
from salesops_lib.core.version import code_version
from salesops_lib.data.snapshot import list_snapshots, open_snapshot, parse_as_of
from salesops_lib.runs import _startup  # noqa: F401  (first: trims the workers' start-up)
from salesops_lib.runs.params import notebook_parameters
from salesops_lib.runs.publish import (
    RECORD_SUFFIX,
    atomic_write_text,
    publish_failure,
    publish_success,
    write_indexes,
)
from salesops_lib.runs.records import (
    code_fingerprint,
    inputs_fingerprint,
    package_versions,
    unchanged_since_success,
    write_manifest,
)
from salesops_lib.runs.render import render_notebook

if TYPE_CHECKING:
    import nbformat

KERNEL_ENV = "SALESOPS_KERNEL"
START_TIMEOUT_S = 60
STALE_FILE_AGE_S = 3600
__all__ = [
    "HEADLINES_MIMETYPE",
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
_TOPIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_STAGING_PREFIX = ".tmp-"


@dataclass(frozen=True)
class RunJob:
    """One notebook to run for one region.

    Attributes:
        notebook: The source notebook.
        region: Region id or ``all``.
        as_of: Snapshot date ``YYYY-MM-DD``.
        reports_dir: Root of the published reports.
        kernel_name: Jupyter kernel to execute with.
        timeout_s: Limit per cell, in seconds.
        snapshot_id: The snapshot's id, if known, for the run record.
        snapshot_checksum: The snapshot's checksum, if known.
        run_timeout_s: Limit for the whole run (all cells), in seconds; ``None`` for none.
        job_name: The scheduled job this run belongs to (``adhoc`` outside a job).
        parameters: Parameters beyond ``region`` and ``as_of`` that the notebook declares.
        inputs_fingerprint: Digest of the run's inputs (see :mod:`salesops_lib.runs.records`).
        start_attempts: Kernel starts to try before the run fails.
        command: The command line that reproduces the run, for the record.
    """

    notebook: Path
    region: str
    as_of: str
    reports_dir: Path
    kernel_name: str
    timeout_s: int
    snapshot_id: str | None = None
    snapshot_checksum: str | None = None
    run_timeout_s: int | None = None
    job_name: str = "adhoc"
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs_fingerprint: str = ""
    start_attempts: int = 3
    command: str = ""

    @property
    def topic(self) -> str:
        """The notebook's stem, e.g. ``00-overview``."""
        return self.notebook.stem

    @property
    def all_parameters(self) -> dict[str, Any]:
        """Every parameter papermill injects: ``region``, ``as_of`` and the others."""
        return {"region": self.region, "as_of": self.as_of, **self.parameters}


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run.

    Attributes:
        region: Region id or ``all``.
        notebook: Notebook stem, e.g. ``00-overview``.
        status: ``ok``, ``failed`` or ``skipped`` (inputs unchanged since the last success).
        duration_s: Wall time of the run, in seconds.
        notebook_path: Executed notebook (published, or under ``_failed``), if one was written.
        html_path: Published HTML (``None`` when the run failed).
        record_path: The JSON run record beside the outputs.
        error: One-line error message when the run failed.
        headlines: Headline numbers the notebook reported.
        manifest_path: The run's manifest in ``reports/_runs/`` (``None`` for a skipped run).
        durations: Seconds spent per phase (kernel start, execution, rendering, publishing).
    """

    region: str
    notebook: str
    status: str
    duration_s: float
    notebook_path: Path | None
    html_path: Path | None
    record_path: Path | None
    error: str | None = None
    headlines: dict[str, Any] = field(default_factory=dict)
    manifest_path: Path | None = None
    durations: dict[str, float] = field(default_factory=dict)


def default_kernel() -> str:
    """Kernel to run notebooks with: ``$SALESOPS_KERNEL`` or ``python3``."""
    return os.environ.get(KERNEL_ENV) or "python3"


def read_headlines(notebook: nbformat.NotebookNode) -> dict[str, Any]:
    """Collect the headline numbers from the outputs of cells tagged ``headlines``."""
    found: dict[str, Any] = {}
    for cell in notebook.cells:
        if "headlines" not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            value = output.get("data", {}).get(HEADLINES_MIMETYPE)
            if isinstance(value, dict):
                found.update(value)
    return found


def _title(notebook: nbformat.NotebookNode, topic: str) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return topic


def _region_name(region: str, headlines: dict[str, Any]) -> str:
    if name := headlines.get("region_name"):
        return str(name)
    try:
        return settings().region_name(region)
    except WorkbenchError:
        return region


def _one_line(exc: BaseException) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        cell = getattr(exc, "exec_count", None)
        where = f" (cell {cell})" if cell is not None else ""
        text = f"{ename}: {evalue}{where}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


def _is_start_failure(exc: BaseException) -> bool:
    """Whether an error raised before any cell started may be a kernel start collision."""
    from jupyter_client.kernelspec import NoSuchKernel
    from papermill.exceptions import PapermillException

    return not isinstance(exc, NoSuchKernel | PapermillException | WorkbenchError | OSError) or (
        isinstance(exc, ConnectionError | TimeoutError)
    )


@dataclass
class _Execution:
    headlines: dict[str, Any] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    kernel_starts: int = 0


def _papermill(
    job: RunJob,
    executed_path: Path,
    deadline: float | None,
    started: list[float],
    run_limited: list[bool],
) -> None:
    import papermill

    def cell_timeout(cell: Any) -> int:
        remaining = job.timeout_s if deadline is None else int(deadline - time.monotonic())
        run_limited[:] = [remaining < job.timeout_s]  # the run's limit binds, not the cell's
        return max(1, min(job.timeout_s, remaining))

    def on_cell_start(cell: Any, cell_index: int) -> None:
        if not started:
            started.append(time.monotonic())

    papermill.execute_notebook(
        str(job.notebook),
        str(executed_path),
        parameters=job.all_parameters,
        kernel_name=job.kernel_name,
        progress_bar=False,
        log_output=False,
        cwd=str(job.notebook.parent),
        execution_timeout=job.timeout_s,
        start_timeout=START_TIMEOUT_S,
        timeout_func=cell_timeout,
        on_cell_start=on_cell_start,
    )


def _execute(job: RunJob, staging: Path) -> _Execution:
    from nbclient.exceptions import CellTimeoutError

    outcome = _Execution()
    executed_path = staging / f"{job.topic}.ipynb"
    start = time.monotonic()
    deadline = start + job.run_timeout_s if job.run_timeout_s else None
    started: list[float] = []
    run_limited: list[bool] = []
    while True:
        outcome.kernel_starts += 1
        attempt_start = time.monotonic()
        try:
            _papermill(job, executed_path, deadline, started, run_limited)
            break
        except Exception as exc:  # any failure (error, timeout, dead kernel) stays with this run
            if (
                not started
                and outcome.kernel_starts < job.start_attempts
                and _is_start_failure(exc)
            ):
                time.sleep(0.5 * outcome.kernel_starts)  # parallel starts can collide on ports
                continue
            outcome.error = _one_line(exc)
            if isinstance(exc, CellTimeoutError) and run_limited == [True]:
                outcome.error = f"RunTimeout: the run exceeded run_timeout_s={job.run_timeout_s}"
            break
    executed_at = time.monotonic()
    if started:
        outcome.durations["kernel_start_s"] = round(started[0] - attempt_start, 3)
        outcome.durations["execute_s"] = round(executed_at - started[0], 3)
    if outcome.error is not None:
        return outcome
    try:
        import nbformat

        executed = nbformat.read(executed_path, as_version=4)
        outcome.headlines = read_headlines(executed)
        region_name = _region_name(job.region, outcome.headlines)
        title = f"{_title(executed, job.topic)}: {region_name}, {job.as_of}"
        html_text = render_notebook(executed, title)
        (staging / f"{job.topic}.html").write_text(html_text, encoding="utf-8")
    except Exception as exc:  # a report that cannot be rendered fails its run only
        outcome.error = f"rendering failed: {_one_line(exc)}"
    outcome.durations["render_s"] = round(time.monotonic() - executed_at, 3)
    return outcome


def _record(
    job: RunJob, outcome: _Execution, started_at: dt.datetime, ended_at: dt.datetime
) -> dict[str, Any]:
    status = "ok" if outcome.error is None else "failed"
    return {
        "job": job.job_name,
        "notebook": job.topic,
        "source": str(job.notebook),
        "region": job.region,
        "region_name": _region_name(job.region, outcome.headlines),
        "as_of": job.as_of,
        "status": status,
        "error": outcome.error,
        "parameters": job.all_parameters,
        "snapshot": {
            "id": outcome.headlines.get("snapshot_id", job.snapshot_id),
            "checksum": outcome.headlines.get("snapshot_checksum", job.snapshot_checksum),
        },
        "inputs_fingerprint": job.inputs_fingerprint,
        "kernel_name": job.kernel_name,
        "kernel_starts": outcome.kernel_starts,
        "code_version": code_version(),
        "package_versions": package_versions(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "ended_at": ended_at.isoformat(timespec="seconds"),
        "duration_s": outcome.durations.get("total_s", 0.0),
        "durations": outcome.durations,
        "timeouts": {"cell_s": job.timeout_s, "run_s": job.run_timeout_s},
        "command": job.command,
        "headlines": outcome.headlines,
    }


def _publish_run(
    job: RunJob, staging: Path, outcome: _Execution, started_at: dt.datetime
) -> RunResult:
    publish_start = time.monotonic()
    record = _record(job, outcome, started_at, dt.datetime.now(dt.UTC))
    as_of_dir = job.reports_dir / job.as_of
    ok = record["status"] == "ok"
    folder = as_of_dir / (job.region if ok else f"_failed/{job.region}")
    notebook_path = folder / f"{job.topic}.ipynb"
    html_path = folder / f"{job.topic}.html" if ok else None
    record["outputs"] = {
        "notebook": str(notebook_path) if (staging / notebook_path.name).is_file() else None,
        "html": str(html_path) if html_path else None,
    }
    atomic_write_text(staging / f"{job.topic}{RECORD_SUFFIX}", _json(record))
    try:
        if ok:
            publish_success(staging, as_of_dir, job.region, job.topic)
        else:
            publish_failure(staging, as_of_dir, job.region, job.topic)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    outcome.durations["publish_s"] = round(time.monotonic() - publish_start, 3)
    manifest = write_manifest(job.reports_dir, {**record, "durations": outcome.durations})
    return RunResult(
        region=job.region,
        notebook=job.topic,
        status=record["status"],
        duration_s=outcome.durations.get("total_s", 0.0),
        notebook_path=notebook_path if notebook_path.is_file() else None,
        html_path=html_path,
        record_path=folder / f"{job.topic}{RECORD_SUFFIX}",
        error=outcome.error,
        headlines=outcome.headlines,
        manifest_path=manifest,
        durations=dict(outcome.durations),
    )


def _json(record: Mapping[str, Any]) -> str:
    import json

    return json.dumps(dict(record), indent=2, default=str) + "\n"


def _staging_dir(job: RunJob) -> Path:
    as_of_dir = job.reports_dir / job.as_of
    as_of_dir.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().split(".")[0]
    prefix = f"{_STAGING_PREFIX}{host}-{os.getpid()}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=as_of_dir))


def clean_stale_staging(as_of_dir: Path) -> list[Path]:
    """Remove staging folders left by runners that no longer exist (killed mid-run).

    A staging folder is ``.tmp-<host>-<pid>-*``; it is stale when ``<host>`` is this host and
    process ``<pid>`` is gone. Temporary files of atomic writes (``.tmp-*`` files) older than an
    hour are removed too.

    Args:
        as_of_dir: ``reports/<as_of>``.

    Returns:
        The paths removed.
    """
    import psutil

    if not as_of_dir.is_dir():
        return []
    host = socket.gethostname().split(".")[0]
    removed: list[Path] = []
    for path in as_of_dir.glob(f"**/{_STAGING_PREFIX}*"):
        if path.is_dir():
            match = re.match(rf"^{re.escape(_STAGING_PREFIX)}(.+)-(\d+)-", path.name)
            if match and match.group(1) == host and not psutil.pid_exists(int(match.group(2))):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        elif path.is_file() and time.time() - path.stat().st_mtime > STALE_FILE_AGE_S:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def run_job(job: RunJob) -> RunResult:
    """Execute one notebook for one region, render it, and publish it (or file it as failed).

    Never raises for a failing notebook: the failure is recorded in the result and run record.

    Args:
        job: What to run.

    Returns:
        The run's result.
    """
    started_at = dt.datetime.now(dt.UTC)
    start = time.monotonic()
    staging = _staging_dir(job)
    outcome = _execute(job, staging)
    outcome.durations["total_s"] = round(time.monotonic() - start, 3)
    return _publish_run(job, staging, outcome, started_at)


def record_crash(job: RunJob, exc: BaseException) -> RunResult:
    """File a run whose worker process died (no notebook) as failed, with its run record.

    Args:
        job: The job whose worker crashed.
        exc: The error the pool reported.

    Returns:
        The failed run's result.
    """
    staging = _staging_dir(job)
    outcome = _Execution(error=_one_line(exc))
    return _publish_run(job, staging, outcome, dt.datetime.now(dt.UTC))


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
    try:
        snapshot = open_snapshot(settings().snapshots_dir, as_of, verify=False)
    except WorkbenchError:
        return None, None
    return snapshot.snapshot_id, snapshot.checksum


def _declared_parameters(notebook: Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    if not parameters:
        return {}
    declared = notebook_parameters(notebook)
    return {name: value for name, value in parameters.items() if name in declared}


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
            fingerprint = inputs_fingerprint(path, job.all_parameters, checksum, code, kernel)
            jobs.append(replace(job, inputs_fingerprint=fingerprint, command=_command(job)))
    return jobs


def _command(job: RunJob) -> str:
    params = "".join(f" --param {k}={v}" for k, v in job.parameters.items())
    return (
        f"salesops run {job.job_name if job.job_name != 'adhoc' else ''} --region {job.region} "
        f"--as-of {job.as_of} --notebook {job.topic}{params} --force"
    ).replace("run  --", "run --")


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

    Returns:
        One result per job, in plan order.
    """
    from salesops_lib.runs.executors import dispatch

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
    for as_of_dir in {job.reports_dir / job.as_of for job in jobs}:
        clean_stale_staging(as_of_dir)
    if on_plan:
        on_plan(len(pending), len(jobs) - len(pending))
    if on_result:
        for index in sorted(results):
            on_result(results[index])

    def done(position: int, result: RunResult) -> None:
        results[pending[position]] = result
        if on_result:
            on_result(result)

    dispatch(
        [jobs[i] for i in pending],
        run_job,
        record_crash,
        done,
        executor=executor,
        workers=workers,
        scheduler_address=scheduler_address,
    )
    for reports_dir, as_of in sorted({(job.reports_dir, job.as_of) for job in jobs}):
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
    )


def result_dict(result: RunResult) -> dict[str, Any]:
    """A JSON-ready dict of a run result (paths as strings)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()}
