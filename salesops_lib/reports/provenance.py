"""The provenance block that ends every report: data, parameters, code, run time, command.

One function for every report notebook, so the reproduce command is built the same way
everywhere: ``salesops run --region R --as-of D --notebook N [--param k=v ...] --force``
(``--force`` because an unchanged re-run is otherwise skipped rather than reproduced).
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Mapping
from typing import Any

from salesops_lib.core.version import code_version
from salesops_lib.reports import narrative

RUNNER_SET = ("region", "as_of")
"""Parameters the runner sets itself from ``--region`` and ``--as-of``."""


def reproduce_command(
    notebook: str, region: str, snapshot_id: str, parameters: Mapping[str, Any]
) -> str:
    """Return the shell command that re-runs one report exactly.

    Args:
        notebook: The report notebook's stem, such as ``"10-performance"``.
        region: The region id the report ran for.
        snapshot_id: The snapshot it read.
        parameters: The notebook's parameters; every one but region and as_of becomes a
            ``--param`` (values shell-quoted).

    Returns:
        The command line.
    """
    parts = ["salesops", "run", "--region", region, "--as-of", snapshot_id, "--notebook", notebook]
    for name, value in parameters.items():
        if name not in RUNNER_SET:
            parts += ["--param", f"{name}={value}"]
    return shlex.join([*parts, "--force"])


def provenance(
    notebook: str,
    region: str,
    snapshot_id: str,
    snapshot_checksum: str,
    parameters: Mapping[str, Any],
    compared_with: dt.date | None = None,
) -> narrative.Html:
    """The provenance block of one report, as an escaped HTML display.

    Args:
        notebook: The report notebook's stem.
        region: The region id the report ran for.
        snapshot_id: The snapshot it read.
        snapshot_checksum: That snapshot's content checksum.
        parameters: The notebook's parameters as given.
        compared_with: The earlier snapshot a comparison used, if any.

    Returns:
        The block, ready to display.
    """
    version = code_version()
    label = (
        snapshot_id
        if compared_with is None
        else (f"{snapshot_id} (compared with {compared_with.isoformat()})")
    )
    return narrative.Html(
        narrative.provenance_html(
            snapshot_id=label,
            snapshot_checksum=snapshot_checksum,
            parameters=parameters,
            package_version=str(version["package"]),
            commit=version["commit"],
            run_at=dt.datetime.now(dt.UTC),
            command=reproduce_command(notebook, region, snapshot_id, parameters),
        )
    )
