"""Progress of a batch of report runs: a rich progress bar on a terminal, plain lines otherwise.

Shows runs done / failed / running / skipped, elapsed time and an estimate of the time left. The
executors report finished runs only, so "running" is the number of unfinished runs the workers
can hold at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text


class RunProgress:
    """Reports a batch of runs as they finish (use as a context manager).

    Args:
        console: Where to draw (stderr in the CLI).
        workers: Runs that execute at once.
    """

    def __init__(self, console: Console, workers: int) -> None:
        self.console = console
        self.workers = max(1, workers)
        self.to_run = 0
        self.skipped = 0
        self.done = 0
        self.failed = 0
        self.start = time.monotonic()
        self.live = console.is_terminal
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> RunProgress:
        if self.live:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.stop()

    @property
    def running(self) -> int:
        """Runs started but not finished (at most one per worker)."""
        return min(self.workers, self.to_run - self.done - self.failed)

    def _counts(self) -> str:
        return (
            f"done {self.done} · failed {self.failed} · running {self.running} · "
            f"skipped {self.skipped}"
        )

    def plan(self, to_run: int, skipped: int) -> None:
        """Record how many runs will execute and how many were skipped as unchanged."""
        self.to_run, self.skipped = to_run, skipped
        self.start = time.monotonic()
        if self.progress is not None:
            self.task = self.progress.add_task(self._counts(), total=to_run)
        else:
            self.console.print(
                f"{to_run} run(s) to execute on {self.workers} worker(s), {skipped} unchanged "
                "since their last success (skipped; --force runs them)",
                highlight=False,
            )

    def result(self, result: Any) -> None:
        """Record one finished (or skipped) run.

        Args:
            result: A :class:`~salesops_lib.runs.runner.RunResult`.
        """
        if result.status == "skipped":
            if self.progress is None:
                self.console.print(
                    f"skipped {result.region} {result.notebook}: unchanged", highlight=False
                )
            return
        if result.status == "ok":
            self.done += 1
        else:
            self.failed += 1
        finished = self.done + self.failed
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=finished, description=self._counts())
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed / finished * (self.to_run - finished) if finished else 0.0
        detail = f" - {result.error}" if result.error else ""
        self.console.print(
            f"[{finished}/{self.to_run}] {result.region} {result.notebook}: {result.status} in "
            f"{result.duration_s:.1f}s{detail} ({self._counts()}; elapsed {elapsed:.0f}s, "
            f"eta {eta:.0f}s)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def failure_table(results: Sequence[Any]) -> Table:
    """A table of the failed runs: region, notebook, error, and where the failed notebook is.

    Args:
        results: Run results (only the failed ones are listed).

    Returns:
        The rich table.
    """
    table = Table(title="Failed runs", show_lines=False)
    for column in ("region", "notebook", "error", "failed notebook"):
        table.add_column(column, overflow="fold")
    for result in results:
        if result.status == "failed":
            where = str(result.notebook_path or result.record_path or "")
            cells = (result.region, result.notebook, result.error or "", where)
            table.add_row(*(Text(str(cell)) for cell in cells))  # literal: never rich markup
    return table
