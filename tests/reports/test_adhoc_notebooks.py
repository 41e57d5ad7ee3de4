"""The exploratory starter notebooks: run under nbval on tiny demo data, declare the project kernel,
and run inside the JupyterLab server that ``make lab`` starts (checked through its REST API)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import requests
from jupyter_client import BlockingKernelClient

from tests.conftest import ROOT, Workspace

EXPLORATORY = ROOT / "notebooks" / "exploratory"
STARTERS = sorted(EXPLORATORY.glob("[0-9][0-9]-*.ipynb"))
TOKEN = "adhoc-lab-test-token"


def test_there_are_starter_notebooks() -> None:
    assert [p.name for p in STARTERS] == ["01-start-here.ipynb", "02-executive-questions.ipynb"]


@pytest.mark.parametrize("notebook", STARTERS, ids=[p.stem for p in STARTERS])
def test_starter_declares_the_project_kernel_and_is_clean(notebook: Path) -> None:
    book = nbformat.read(notebook, as_version=4)
    nbformat.validate(book)
    assert book.metadata.kernelspec.name == "salesops"
    assert book.metadata.kernelspec.display_name == "Python (salesops)"
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "region" in tagged[0].source


@pytest.mark.e2e
@pytest.mark.parametrize("notebook", STARTERS, ids=[p.stem for p in STARTERS])
def test_starter_runs_under_nbval(notebook: Path, tiny_workspace: Workspace) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "nbval",
         "--nbval-lax", "--nbval-current-env", str(notebook)],
        cwd=ROOT, env=os.environ | tiny_workspace.env(), capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    code_cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    assert f"{len(code_cells)} passed" in result.stdout


# -- make lab -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lab_command(port: int) -> list[str]:
    """The command ``make lab`` runs (``make -n``: printed, not run; setup counted as done)."""
    args = f"LAB_ARGS=--no-browser --ip=127.0.0.1 --port={port} --ServerApp.token={TOKEN}"
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "lab", args],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and " lab " in lines[0], done.stdout
    return lines[0].split()


@pytest.fixture()
def lab(tiny_workspace: Workspace, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A JupyterLab server started with make lab's command; yields (base URL, runtime dir)."""
    port = free_port()
    runtime = tmp_path / "runtime"
    env = (
        os.environ
        | tiny_workspace.env()
        | {
            "JUPYTER_RUNTIME_DIR": str(runtime),
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
            "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        }
    )
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        lab_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "lab.log").read_text()[-3000:]
            try:
                if requests.get(f"{base}/api/status", params={"token": TOKEN}, timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "JupyterLab did not start in 120 s"
            time.sleep(0.5)
        yield base, runtime
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()


def run_cells(client: BlockingKernelClient, notebook: Path) -> list[str]:
    """Execute every code cell in the kernel; returns the stdout text; fails on the first error."""
    printed: list[str] = []

    def keep(message: dict) -> None:
        if message["header"]["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        reply = client.execute_interactive(cell.source, timeout=600, output_hook=keep)
        content = reply["content"]
        assert content["status"] == "ok", f"{notebook.name}: {content.get('ename')}: " + str(
            content.get("evalue")
        )
    return printed


@pytest.mark.e2e
def test_make_lab_serves_the_project_kernel_and_runs_a_starter(
    lab: tuple[str, Path], tiny_workspace: Workspace
) -> None:
    base, runtime = lab
    auth = {"Authorization": f"token {TOKEN}"}
    specs = requests.get(f"{base}/api/kernelspecs", headers=auth, timeout=30).json()
    assert "salesops" in specs["kernelspecs"]
    assert specs["kernelspecs"]["salesops"]["spec"]["display_name"] == "Python (salesops)"
    assert specs["default"] == "salesops"
    contents = requests.get(f"{base}/api/contents/exploratory", headers=auth, timeout=30).json()
    assert {"01-start-here.ipynb", "02-executive-questions.ipynb"} <= {
        item["name"] for item in contents["content"]
    }
    notebook = "exploratory/01-start-here.ipynb"
    session = requests.post(
        f"{base}/api/sessions",
        headers=auth,
        json={"path": notebook, "type": "notebook", "kernel": {"name": "salesops"}},
        timeout=60,
    ).json()
    kernel_id = session["kernel"]["id"]
    assert session["kernel"]["name"] == "salesops"
    connection = runtime / f"kernel-{kernel_id}.json"
    deadline = time.monotonic() + 60
    while not connection.is_file():
        assert time.monotonic() < deadline, f"no connection file {connection}"
        time.sleep(0.2)
    client = BlockingKernelClient(connection_file=str(connection))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        printed = "".join(run_cells(client, ROOT / "notebooks" / notebook))
        python: list[str] = []
        client.execute_interactive(
            "import sys; print(sys.prefix)",
            timeout=60,
            output_hook=lambda m: python.append(m["content"].get("text", "")),
        )
    finally:
        client.stop_channels()
    snapshot = sorted(p.name for p in tiny_workspace.snapshots.iterdir())[-1]
    assert f"snapshot {snapshot}" in printed
    assert "refused" in printed
    assert Path("".join(python).strip()).resolve() == Path(sys.prefix).resolve()
    kernels = requests.get(f"{base}/api/kernels", headers=auth, timeout=30).json()
    assert [k["name"] for k in kernels if k["id"] == kernel_id] == ["salesops"]
    requests.delete(f"{base}/api/sessions/{session['id']}", headers=auth, timeout=60)
