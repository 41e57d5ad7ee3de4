"""Run report notebooks per region through papermill, in parallel, and publish them.

:func:`run_reports` plans one :class:`RunJob` per notebook x region and fans them out over a
process pool. Each worker executes its notebook in-process with papermill (one kernel per run),
renders the HTML in the same worker, writes a JSON run record, and publishes through
:mod:`salesops_lib.publish`: into ``reports/<as_of>/<region>/`` on success, into
``reports/<as_of>/_failed/<region>/`` on failure. One run's failure (an exception, a timeout, a
dead kernel) never stops the others. Finally the index pages are rewritten.

The seam for the scheduled CLI: :func:`plan_jobs` (what to run), :func:`run_job` (one run, in
any process), :func:`run_reports` (plan + pool + indexes).
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import multiprocessing
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from salesops_lib.config import ALL_REGIONS, REGION_ID_PATTERN, settings
from salesops_lib.errors import ParameterError, WorkbenchError
from salesops_lib.publish import (
    HEADLINES_MIMETYPE,
    RECORD_SUFFIX,
    atomic_write_text,
    code_version,
    publish_failure,
    publish_success,
    write_indexes,
)
from salesops_lib.render import render_notebook
from salesops_lib.snapshot import list_snapshots, open_snapshot, parse_as_of

KERNEL_ENV = "SALESOPS_KERNEL"
__all__ = [
    "HEADLINES_MIMETYPE",
    "RunJob",
    "RunResult",
    "default_kernel",
    "plan_jobs",
    "read_headlines",
    "record_crash",
    "result_dict",
    "run_job",
    "run_reports",
]
_TOPIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


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
    """

    notebook: Path
    region: str
    as_of: str
    reports_dir: Path
    kernel_name: str
    timeout_s: int
    snapshot_id: str | None = None
    snapshot_checksum: str | None = None

    @property
    def topic(self) -> str:
        """The notebook's stem, e.g. ``00-overview``."""
        return self.notebook.stem


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run.

    Attributes:
        region: Region id or ``all``.
        notebook: Notebook stem, e.g. ``00-overview``.
        status: ``ok`` or ``failed``.
        duration_s: Wall time of the run, in seconds.
        notebook_path: Executed notebook (published, or under ``_failed``), if one was written.
        html_path: Published HTML (``None`` when the run failed).
        record_path: The JSON run record.
        error: One-line error message when the run failed.
        headlines: Headline numbers the notebook reported.
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


def _execute(job: RunJob, staging: Path) -> tuple[dict[str, Any], dict[str, float], str | None]:
    import papermill

    start = time.monotonic()
    durations: dict[str, float] = {}
    headlines: dict[str, Any] = {}
    executed_path = staging / f"{job.topic}.ipynb"
    try:
        papermill.execute_notebook(
            str(job.notebook),
            str(executed_path),
            parameters={"region": job.region, "as_of": job.as_of},
            kernel_name=job.kernel_name,
            progress_bar=False,
            log_output=False,
            cwd=str(job.notebook.parent),
            execution_timeout=job.timeout_s,
            start_timeout=60,
        )
        durations["execute_s"] = round(time.monotonic() - start, 3)
        executed = nbformat.read(executed_path, as_version=4)
        headlines = read_headlines(executed)
        title = f"{_title(executed, job.topic)}: {_region_name(job.region, headlines)}, {job.as_of}"
        html_text = render_notebook(executed, title)
        (staging / f"{job.topic}.html").write_text(html_text, encoding="utf-8")
        durations["render_s"] = round(time.monotonic() - start - durations["execute_s"], 3)
    except Exception as exc:  # any failure (error, timeout, dead kernel) stays with this run
        return headlines, durations, _one_line(exc)
    return headlines, durations, None


def _publish_run(
    job: RunJob,
    staging: Path,
    error: str | None,
    headlines: dict[str, Any],
    durations: dict[str, float],
    started_at: dt.datetime,
) -> RunResult:
    status = "ok" if error is None else "failed"
    record = {
        "region": job.region,
        "region_name": _region_name(job.region, headlines),
        "notebook": job.topic,
        "source": str(job.notebook),
        "status": status,
        "error": error,
        "parameters": {"region": job.region, "as_of": job.as_of},
        "snapshot": {
            "id": headlines.get("snapshot_id", job.snapshot_id),
            "checksum": headlines.get("snapshot_checksum", job.snapshot_checksum),
        },
        "kernel_name": job.kernel_name,
        "code_version": code_version(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "durations": durations,
        "headlines": headlines,
    }
    record_text = json.dumps(record, indent=2, default=str) + "\n"
    atomic_write_text(staging / f"{job.topic}{RECORD_SUFFIX}", record_text)
    as_of_dir = job.reports_dir / job.as_of
    html_path: Path | None = None
    try:
        if status == "ok":
            html_path = publish_success(staging, as_of_dir, job.region, job.topic)
            folder = html_path.parent
        else:
            folder = publish_failure(staging, as_of_dir, job.region, job.topic)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    notebook_path = folder / f"{job.topic}.ipynb"
    return RunResult(
        region=job.region,
        notebook=job.topic,
        status=status,
        duration_s=durations.get("total_s", 0.0),
        notebook_path=notebook_path if notebook_path.is_file() else None,
        html_path=html_path,
        record_path=folder / f"{job.topic}{RECORD_SUFFIX}",
        error=error,
        headlines=headlines,
    )


def _staging_dir(job: RunJob) -> Path:
    as_of_dir = job.reports_dir / job.as_of
    as_of_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".tmp-", dir=as_of_dir))


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
    headlines, durations, error = _execute(job, staging)
    durations["total_s"] = round(time.monotonic() - start, 3)
    return _publish_run(job, staging, error, headlines, durations, started_at)


def record_crash(job: RunJob, exc: BaseException) -> RunResult:
    """File a run whose worker process died (no notebook) as failed, with its run record.

    Args:
        job: The job whose worker crashed.
        exc: The error the pool reported.

    Returns:
        The failed run's result.
    """
    staging = _staging_dir(job)
    return _publish_run(job, staging, _one_line(exc), {}, {}, dt.datetime.now(dt.UTC))


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


def plan_jobs(
    notebooks: Sequence[Path],
    regions: Sequence[str],
    as_of: str,
    reports_dir: Path,
    kernel_name: str | None = None,
    timeout_s: int = 600,
) -> list[RunJob]:
    """Check the inputs and list one job per notebook x region.

    Args:
        notebooks: Notebook files to run.
        regions: Region ids (path-safe) or ``all``.
        as_of: Snapshot date ``YYYY-MM-DD``; ``""`` means the latest configured snapshot.
        reports_dir: Root of the published reports.
        kernel_name: Kernel to use; defaults to :func:`default_kernel`.
        timeout_s: Limit per cell, in seconds.

    Returns:
        The jobs, notebook-major in the given orders.

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
    return [
        RunJob(
            notebook=Path(nb).resolve(),
            region=region,
            as_of=date,
            reports_dir=Path(reports_dir),
            kernel_name=kernel,
            timeout_s=timeout_s,
            snapshot_id=snapshot_id,
            snapshot_checksum=checksum,
        )
        for nb in notebooks
        for region in dict.fromkeys(regions)
    ]


def run_reports(
    notebooks: Sequence[Path],
    regions: Sequence[str],
    as_of: str,
    reports_dir: Path,
    workers: int = 2,
    kernel_name: str | None = None,
    timeout_s: int = 600,
    progress: Callable[[str], None] | None = None,
) -> list[RunResult]:
    """Run every notebook for every region in parallel, publish, and write the index pages.

    Args:
        notebooks: Notebook files to run.
        regions: Region ids or ``all``.
        as_of: Snapshot date ``YYYY-MM-DD`` (``""`` for the latest configured snapshot).
        reports_dir: Root of the published reports.
        workers: Parallel runs (processes); 1 runs them one after another in this process.
        kernel_name: Kernel to use; defaults to ``$SALESOPS_KERNEL`` or ``python3``.
        timeout_s: Limit per cell, in seconds.
        progress: Called with one line per finished run.

    Returns:
        One result per notebook x region, in plan order.

    Raises:
        ParameterError: If the inputs are invalid (see :func:`plan_jobs`); nothing runs then.
    """
    jobs = plan_jobs(notebooks, regions, as_of, reports_dir, kernel_name, timeout_s)
    results: dict[int, RunResult] = {}

    def finished(index: int, result: RunResult) -> None:
        results[index] = result
        if progress:
            detail = f" - {result.error}" if result.error else ""
            progress(
                f"[{len(results)}/{len(jobs)}] {result.region} {result.notebook}: "
                f"{result.status} in {result.duration_s:.1f}s{detail}"
            )

    if workers <= 1 or len(jobs) <= 1:
        for index, job in enumerate(jobs):
            finished(index, run_job(job))
    else:
        context = multiprocessing.get_context("spawn")  # no fork of a process holding threads
        with cf.ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
            futures = {pool.submit(run_job, job): i for i, job in enumerate(jobs)}
            for future in cf.as_completed(futures):
                index = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # a crashed worker fails only its own run
                    result = record_crash(jobs[index], exc)
                finished(index, result)
    if jobs:
        write_indexes(Path(reports_dir), jobs[0].as_of)
    return [results[i] for i in range(len(jobs))]


def result_dict(result: RunResult) -> dict[str, Any]:
    """A JSON-ready dict of a run result (paths as strings)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()}
