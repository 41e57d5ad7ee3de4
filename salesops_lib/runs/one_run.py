"""One run end to end, in any process: stage, execute, render, record, publish.

:func:`run_job` executes a run (:mod:`salesops_lib.runs.execute`) in a staging folder
``reports/<as_of>/.tmp-<host>-<pid>-*`` and publishes it through :mod:`salesops_lib.runs.publish`:
into ``reports/<as_of>/<region>/`` on success, into ``reports/<as_of>/_failed/<region>/`` on
failure, with a run record beside the outputs and a manifest in ``reports/_runs/``
(:mod:`salesops_lib.runs.records`), then rewrites the index pages. A runner that is killed leaves
only a staging folder (its local workers die with it), which the next batch removes
(:func:`clean_stale_staging`). Outputs that cannot be written (a full or read-only disk) fail
their run with a one-line error, recorded where there is room; nothing is left staged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from salesops_lib.core.version import code_version
from salesops_lib.runs.execute import Execution, execute, one_line, region_name
from salesops_lib.runs.model import RunJob, RunResult
from salesops_lib.runs.publish import (
    FAILED_DIR,
    RECORD_SUFFIX,
    ReportsWriteError,
    atomic_write_text,
    publish_failure,
    publish_success,
    write_error,
    write_indexes,
)
from salesops_lib.runs.records import package_versions, write_manifest

STALE_FILE_AGE_S = 3600
STAGING_PREFIX = ".tmp-"


def _record(
    job: RunJob, outcome: Execution, started_at: dt.datetime, ended_at: dt.datetime
) -> dict[str, Any]:
    status = "ok" if outcome.error is None else "failed"
    return {
        "job": job.job_name,
        "notebook": job.topic,
        "source": str(job.notebook),
        "region": job.region,
        "region_name": region_name(job.region, outcome.headlines),
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
        "kernel_reused": outcome.kernel_reused,
        "kernel_log": outcome.kernel_log,
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


def _json(record: Mapping[str, Any]) -> str:
    return json.dumps(dict(record), indent=2, default=str) + "\n"


def _publish_run(
    job: RunJob, staging: Path, outcome: Execution, started_at: dt.datetime
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
    try:
        atomic_write_text(staging / f"{job.topic}{RECORD_SUFFIX}", _json(record))
        if ok:
            publish_success(staging, as_of_dir, job.region, job.topic)
        else:
            publish_failure(staging, as_of_dir, job.region, job.topic)
    except OSError as exc:  # a full or read-only disk fails this run, not the batch
        return _file_unpublished(job, record, outcome, exc)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    outcome.durations["publish_s"] = round(time.monotonic() - publish_start, 3)
    manifest = None
    with contextlib.suppress(OSError):  # the report stands; only the history lacks this run
        manifest = write_manifest(job.reports_dir, {**record, "durations": outcome.durations})
    with contextlib.suppress(ReportsWriteError):  # the runner rewrites (and reports) it at the end
        write_indexes(job.reports_dir, job.as_of)
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


def _file_unpublished(
    job: RunJob, record: Mapping[str, Any], outcome: Execution, exc: OSError
) -> RunResult:
    """File a run whose outputs could not be written as failed, recording it where possible.

    The run record goes straight to ``_failed/<region>/`` (a small file may still fit), else
    nowhere; the published report of an earlier run is left as it was.
    """
    error = write_error(f"the {job.topic} report of {job.region}", exc)
    if outcome.error:
        error = f"{error}; the run itself failed: {outcome.error}"
    failed = {**record, "status": "failed", "error": error}
    failed["outputs"] = {"notebook": None, "html": None}
    folder = job.reports_dir / job.as_of / FAILED_DIR / job.region
    record_path: Path | None = folder / f"{job.topic}{RECORD_SUFFIX}"
    try:
        atomic_write_text(folder / f"{job.topic}{RECORD_SUFFIX}", _json(failed))
        (folder / f"{job.topic}.ipynb").unlink(missing_ok=True)
    except OSError:
        record_path = None
    manifest = None
    with contextlib.suppress(OSError):
        manifest = write_manifest(job.reports_dir, {**failed, "durations": outcome.durations})
    return RunResult(
        region=job.region,
        notebook=job.topic,
        status="failed",
        duration_s=outcome.durations.get("total_s", 0.0),
        notebook_path=None,
        html_path=None,
        record_path=record_path,
        error=error,
        headlines=outcome.headlines,
        manifest_path=manifest,
        durations=dict(outcome.durations),
    )


def _staging_dir(job: RunJob) -> Path:
    as_of_dir = job.reports_dir / job.as_of
    as_of_dir.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().split(".")[0]
    prefix = f"{STAGING_PREFIX}{host}-{os.getpid()}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=as_of_dir))


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a killed worker whose parent, the
    killed runner, can no longer reap it stays a zombie until something else does)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


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

    if not as_of_dir.is_dir():
        return []
    host = socket.gethostname().split(".")[0]
    removed: list[Path] = []
    for path in as_of_dir.glob(f"**/{STAGING_PREFIX}*"):
        if path.is_dir():
            match = re.match(rf"^{re.escape(STAGING_PREFIX)}(.+)-(\d+)-", path.name)
            if match and match.group(1) == host and not _running(int(match.group(2))):
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
    try:
        staging = _staging_dir(job)
    except OSError as exc:
        outcome = Execution()
        record = _record(job, outcome, started_at, dt.datetime.now(dt.UTC))
        return _file_unpublished(job, record, outcome, exc)
    outcome = execute(job, staging)
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
    outcome = Execution(error=one_line(exc))
    started_at = dt.datetime.now(dt.UTC)
    try:
        staging = _staging_dir(job)
    except OSError as write_exc:
        record = _record(job, outcome, started_at, started_at)
        return _file_unpublished(job, record, outcome, write_exc)
    return _publish_run(job, staging, outcome, started_at)
