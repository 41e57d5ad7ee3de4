"""The ``salesops`` command line: demo data, validation, report runs, the analytics store,
forecast tools and ad-hoc SQL.

Built with Typer: :mod:`~salesops_lib.cli.app` holds the app, and each command group module
registers its commands on it when imported here.
"""

from salesops_lib.cli import (  # noqa: F401  (registers the commands)
    adhoc,
    commands,
    comp,
    forecast,
    plan,
    submit,
)
from salesops_lib.cli.app import app

__all__ = ["app"]
