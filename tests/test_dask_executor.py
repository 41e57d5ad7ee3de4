"""The Dask executor end to end: a real `dask scheduler` and two `dask worker`s on loopback.

The same runs go to the cluster: published reports, run records and failure isolation are the
same as with the local pool, and the runs really execute in the worker processes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Workspace
from tests.trivial_notebooks import project_env, salesops_cli, workspace_project

pytestmark = pytest.mark.e2e
AS_OF = "2026-11-23"
DASK = str(Path(sys.executable).parent / "dask")
SCHEDULE = """\
jobs:
  default:
    notebooks: [01-trivial]
    regions: [na-east, dach, uki]
    cron: "0 6 * * mon"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in reversed(processes):
        process.terminate()
    for process in reversed(processes):
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture()
def cluster(
    tiny_workspace: Workspace, tmp_path: Path
) -> Iterator[tuple[str, Path, list[subprocess.Popen[bytes]]]]:
    """A scheduler and two single-threaded workers whose environment points at a project."""
    from distributed import Client

    project = workspace_project(
        tmp_path / "project", tiny_workspace, SCHEDULE, {"01-trivial": "dach"}
    )
    env = project_env(project)
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    logs = tmp_path / "logs"
    logs.mkdir()
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
        for number in (1, 2):
            processes.append(
                subprocess.Popen(
                    [DASK, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-nanny",
                     "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{number}"],
                    env=env,
                    cwd=project,
                    stdout=subprocess.DEVNULL,
                    stderr=(logs / f"worker{number}.log").open("wb"),
                )
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=60)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address, project, processes
    finally:
        _stop(processes)


def test_dask_runs_publish_record_and_isolate_failures_like_local(
    cluster: tuple[str, Path, list[subprocess.Popen[bytes]]],
) -> None:
    address, project, processes = cluster
    worker_pids = {p.pid for p in processes[1:]}
    env = project_env(project)
    result = salesops_cli(env, "run", "--executor", "dask", "--scheduler-address", address)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "2 report(s) published, 0 unchanged (skipped), 1 failed" in result.stdout
    assert "ValueError: boom in dach" in result.stderr

    day = project / "reports" / AS_OF
    for region in ("na-east", "uki"):
        html = (day / region / "01-trivial.html").read_text()
        assert f"report body for {region} as of {AS_OF}" in html
    assert not (day / "dach" / "01-trivial.html").exists()
    assert (day / "_failed" / "dach" / "01-trivial.ipynb").is_file()
    assert not list(day.glob(".tmp-*"))
    index = (day / "index.html").read_text()
    assert 'href="na-east/01-trivial.html"' in index and 'class="status-failed"' in index

    manifests = [json.loads(p.read_text()) for p in (project / "reports" / "_runs").glob("*.json")]
    assert sorted((m["region"], m["status"]) for m in manifests) == [
        ("dach", "failed"),
        ("na-east", "ok"),
        ("uki", "ok"),
    ]
    pids = {m["pid"] for m in manifests}
    assert pids <= worker_pids and os.getpid() not in pids  # executed by the dask workers

    again = salesops_cli(env, "run", "--executor", "dask", "--scheduler-address", address)
    assert "0 report(s) published, 2 unchanged (skipped), 1 failed" in again.stdout


def test_unreachable_scheduler_is_a_clear_error(tiny_workspace: Workspace, tmp_path: Path) -> None:
    project = workspace_project(tmp_path / "p", tiny_workspace, SCHEDULE, {"01-trivial": "x"})
    env = project_env(project) | {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = salesops_cli(env, "run", "--executor", "dask", "--scheduler-address", address)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0] and address in lines[0]
