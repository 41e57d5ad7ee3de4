"""Build the analytics store of one snapshot: every heavy result, once, at the grain reports need.

Each analytics topic declares its build steps in its own ``build`` module as ``STEPS``, a tuple
of :class:`BuildStep`. A step reads the marts through the warehouse it is given (and, where it
needs history, earlier snapshots) and returns frames named ``an_<what one row is>``. The build
runs every step, then writes all tables in one atomic store (:mod:`salesops_lib.data.store`).
Building a snapshot whose store exists for the current code is a no-op.

Steps that fan out (one fit per series, say) call ``context.executor.map``: in process by
default, or on a Dask cluster with ``executor="dask"`` (a scheduler address, or a local cluster
started for the build), so the same build scales out without code changes.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pandas as pd

from salesops_lib.core.config import settings
from salesops_lib.core.errors import ParameterError, WorkbenchError
from salesops_lib.data.snapshot import open_snapshot
from salesops_lib.data.store import Store, find_store, store_code_version, write_store

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

T = TypeVar("T")
R = TypeVar("R")

STEP_MODULES: tuple[str, ...] = (
    "salesops_lib.analytics.performance.build",
    "salesops_lib.analytics.forecasting.build",
    "salesops_lib.analytics.segmentation.build",
    "salesops_lib.analytics.quality.build",
    "salesops_lib.analytics.compensation.build",
)
"""Modules whose ``STEPS`` make up the store, in build order."""

EXECUTORS: tuple[str, ...] = ("local", "dask")


class StepExecutor(Protocol):
    """Runs one function over many items: in process, or on a cluster."""

    name: str

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Apply ``func`` to every item and return the results in item order."""
        ...


class LocalExecutor:
    """Runs every item in this process, in order."""

    name = "local"

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Apply ``func`` to every item in order."""
        return [func(item) for item in items]


class DaskExecutor:
    """Runs items as tasks on a Dask cluster (``func`` must be a module-level function).

    Args:
        client: A connected ``distributed.Client``.
    """

    name = "dask"

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Submit one task per item and gather the results in item order."""
        if not items:
            return []
        futures = self.client.map(func, list(items), pure=False)
        return list(self.client.gather(futures))


@dataclass(frozen=True)
class BuildContext:
    """What a build step gets.

    Attributes:
        warehouse: An open warehouse over the snapshot being built (marts only).
        snapshots_dir: The snapshots folder, for steps that read earlier snapshots.
        executor: Where fan-out work runs (:class:`LocalExecutor` or :class:`DaskExecutor`).
    """

    warehouse: Warehouse
    snapshots_dir: Path
    executor: StepExecutor = field(default_factory=LocalExecutor)


@dataclass(frozen=True)
class BuildStep:
    """One step of the build.

    Attributes:
        name: Short name, e.g. ``"forecasts"`` (shown in progress and in the manifest).
        tables: The tables it returns, each ``an_<what one row is>``.
        compute: Function from a :class:`BuildContext` to ``{table: frame}``.
    """

    name: str
    tables: tuple[str, ...]
    compute: Callable[[BuildContext], dict[str, pd.DataFrame]]


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_store` did.

    Attributes:
        store: The store (built now or found).
        built: ``False`` when an up-to-date store already existed (nothing was computed).
        seconds: Wall time of the call.
    """

    store: Store
    built: bool
    seconds: float

    @property
    def failed_steps(self) -> dict[str, str]:
        """Build step -> its one-line error, for the steps that failed (empty if none)."""
        return {
            name: str(entry["error"])
            for name, entry in self.store.manifest.get("failed_steps", {}).items()
        }


def build_steps(modules: Iterable[str] = STEP_MODULES) -> list[BuildStep]:
    """Every declared build step, topic by topic; a topic without a ``build`` module has none.

    Raises:
        WorkbenchError: If two steps declare the same table.
    """
    steps: list[BuildStep] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        steps.extend(getattr(module, "STEPS", ()))
    seen: dict[str, str] = {}
    for step in steps:
        for table in step.tables:
            if table in seen:
                raise WorkbenchError(
                    f"build steps {seen[table]!r} and {step.name!r} both declare table {table!r}"
                )
            seen[table] = step.name
    return steps


def _dask_executor(scheduler: str | None) -> tuple[DaskExecutor, Callable[[], None]]:
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler, timeout="30s")
        return DaskExecutor(client), client.close
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)

    def close() -> None:
        client.close()
        cluster.close()

    return DaskExecutor(client), close


def build_store(
    as_of: str | None = None,
    snapshots_dir: Path | None = None,
    analytics_dir: Path | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    steps: Sequence[BuildStep] | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build (or find) the analytics store of one snapshot.

    Args:
        as_of: Snapshot date ``YYYY-MM-DD``; ``None`` or ``""`` is the latest snapshot.
        snapshots_dir: Snapshots folder; defaults to the configured one.
        analytics_dir: Store root; defaults to the configured one.
        executor: ``"local"`` or ``"dask"``.
        scheduler: Dask scheduler address for ``executor="dask"``; ``None`` starts a local
            cluster of two worker processes for the build.
        steps: Steps to run; defaults to :func:`build_steps`.
        progress: Called with one line per step as it finishes.

    Returns:
        The store and whether it was built now. A step that raises does not stop the build:
        the store records it under ``failed_steps`` (its tables are absent, and reading one
        names the step and its error), so the reports that do not need it still run.

    Raises:
        ParameterError: For an unknown executor.
        SnapshotError: If the snapshot is missing or does not match its manifest.
    """
    from salesops_lib.data.warehouse import Warehouse

    if executor not in EXECUTORS:
        raise ParameterError(f"executor {executor!r}: choose one of {', '.join(EXECUTORS)}")
    started = time.perf_counter()
    cfg = settings()
    folder = snapshots_dir or cfg.snapshots_dir
    store_root = analytics_dir or cfg.analytics_dir_for(folder)
    snapshot = open_snapshot(folder, as_of or None, verify=True)
    version = store_code_version()
    found = find_store(store_root, snapshot, version)
    if found is not None:
        return BuildResult(found, False, time.perf_counter() - started)
    chosen = list(steps) if steps is not None else build_steps()
    runner: StepExecutor = LocalExecutor()
    close: Callable[[], None] = lambda: None  # noqa: E731
    if executor == "dask":
        runner, close = _dask_executor(scheduler)
    tables: dict[str, pd.DataFrame] = {}
    durations: dict[str, float] = {}
    failures: dict[str, str] = {}
    by_name = {step.name: step for step in chosen}
    try:
        warehouse = Warehouse(
            snapshot, threads=cfg.duckdb.threads, memory_limit=cfg.duckdb.memory_limit
        )
        with warehouse:
            context = BuildContext(warehouse, folder, runner)
            for step in chosen:
                step_started = time.perf_counter()
                try:
                    produced = _run_step(step, context)
                except Exception as exc:  # isolated: the other steps' reports still run
                    failures[step.name] = _one_line(exc)
                    if progress is not None:
                        progress(f"{step.name}: FAILED: {failures[step.name]}")
                    continue
                tables.update(produced)
                durations[step.name] = time.perf_counter() - step_started
                if progress is not None:
                    rows = sum(len(frame) for frame in produced.values())
                    progress(f"{step.name}: {rows:,} rows in {durations[step.name]:.1f} s")
    finally:
        close()
    failed = {
        name: {"error": message, "tables": list(by_name[name].tables)}
        for name, message in failures.items()
    }
    store = write_store(store_root, snapshot, tables, durations, version, failed_steps=failed)
    return BuildResult(store, True, time.perf_counter() - started)


def _run_step(step: BuildStep, context: BuildContext) -> dict[str, pd.DataFrame]:
    """Run one step and check it returned exactly the tables it declares."""
    produced = step.compute(context)
    if set(produced) != set(step.tables):
        raise WorkbenchError(
            f"build step {step.name!r} returned {sorted(produced)}, declared {sorted(step.tables)}"
        )
    return produced


def _one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
