"""Tiny throw-away report notebooks and projects for the runner tests (real kernels, fast).

A trivial notebook follows the report pattern (a ``parameters`` cell, a ``headlines`` cell) and
misbehaves on request, by region: raise, hang, or kill its kernel. A project is a folder with
``config/workbench.yml``, ``config/schedule.yml`` and ``notebooks/`` that ``SALESOPS_HOME`` points
the CLI at. :func:`start_dask_cluster` starts a real local Dask scheduler and workers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from salesops_lib.core.headlines import HEADLINES_MIMETYPE
from salesops_lib.data.store import store_code_version
from tests.conftest import ROOT, Workspace

TEST_CODE_VERSION = store_code_version()
"""The analytics store's code version as this test process computes it (``tiny_store``'s key)."""

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
        # the helper package's sources may change while tests run: pin the code version, to the
        # store key this test process uses, so runs over the tiny workspace's snapshots find the
        # analytics store ``tiny_store`` (or an earlier run) built instead of building another
        "SALESOPS_CODE_VERSION": TEST_CODE_VERSION,
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


DASK = str(Path(sys.executable).parent / "dask")


def free_port() -> int:
    """A TCP port on loopback that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate processes (last started first), killing those that do not exit in 5 s."""
    for process in reversed(processes):
        process.terminate()
    for process in reversed(processes):
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_dask_cluster(
    env: dict[str, str], cwd: Path, logs: Path, workers: int = 2
) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """Start ``dask scheduler`` and single-threaded ``dask worker`` processes on loopback.

    Args:
        env: Environment of the scheduler and workers.
        cwd: Working folder of the workers.
        logs: Folder for their logs (created).
        workers: Worker processes to start and wait for.

    Returns:
        The scheduler address and the processes (scheduler first); stop them with
        :func:`stop_processes`, also when this raises.
    """
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    port = address.rsplit(":", 1)[1]
    logs.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(
            subprocess.Popen(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(logs / "scheduler.log").open("wb"),
            )
        )
        for number in range(1, workers + 1):
            processes.append(
                subprocess.Popen(
                    [DASK, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-nanny",
                     "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{number}"],
                    env=env,
                    cwd=cwd,
                    stdout=subprocess.DEVNULL,
                    stderr=(logs / f"worker{number}.log").open("wb"),
                )
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(workers, timeout=60)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    except BaseException:
        stop_processes(processes)
        raise
    return address, processes
