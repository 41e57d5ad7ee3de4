"""What one report run is and what it produced: :class:`RunJob` and :class:`RunResult`."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KERNEL_ENV = "SALESOPS_KERNEL"


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
        reuse_kernel: Run in the worker's kept kernel (reset between runs, see
            :mod:`salesops_lib.runs.kernel`) instead of a kernel of its own.
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
    reuse_kernel: bool = False

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


def result_dict(result: RunResult) -> dict[str, Any]:
    """A JSON-ready dict of a run result (paths as strings)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()}
