"""``python -m salesops_lib.importer MAPPING SOURCE... [--as-of D] [--snapshots DIR] [--force]``."""

from __future__ import annotations

import sys

import typer

from salesops_lib.errors import WorkbenchError
from salesops_lib.importer.command import import_command


def main() -> None:
    """Run the import command, printing a workbench error as one line with its exit code."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(import_command)
    try:
        app(standalone_mode=False)
    except WorkbenchError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
