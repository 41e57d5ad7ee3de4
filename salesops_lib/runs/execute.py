"""Execute one run's notebook with papermill in a kernel from :mod:`salesops_lib.runs.kernel`,
then render its HTML, both into the run's staging folder.

Failures stay with the run: an exception in a cell, a cell or run timeout, a kernel that dies
or fails to start (retried up to ``RunJob.start_attempts`` times before any cell ran) become a
one-line error in the :class:`Execution`; nothing is raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesops_lib.core.config import settings
from salesops_lib.core.errors import WorkbenchError
from salesops_lib.core.headlines import HEADLINES_MIMETYPE
from salesops_lib.runs import _startup  # noqa: F401  (first: trims the workers' start-up)
from salesops_lib.runs import kernel as kernels
from salesops_lib.runs.attachments import attachment_parameters
from salesops_lib.runs.model import RunJob
from salesops_lib.runs.render import render_notebook

if TYPE_CHECKING:
    import nbformat

START_TIMEOUT_S = kernels.START_TIMEOUT_S


@dataclass
class Execution:
    """What executing and rendering one run produced.

    Attributes:
        headlines: Headline numbers the notebook reported.
        durations: Seconds per phase: ``kernel_start_s`` (kernel start or reuse, up to the first
            cell), ``execute_s``, ``kernel_reset_s``, ``render_s``.
        error: One-line error, ``None`` on success.
        kernel_starts: Kernel starts tried (0 when a kept kernel ran it).
        kernel_reused: Whether the run used a kept kernel.
        kernel_log: What the kernel process wrote during the run (its own log, not cell output).
    """

    headlines: dict[str, Any] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    kernel_starts: int = 0
    kernel_reused: bool = False
    kernel_log: str = ""


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


def notebook_title(notebook: nbformat.NotebookNode, topic: str) -> str:
    """The first ``# `` heading of the notebook's markdown, else the topic."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return topic


def region_name(region: str, headlines: dict[str, Any]) -> str:
    """The region's display name: as the report recorded it, else from the configuration."""
    if name := headlines.get("region_name"):
        return str(name)
    try:
        return settings().region_name(region)
    except WorkbenchError:
        return region


def one_line(exc: BaseException) -> str:
    """A one-line message for an error (a cell error names its exception and cell)."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        cell = getattr(exc, "exec_count", None)
        where = f" (cell {cell})" if cell is not None else ""
        text = f"{ename}: {evalue}{where}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


def is_start_failure(exc: BaseException) -> bool:
    """Whether an error raised before any cell started may be a passing kernel start failure."""
    from jupyter_client.kernelspec import NoSuchKernel
    from papermill.exceptions import PapermillException

    return not isinstance(exc, NoSuchKernel | PapermillException | WorkbenchError | OSError) or (
        isinstance(exc, ConnectionError | TimeoutError)
    )


def _papermill(
    job: RunJob,
    executed_path: Path,
    kernel: kernels.Kernel,
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
        parameters={
            **job.all_parameters,
            **attachment_parameters(job.notebook, executed_path.parent),
        },
        engine_name=kernels.ENGINE_NAME,
        kernel_name=job.kernel_name,
        km=kernel.manager,
        kc=kernel.client,
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        partial_path=str(executed_path),
        cwd=str(job.notebook.parent),
        execution_timeout=job.timeout_s,
        start_timeout=START_TIMEOUT_S,
        timeout_func=cell_timeout,
        on_cell_start=on_cell_start,
    )


def _run_notebook(job: RunJob, executed_path: Path, outcome: Execution) -> None:
    from nbclient.exceptions import CellTimeoutError

    deadline = time.monotonic() + job.run_timeout_s if job.run_timeout_s else None
    started: list[float] = []
    run_limited: list[bool] = []
    while True:
        attempt_start = time.monotonic()
        kernel: kernels.Kernel | None = None
        failure: Exception | None = None
        try:
            kernel, outcome.kernel_reused = kernels.acquire(
                job.kernel_name, job.notebook.parent, job.reuse_kernel
            )
        except Exception as exc:  # the kernel did not start
            outcome.kernel_starts += 1
            outcome.kernel_log += "".join(getattr(exc, "__notes__", []))
            failure = exc
        else:
            outcome.kernel_starts += 0 if outcome.kernel_reused else 1
            try:
                _papermill(job, executed_path, kernel, deadline, started, run_limited)
            except Exception as exc:  # any failure (error, timeout, dead kernel) stays here
                failure = exc
        finished = time.monotonic()
        if kernel is not None:
            outcome.kernel_log += kernels.run_log(kernel)
            kernels.release(kernel, succeeded=failure is None, reuse=job.reuse_kernel)
        if failure is None:
            outcome.durations["kernel_reset_s"] = round(time.monotonic() - finished, 3)
            break
        retry = not started and outcome.kernel_starts < job.start_attempts
        if retry and is_start_failure(failure):
            time.sleep(0.5 * outcome.kernel_starts)  # parallel starts can collide
            continue
        outcome.error = one_line(failure)
        if isinstance(failure, CellTimeoutError) and run_limited == [True]:
            outcome.error = f"RunTimeout: the run exceeded run_timeout_s={job.run_timeout_s}"
        break
    if started:
        outcome.durations["kernel_start_s"] = round(started[0] - attempt_start, 3)
        outcome.durations["execute_s"] = round(finished - started[0], 3)


def execute(job: RunJob, staging: Path) -> Execution:
    """Execute a run's notebook into ``staging`` and render its HTML there.

    Args:
        job: The run.
        staging: The run's staging folder; gets ``<topic>.ipynb`` and, on success,
            ``<topic>.html``.

    Returns:
        What happened; never raises for a failing notebook.
    """
    outcome = Execution()
    executed_path = staging / f"{job.topic}.ipynb"
    _run_notebook(job, executed_path, outcome)
    if outcome.error is not None:
        return outcome
    render_start = time.monotonic()
    try:
        import nbformat

        executed = nbformat.read(executed_path, as_version=4)
        outcome.headlines = read_headlines(executed)
        name = region_name(job.region, outcome.headlines)
        title = f"{notebook_title(executed, job.topic)}: {name}, {job.as_of}"
        html_text = render_notebook(executed, title)
        (staging / f"{job.topic}.html").write_text(html_text, encoding="utf-8")
    except Exception as exc:  # a report that cannot be rendered fails its run only
        outcome.error = f"rendering failed: {one_line(exc)}"
    outcome.durations["render_s"] = round(time.monotonic() - render_start, 3)
    return outcome
