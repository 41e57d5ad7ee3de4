"""``salesops submit``: validate a forecast submission and store it append-only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesops_lib.cli.app import _say, app, handles_errors


@app.command("submit")
@handles_errors
def submit(
    file: Annotated[Path, typer.Argument(help="Submission: a .csv or .yml file of calls.")],
    week: Annotated[
        str | None,
        typer.Option("--week", help="Week YYYY-MM-DD (a snapshot date; default: the latest)."),
    ] = None,
) -> None:
    """Submit quarter forecast calls (commit, best_case, most_likely) for a week.

    A rep submits for themself, a manager for themself (the team override, with a note) or for
    a rep of their team. Every row is checked against the week's snapshot before anything is
    stored; a resubmission adds a newer version (the latest per submitter and week counts).
    """
    from salesops_lib.core.config import settings
    from salesops_lib.data.submissions import (
        check_week,
        read_submission,
        store_calls,
        submissions_dir_for,
    )

    snapshots_dir = settings().snapshots_dir
    day = check_week(snapshots_dir, week)
    calls = read_submission(file, snapshots_dir, day)
    target, written = store_calls(submissions_dir_for(snapshots_dir), day, calls)
    submitters = ", ".join(sorted(set(calls["submitted_by"])))
    if written:
        _say(f"stored {len(calls)} call(s) of {submitters} for week {day.isoformat()}: {target}")
    else:
        _say(f"unchanged: the latest version of {submitters} already holds these calls ({target})")
