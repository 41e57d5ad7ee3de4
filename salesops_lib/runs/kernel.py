"""Kernels for report runs: quiet, on private IPC sockets, and kept across runs of a worker.

Every kernel a run uses comes from here (:func:`acquire`, then :func:`release`):

- **Quiet and private.** A kernel talks to its runner over IPC sockets in a private temporary
  folder, not over TCP on loopback (no ports to collide, nothing another local user can connect
  to, and no "running over TCP without encryption" warning on every start). It is shut down with
  a shutdown request, not first interrupted (``jupyter_client`` sends SIGINT before every
  shutdown, which makes an idle kernel log "KeyboardInterrupt caught in kernel"); a kernel that
  does not exit is killed. Whatever the kernel process itself writes to stdout/stderr (its own
  log, not cell output, which is in the notebook) goes to a log file; each run's part of it is
  kept in the run record (:func:`run_log`), never on the terminal.
- **Kept across runs.** Starting a kernel and importing the report library costs one to two
  seconds per run. A job with ``reuse_kernel`` keeps its worker's kernel after a successful run:
  :mod:`salesops_lib.runs.kernel_state` resets it to its fresh state (namespace, history and
  execution counter, figures, matplotlib settings, warning filters, working folder, environment)
  and the next run of the same kernel name and folder uses it. A run that failed for any reason
  (error, timeout, dead kernel, failed reset) shuts its kernel down, so no state of a failed run
  reaches another run; a kernel is also replaced after :data:`MAX_RUNS_PER_KERNEL` runs. The
  kept kernel is shut down when the worker process exits or :func:`shutdown_kept` is called.

Papermill executes in a given kernel through the :class:`KeptKernelEngine` engine: the stock
engine, given the kernel's manager and its one connected client (so a run neither reconnects
nor leaks sockets and threads).
"""

from __future__ import annotations

import contextlib
import multiprocessing.util
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.iorw import write_ipynb
from papermill.log import logger
from papermill.utils import remove_args

ENGINE_NAME = "salesops-kernel"
START_TIMEOUT_S = 60
RESET_TIMEOUT_S = 30
MAX_RUNS_PER_KERNEL = 12
"""Runs after which a kept kernel is replaced (bounds memory any library might hold on to)."""
RUN_LOG_LIMIT = 20_000
"""Characters of a run's kernel log kept in its run record (the end of it)."""
_REMEMBER = "from salesops_lib.runs import kernel_state as _k; _k.remember(); del _k"
_RESET = "from salesops_lib.runs import kernel_state as _k; _k.reset()"


class QuietKernelManager(AsyncKernelManager):
    """A kernel manager that shuts its kernel down without interrupting it first."""

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:  # shutdown: a shutdown request (then SIGTERM/SIGKILL) suffices
            return
        await super()._async_interrupt_kernel()


@dataclass
class Kernel:
    """A started kernel.

    Attributes:
        manager: Its kernel manager (pass to papermill as ``km``).
        client: Its kernel client, connected (pass to papermill as ``kc``).
        kernel_name: The kernel spec it was started from.
        cwd: The working folder it was started in.
        folder: Private temporary folder: connection file, IPC sockets, ``kernel.log``.
        runs: Runs it has completed.
        log_offset: Bytes of ``kernel.log`` already attributed to earlier runs.
        keepable: Whether it may be kept after a run (it remembered its fresh state).
    """

    manager: QuietKernelManager
    client: Any
    kernel_name: str
    cwd: str
    folder: Path
    runs: int = 0
    log_offset: int = 0
    keepable: bool = False
    _log: Any = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        """The file the kernel process's stdout and stderr go to."""
        return self.folder / "kernel.log"


_kept: Kernel | None = None
_finalizer_registered = False


def _execute_quietly(kernel: Kernel, code: str, timeout: float) -> None:
    """Run set-up code in the kernel; anything it prints goes to the kernel's log."""

    def to_log(message: dict[str, Any]) -> None:
        content = message.get("content", {})
        text = content.get("text") or "\n".join(content.get("traceback", []))
        if text and kernel._log is not None:
            kernel._log.write(text.encode("utf-8", errors="replace"))

    reply = run_sync(kernel.client.execute_interactive)(
        code, silent=True, store_history=False, timeout=timeout, output_hook=to_log
    )
    content = reply.get("content", {})
    if content.get("status") != "ok":
        raise RuntimeError(f"{content.get('ename', 'error')}: {content.get('evalue', '')}")


def start(kernel_name: str, cwd: str | Path, remember: bool = False) -> Kernel:
    """Start a kernel (IPC transport, output to its log file) and wait until it answers.

    Args:
        kernel_name: Kernel spec name.
        cwd: Working folder of the kernel process.
        remember: Record the fresh state so the kernel can be reset and kept after a run (a
            kernel that cannot, e.g. one without this package installed, is used once).

    Returns:
        The started kernel.

    Raises:
        Exception: Whatever the start raised (no such kernel, a kernel that exits at once, a
            start timeout); nothing is left running then.
    """
    folder = Path(tempfile.mkdtemp(prefix="salesops-kernel-"))
    manager = QuietKernelManager(
        kernel_name=kernel_name,
        transport="ipc",
        ip=str(folder / "ipc"),
        connection_file=str(folder / "kernel.json"),
    )
    kernel = Kernel(manager, None, kernel_name, str(cwd), folder)
    kernel._log = kernel.log_path.open("ab")
    try:
        run_sync(manager.start_kernel)(
            stdout=kernel._log,
            stderr=kernel._log,
            cwd=str(cwd),
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
        )
        kernel.client = manager.client()
        kernel.client.allow_stdin = False
        kernel.client.start_channels()
        run_sync(kernel.client.wait_for_ready)(timeout=START_TIMEOUT_S)
        if remember:
            try:
                _execute_quietly(kernel, _REMEMBER, START_TIMEOUT_S)
            except RuntimeError:  # cannot import the reset helper: this kernel runs once
                remember = False
    except BaseException as exc:
        kernel._log.flush()
        log = kernel.log_path.read_text(encoding="utf-8", errors="replace")[-RUN_LOG_LIMIT:]
        if log:
            exc.add_note(log)  # the failed start's own log, for the run record
        shutdown(kernel)
        raise
    kernel.keepable = remember
    return kernel


def shutdown(kernel: Kernel) -> None:
    """Stop a kernel (shutdown request, then kill) and remove its private folder."""
    manager = kernel.manager
    if kernel.client is not None:
        kernel.client.stop_channels()
        kernel.client = None
    try:
        if manager.has_kernel:
            run_sync(manager.shutdown_kernel)(now=False)
    except Exception:  # already dead, or will not answer: make sure the process is gone
        with contextlib.suppress(Exception):
            run_sync(manager.shutdown_kernel)(now=True)
    finally:
        with contextlib.suppress(Exception):
            run_sync(manager.cleanup_resources)()
        if kernel._log is not None:
            kernel._log.close()
        shutil.rmtree(kernel.folder, ignore_errors=True)


def acquire(kernel_name: str, cwd: str | Path, reuse: bool) -> tuple[Kernel, bool]:
    """A kernel for one run: this worker's kept kernel if it fits, else a new one.

    Args:
        kernel_name: Kernel spec name.
        cwd: Working folder for the kernel.
        reuse: Whether the run may use (and later keep) a kept kernel.

    Returns:
        The kernel and whether it is a kept one (already started).
    """
    global _kept
    kept, _kept = _kept, None
    if kept is not None:
        fits = reuse and kept.kernel_name == kernel_name and kept.cwd == str(cwd)
        if fits and run_sync(kept.manager.is_alive)():
            return kept, True
        shutdown(kept)
    return start(kernel_name, cwd, remember=reuse), False


def release(kernel: Kernel, succeeded: bool, reuse: bool) -> None:
    """After a run: reset and keep the kernel for the next run, or shut it down.

    The kernel is kept only if the run succeeded, the run allows reuse, the kernel has run
    fewer than :data:`MAX_RUNS_PER_KERNEL` runs and the reset succeeds.

    Args:
        kernel: The run's kernel.
        succeeded: Whether the run completed without any error.
        reuse: Whether the run allows keeping the kernel.
    """
    global _kept, _finalizer_registered
    kernel.runs += 1
    keep = succeeded and reuse and kernel.keepable and kernel.runs < MAX_RUNS_PER_KERNEL
    if keep:
        try:
            _execute_quietly(kernel, _RESET, RESET_TIMEOUT_S)
        except Exception:
            keep = False
    if not keep:
        shutdown(kernel)
        return
    if _kept is not None:
        shutdown(_kept)
    _kept = kernel
    if not _finalizer_registered:  # runs at exit of this process, pool workers included
        multiprocessing.util.Finalize(None, shutdown_kept, exitpriority=10)
        _finalizer_registered = True


def shutdown_kept() -> None:
    """Shut down this process's kept kernel, if any."""
    global _kept
    kept, _kept = _kept, None
    if kept is not None:
        shutdown(kept)


def run_log(kernel: Kernel) -> str:
    """What the kernel process wrote since the previous call (the end, if long)."""
    kernel._log.flush()
    try:
        with kernel.log_path.open("rb") as stream:
            stream.seek(kernel.log_offset)
            data = stream.read()
    except OSError:
        return ""
    kernel.log_offset += len(data)
    return data.decode("utf-8", errors="replace")[-RUN_LOG_LIMIT:]


class KeptKernelEngine(NBClientEngine):
    """Papermill's nbclient engine for a kernel started here (``km=``), closing its client."""

    @classmethod
    def execute_managed_notebook(  # type: ignore[override]
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = START_TIMEOUT_S,
        execution_timeout: int | None = None,
        partial_path: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Execute the notebook in ``kwargs['km']``'s kernel, as the stock engine would.

        With ``kwargs['kc']`` (a connected client of that kernel) it is used and left open;
        otherwise the engine's own client is closed at the end. The runner has papermill write
        the notebook once at the end, not after every cell (about 20 ms a cell); a run that
        stops early (a timeout, a dead kernel) writes what it has to ``partial_path``, so its
        notebook is still the record of the run.
        """
        options = remove_args(["input_path", "timeout", "startup_timeout", "kc"], **kwargs)
        client = PapermillNotebookClient(
            nb_man,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **options,
        )
        given = kwargs.get("kc")
        client.kc = given
        try:
            return client.execute()
        except BaseException:
            if partial_path is not None:
                write_ipynb(nb_man.nb, partial_path)
            raise
        finally:
            if given is None and client.kc is not None:
                client.kc.stop_channels()
                client.kc = None


papermill_engines.register(ENGINE_NAME, KeptKernelEngine)
