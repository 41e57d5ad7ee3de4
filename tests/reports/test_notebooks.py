"""Every report notebook executes top to bottom under nbval (lax mode) on tiny demo data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, Workspace

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def test_there_are_report_notebooks() -> None:
    assert "00-overview.ipynb" in [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_under_nbval(notebook: Path, tiny_workspace: Workspace) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "nbval",  # plugins are not auto-loaded (pyproject.toml addopts)
            "--nbval-lax",
            "--nbval-current-env",
            str(notebook),
        ],
        cwd=ROOT,
        env=os.environ | tiny_workspace.env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    code_cells = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    assert f"{len(code_cells)} passed" in result.stdout


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_clean(notebook: Path) -> None:
    """Report notebooks hold narrative and library calls only, with outputs stripped."""
    cells = json.loads(notebook.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    parameters = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(parameters) == 1
    for cell in code:
        source = "".join(cell["source"])
        assert not cell.get("outputs") and not cell.get("execution_count")
        assert "def " not in source and "class " not in source
        for keyword in ("select ", "SELECT ", "duckdb"):
            assert keyword not in source, f"SQL in {notebook.name}: {source!r}"
