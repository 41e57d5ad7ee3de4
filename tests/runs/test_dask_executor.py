"""The Dask executor end to end: a real `dask scheduler` and two `dask worker`s on loopback.

The same runs go to the cluster: published reports, run records and failure isolation are the
same as with the local pool, and the runs really execute in the worker processes.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Workspace
from tests.trivial_notebooks import (
    free_port,
    project_env,
    salesops_cli,
    start_dask_cluster,
    stop_processes,
    workspace_project,
)

pytestmark = pytest.mark.e2e
AS_OF = "2026-11-23"
SCHEDULE = """\
jobs:
  default:
    notebooks: [01-trivial]
    regions: [na-east, dach, uki]
    cron: "0 6 * * mon"
"""


@pytest.fixture()
def cluster(
    tiny_workspace: Workspace, tmp_path: Path
) -> Iterator[tuple[str, Path, list[subprocess.Popen[bytes]]]]:
    """A scheduler and two single-threaded workers whose environment points at a project."""
    project = workspace_project(
        tmp_path / "project", tiny_workspace, SCHEDULE, {"01-trivial": "dach"}
    )
    address, processes = start_dask_cluster(project_env(project), project, tmp_path / "logs")
    try:
        yield address, project, processes
    finally:
        stop_processes(processes)


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
    address = f"tcp://127.0.0.1:{free_port()}"
    result = salesops_cli(env, "run", "--executor", "dask", "--scheduler-address", address)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0] and address in lines[0]
