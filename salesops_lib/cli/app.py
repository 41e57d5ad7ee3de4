"""The ``salesops`` Typer app and what every command group shares: error handling, messages.

Command groups (:mod:`~salesops_lib.cli.commands`, :mod:`~salesops_lib.cli.forecast`,
:mod:`~salesops_lib.cli.adhoc`) register their commands on :data:`app`; the package imports
them all. Every :class:`~salesops_lib.core.errors.WorkbenchError` is printed as one or two lines
on stderr and turned into a non-zero exit code; a traceback means a bug.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer

from salesops_lib.core.errors import WorkbenchError

app = typer.Typer(
    name="salesops",
    help="Sales Ops Workbench: demo snapshots, contracts, and per-region report runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def handles_errors(func: F) -> F:
    """Turn workbench errors raised by a command into a short message and an exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WorkbenchError as exc:
            _fail(str(exc), exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, width=None if sys.stderr.isatty() else 160)
