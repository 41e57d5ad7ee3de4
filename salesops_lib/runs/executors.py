"""Where runs execute: in this process, in a local process pool, or on a Dask cluster.

Every executor calls the same run function (:func:`salesops_lib.runs.runner.run_job`) with the same
job, so publishing, run records and failure isolation are identical. A run whose worker dies
before it returns a result is filed as failed through the crash function; the other runs go on.
Local pool workers die with the runner that started them (:func:`die_with_parent`).

Dask: the workers must see the same files as the client (notebooks, snapshots, reports: one
machine or a shared filesystem), have the package installed, have ``SALESOPS_CONFIG`` (or the
default ``config/workbench.yml``) pointing at the same configuration, and have the Jupyter kernel
installed that the runs name.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import sys
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from salesops_lib.core.errors import ParameterError

EXECUTORS = ("local", "dask")

JobT = TypeVar("JobT")
ResultT = TypeVar("ResultT")


def run_in_process(
    jobs: Sequence[JobT],
    run: Callable[[JobT], ResultT],
    done: Callable[[int, ResultT], None],
) -> None:
    """Run the jobs one after another in this process.

    Args:
        jobs: The runs.
        run: Runs one job and returns its result (never raises for a failing run).
        done: Called with (position in ``jobs``, result) as each finishes.
    """
    for position, job in enumerate(jobs):
        done(position, run(job))


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: end this worker when the runner that started it dies (even by SIGKILL).

    On Linux the kernel sends this process SIGKILL when its parent goes
    (``prctl(PR_SET_PDEATHSIG)``); if the parent is already gone, the worker exits at once.
    Elsewhere this does nothing.

    Args:
        parent_pid: The runner's process id.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the runner died before the line above took effect
        os._exit(1)


def _pool(workers: int, context: Any) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(
        workers, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),)
    )


def run_process_pool(
    jobs: Sequence[JobT],
    run: Callable[[JobT], ResultT],
    crash: Callable[[JobT, BaseException], ResultT],
    done: Callable[[int, ResultT], None],
    workers: int,
) -> None:
    """Run the jobs on a pool of ``workers`` fresh (spawned) processes.

    A worker process that dies (killed by the out-of-memory killer, say) breaks the whole
    pool, and every run still in it ends with ``BrokenProcessPool``, whichever run caused it.
    Those runs are then run again, each in a pool of its own (at most ``workers`` at a time),
    so only the run that kills its own worker fails; the rest go on.

    Args:
        jobs: The runs.
        run: Runs one job (must be importable by the worker processes).
        crash: Files a job whose worker died, given the error.
        done: Called with (position, result) as each finishes, in completion order.
        workers: Processes in the pool.
    """
    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads
    interrupted: list[int] = []
    with _pool(min(workers, len(jobs)), context) as pool:
        futures = {pool.submit(run, job): position for position, job in enumerate(jobs)}
        for future in cf.as_completed(futures):
            position = futures[future]
            try:
                result = future.result()
            except BrokenProcessPool:
                interrupted.append(position)  # maybe not this run's fault: run it alone
                continue
            except Exception as exc:  # a crashed worker fails only its own run
                result = crash(jobs[position], exc)
            done(position, result)
    if not interrupted:
        return

    def alone(position: int) -> None:
        with _pool(1, context) as own:
            try:
                result = own.submit(run, jobs[position]).result()
            except Exception as exc:  # this run killed its own worker
                result = crash(jobs[position], exc)
        done(position, result)

    with cf.ThreadPoolExecutor(min(workers, len(interrupted))) as threads:
        list(threads.map(alone, sorted(interrupted)))


def connect_dask(scheduler_address: str) -> Any:
    """Connect a Dask client (the connect timeout is dask's ``distributed.comm.timeouts.connect``).

    Args:
        scheduler_address: e.g. ``tcp://127.0.0.1:8786``.

    Returns:
        A ``distributed.Client``; close it when done.

    Raises:
        ParameterError: If the scheduler cannot be reached.
    """
    from distributed import Client

    try:
        return Client(scheduler_address)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ParameterError(
            f"--scheduler-address {scheduler_address}: cannot reach the Dask scheduler ({exc})"
        ) from None


def check_scheduler(scheduler_address: str) -> int:
    """Check that a Dask scheduler answers, before anything is planned or run.

    Args:
        scheduler_address: e.g. ``tcp://127.0.0.1:8786``.

    Returns:
        The number of workers connected to it.

    Raises:
        ParameterError: If the scheduler cannot be reached.
    """
    with connect_dask(scheduler_address) as client:
        return len(client.scheduler_info().get("workers", {}))


def run_dask(
    jobs: Sequence[JobT],
    run: Callable[[JobT], ResultT],
    crash: Callable[[JobT, BaseException], ResultT],
    done: Callable[[int, ResultT], None],
    scheduler_address: str,
) -> None:
    """Submit the jobs to a Dask distributed cluster and collect the results as they finish.

    Args:
        jobs: The runs.
        run: Runs one job on a worker.
        crash: Files a job whose task failed on the cluster (e.g. its worker was killed).
        done: Called with (position, result) as each finishes.
        scheduler_address: e.g. ``tcp://127.0.0.1:8786``.

    Raises:
        ParameterError: If the scheduler cannot be reached.
    """
    from distributed import as_completed

    client = connect_dask(scheduler_address)
    batch = uuid.uuid4().hex[:8]
    with client:
        futures = {
            client.submit(run, job, pure=False, key=f"salesops-run-{batch}-{position}"): position
            for position, job in enumerate(jobs)
        }
        for future in as_completed(futures):
            position = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # a task that failed on the cluster fails its run only
                result = crash(jobs[position], exc)
            done(position, result)


def dispatch(
    jobs: Sequence[JobT],
    run: Callable[[JobT], ResultT],
    crash: Callable[[JobT, BaseException], ResultT],
    done: Callable[[int, ResultT], None],
    executor: str = "local",
    workers: int = 2,
    scheduler_address: str | None = None,
) -> None:
    """Run the jobs on the chosen executor.

    Args:
        jobs: The runs.
        run: Runs one job.
        crash: Files a job whose worker died.
        done: Called with (position, result) as each finishes.
        executor: ``local`` (in-process when ``workers`` is 1, else a process pool) or ``dask``.
        workers: Local parallel runs.
        scheduler_address: The Dask scheduler (required for ``dask``).

    Raises:
        ParameterError: For an unknown executor or ``dask`` without a scheduler address.
    """
    if executor not in EXECUTORS:
        raise ParameterError(f"executor {executor!r}: allowed: {', '.join(EXECUTORS)}")
    if executor == "dask":
        if not scheduler_address:
            raise ParameterError("--executor dask needs --scheduler-address tcp://HOST:PORT")
        if jobs:
            run_dask(jobs, run, crash, done, scheduler_address)
        return
    if not jobs:
        return
    if workers <= 1 or len(jobs) == 1:
        run_in_process(jobs, run, done)
    else:
        run_process_pool(jobs, run, crash, done, workers)
