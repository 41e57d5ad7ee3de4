"""Run records: one JSON manifest per run, the run history, and skip-when-unchanged.

Every run (one notebook for one region) leaves a manifest in ``reports/_runs/`` (job, notebook,
region, parameters, snapshot id and checksum, code version, package versions, start, end,
duration, status, error, output paths). The published ``<topic>.run.json`` beside a report is the
manifest of the run that produced it, so the inputs of the last success are known: a run whose
inputs fingerprint (notebook content, parameters, snapshot checksum, code version) equals that of
the published report can be skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import socket
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from salesops_lib.core.version import CODE_VERSION_ENV, source_digest
from salesops_lib.runs.publish import FAILED_DIR, RECORD_SUFFIX, atomic_write_text

RUNS_DIR = "_runs"
"""Folder under the reports folder that holds one manifest per run."""

PACKAGES = (
    "salesops-workbench",
    "papermill",
    "nbclient",
    "nbconvert",
    "ipykernel",
    "jupyter-client",
    "pandas",
    "numpy",
    "pyarrow",
    "duckdb",
    "matplotlib",
    "seaborn",
    "scikit-learn",
    "scipy",
)
"""Distributions whose versions each manifest records."""

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Installed versions of :data:`PACKAGES` (``missing`` for one that is not installed)."""
    found: dict[str, str] = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def source_fingerprint(package_dir: Path = _PACKAGE_DIR) -> str:
    """SHA-256 over the helper package's source files (names and contents), uncommitted edits too.

    Args:
        package_dir: The package folder.

    Returns:
        A hex digest.
    """
    return source_digest(package_dir)


def code_fingerprint() -> str:
    """The code version a run's inputs include: ``$SALESOPS_CODE_VERSION`` or the source digest."""
    return os.environ.get(CODE_VERSION_ENV) or source_fingerprint()


def inputs_fingerprint(
    notebook: Path,
    parameters: Mapping[str, Any],
    snapshot_checksum: str | None,
    code_fingerprint: str,
    kernel_name: str,
) -> str:
    """SHA-256 of everything a run's output depends on.

    Args:
        notebook: The source notebook (its bytes count, not its name or date).
        parameters: Every parameter passed to the notebook.
        snapshot_checksum: The snapshot's checksum.
        code_fingerprint: :func:`source_fingerprint` of the helper package.
        kernel_name: The kernel the notebook runs in.

    Returns:
        A hex digest.
    """
    payload = {
        "notebook_sha256": hashlib.sha256(Path(notebook).read_bytes()).hexdigest(),
        "parameters": dict(parameters),
        "snapshot_checksum": snapshot_checksum,
        "code": code_fingerprint,
        "kernel": kernel_name,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def published_record(
    reports_dir: Path, as_of: str, region: str, topic: str
) -> dict[str, Any] | None:
    """The manifest of the published report for one region and topic, if there is one.

    Args:
        reports_dir: The reports folder.
        as_of: The as-of date folder.
        region: Region id.
        topic: Notebook stem.

    Returns:
        The record, or ``None`` when nothing is published or the record cannot be read.
    """
    path = reports_dir / as_of / region / f"{topic}{RECORD_SUFFIX}"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def unchanged_since_success(
    reports_dir: Path, as_of: str, region: str, topic: str, fingerprint: str
) -> dict[str, Any] | None:
    """The published record if its inputs equal ``fingerprint`` and its HTML exists.

    Args:
        reports_dir: The reports folder.
        as_of: The as-of date folder.
        region: Region id.
        topic: Notebook stem.
        fingerprint: :func:`inputs_fingerprint` of the run about to start.

    Returns:
        The record of the earlier success, or ``None`` when the run must go ahead: also when
        the latest attempt failed (its failure record is still there; a success clears it),
        so a plain rerun retries a transient failure instead of skipping it as unchanged.
    """
    if (reports_dir / as_of / FAILED_DIR / region / f"{topic}{RECORD_SUFFIX}").is_file():
        return None
    record = published_record(reports_dir, as_of, region, topic)
    if record is None or record.get("status") != "ok":
        return None
    if record.get("inputs_fingerprint") != fingerprint:
        return None
    if not (reports_dir / as_of / region / f"{topic}.html").is_file():
        return None
    return record


def manifest_name(record: Mapping[str, Any]) -> str:
    """File name of a run's manifest: start time, as-of, region, topic, host and process."""
    started = str(record.get("started_at", "")).replace(":", "").replace("-", "")[:15]
    parts = (
        started,
        str(record.get("as_of", "")),
        str(record.get("region", "")),
        str(record.get("notebook", "")),
        socket.gethostname().split(".")[0],
        str(os.getpid()),
    )
    return "_".join(parts) + ".json"


def write_manifest(reports_dir: Path, record: Mapping[str, Any]) -> Path:
    """Add one run's manifest to ``reports/_runs/`` (written atomically).

    Args:
        reports_dir: The reports folder.
        record: The run record.

    Returns:
        The manifest's path.
    """
    path = reports_dir / RUNS_DIR / manifest_name(record)
    atomic_write_text(path, json.dumps(dict(record), indent=2, default=str) + "\n")
    return path


def read_manifests(reports_dir: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Past run manifests, newest first.

    Args:
        reports_dir: The reports folder.
        limit: At most this many (``None`` for all).

    Returns:
        The manifests, each with ``manifest_path`` added; unreadable files are left out.
    """
    folder = reports_dir / RUNS_DIR
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.json"), reverse=True)
    found: list[dict[str, Any]] = []
    for path in paths:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(record, dict):
            found.append({**record, "manifest_path": str(path)})
        if limit is not None and len(found) >= limit:
            break
    return found


def utc_now() -> dt.datetime:
    """The current time in UTC (aware)."""
    return dt.datetime.now(dt.UTC)
