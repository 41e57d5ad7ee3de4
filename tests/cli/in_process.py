"""Run ``salesops`` commands inside the test process: the same Typer app, arguments and env.

A ``salesops`` subprocess costs about a second of imports (pandas, DuckDB, ...) that the test
process has already paid, so tests that check a command's output, messages and exit code call
:func:`run_cli` (typer's :class:`~typer.testing.CliRunner`, stdout and stderr kept apart). A few
tests marked ``slow`` still start the real console script (``salesops`` / ``python -m
salesops_lib.cli``) to prove the installed entry point works end to end.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner


@dataclass(frozen=True)
class CliResult:
    """What one command left behind, named like :class:`subprocess.CompletedProcess`.

    Attributes:
        returncode: The exit code (1 with a traceback in ``stderr`` for an uncaught exception).
        stdout: Everything the command printed on standard output.
        stderr: Everything it printed on standard error (messages, errors, tracebacks).
    """

    returncode: int
    stdout: str
    stderr: str


def run_cli(env: Mapping[str, str], *args: str, cwd: Path | None = None) -> CliResult:
    """Run ``salesops ARGS`` in this process with ``env`` set for the duration of the command.

    Args:
        env: Environment variables to set while the command runs (restored afterwards), e.g.
            :meth:`tests.conftest.Workspace.env` or :func:`tests.trivial_notebooks.project_env`.
        *args: The command line after ``salesops``.
        cwd: Working folder while the command runs (unchanged when ``None``).

    Returns:
        The exit code and the two output streams.
    """
    from salesops_lib.cli import app

    folder = contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext()
    with folder:
        result = CliRunner().invoke(app, list(args), env=dict(env), prog_name="salesops")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return CliResult(result.exit_code, result.stdout, stderr)
