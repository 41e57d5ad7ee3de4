"""Tiny throw-away report notebooks and projects for the runner tests (real kernels, fast).

A trivial notebook follows the report pattern (a ``parameters`` cell, a ``headlines`` cell) and
misbehaves on request, by region: raise, hang, or kill its kernel. A project is a folder with
``config/workbench.yml``, ``config/schedule.yml`` and ``notebooks/`` that ``SALESOPS_HOME`` points
the CLI at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from salesops_lib.core.headlines import HEADLINES_MIMETYPE
from tests.conftest import ROOT, Workspace

SLOW_MARKER_ENV = "TRIVIAL_SLOW_MARKER"
"""While the file this names exists, the trivial notebook sleeps for every region but na-east."""


def write_notebook(
    path: Path,
    fail_for: str = "nobody",
    extra_parameters: str = "",
    body: str = "print('report body for', region, 'as of', as_of)",
) -> Path:
    """Write a trivial report notebook.

    Args:
        path: Where to write it (``NN-topic.ipynb``).
        fail_for: Region whose run raises ``ValueError('boom in <region>')``.
        extra_parameters: More lines for the ``parameters`` cell.
        body: The report body cell.

    Returns:
        ``path``.

    Region ``slow`` sleeps 60 s, region ``dies`` kills its kernel with ``os._exit``.
    """
    parameters = new_code_cell(
        'region: str = "all"  # region id\nas_of: str = ""  # date\n' + extra_parameters
    )
    parameters.metadata["tags"] = ["parameters"]
    headlines = new_code_cell(
        "from IPython.display import display\n"
        f"display({{{HEADLINES_MIMETYPE!r}: {{'open_pipeline': 1500000.0, "
        "'region_name': '<i>' + region + '</i>'}}, raw=True)"
    )
    headlines.metadata["tags"] = ["headlines"]
    slow = (
        "import os, time\n"
        f"marker = os.environ.get({SLOW_MARKER_ENV!r})\n"
        "if region == 'slow' or (marker and os.path.exists(marker) and region != 'na-east'):\n"
        "    time.sleep(60)"
    )
    notebook = new_notebook(
        cells=[
            new_markdown_cell("# Trivial report"),
            parameters,
            new_code_cell(f"if region == {fail_for!r}:\n    raise ValueError('boom in ' + region)"),
            new_code_cell("if region == 'dies':\n    import os\n    os._exit(1)"),
            new_code_cell(slow),
            new_code_cell(body),
            headlines,
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def make_project(folder: Path, snapshots: Path, schedule: str, notebooks: dict[str, str]) -> Path:
    """A project folder: config (regions of the real config), schedule, trivial notebooks.

    Args:
        folder: Where to build it.
        snapshots: The snapshots folder to point at (e.g. the tiny workspace's).
        schedule: Text of ``config/schedule.yml``.
        notebooks: Notebook stem -> region it fails for.

    Returns:
        ``folder``.
    """
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text())
    config["paths"] = {"snapshots": str(snapshots), "reports": str(folder / "reports")}
    (folder / "config").mkdir(parents=True, exist_ok=True)
    (folder / "config" / "workbench.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (folder / "config" / "schedule.yml").write_text(schedule)
    for stem, fail_for in notebooks.items():
        write_notebook(folder / "notebooks" / f"{stem}.ipynb", fail_for=fail_for)
    return folder


def project_env(project: Path) -> dict[str, str]:
    """Environment that points the CLI, its workers and kernels at a project."""
    env = {k: v for k, v in os.environ.items() if k not in ("SALESOPS_SCHEDULE",)}
    return env | {
        "SALESOPS_HOME": str(project),
        "SALESOPS_CONFIG": str(project / "config" / "workbench.yml"),
        "SALESOPS_KERNEL": "python3",
        # the helper package's sources may change while tests run; pin the code version
        "SALESOPS_CODE_VERSION": "test-code-version",
    }


def salesops_cli(
    env: dict[str, str], *args: str, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m salesops_lib.cli`` with ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "salesops_lib.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=env.get("SALESOPS_HOME"),
    )


def workspace_project(
    folder: Path, workspace: Workspace, schedule: str, notebooks: dict[str, str]
) -> Path:
    """:func:`make_project` over a workspace's snapshots."""
    return make_project(folder, workspace.snapshots, schedule, notebooks)
