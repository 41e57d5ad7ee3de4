"""Relative configuration paths resolve from the project root, for the CLI and kernels alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from salesops_lib.core.config import config_path
from tests.conftest import ROOT


@pytest.mark.parametrize("cwd", [ROOT, ROOT / "notebooks", ROOT / "config" / "mappings"])
def test_relative_salesops_config_means_the_same_file_from_any_project_folder(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SALESOPS_HOME", raising=False)
    monkeypatch.setenv("SALESOPS_CONFIG", "config/workbench.maven_crm.yml")
    monkeypatch.chdir(cwd)
    assert config_path() == ROOT / "config" / "workbench.maven_crm.yml"


def test_a_kernel_started_in_notebooks_reads_the_relative_config() -> None:
    # The report kernels run with notebooks/ as their working folder: a fresh interpreter there
    # must load the regions of the file the caller named relative to the project root.
    code = "from salesops_lib.core.config import settings; print(settings().region_ids())"
    env = {"SALESOPS_CONFIG": "config/workbench.maven_crm.yml", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "notebooks",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "['central', 'east', 'west']"


def test_absolute_salesops_config_is_used_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESOPS_CONFIG", str(tmp_path / "w.yml"))
    assert config_path() == tmp_path / "w.yml"
