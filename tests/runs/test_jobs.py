"""config/schedule.yml is checked as a whole; errors name the file, the line and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesops_lib.core.config import Region, Settings, load_settings
from salesops_lib.core.errors import ConfigError
from salesops_lib.runs.jobs import get_job, load_jobs
from tests.cli.in_process import run_cli
from tests.conftest import ROOT, Workspace
from tests.trivial_notebooks import project_env, workspace_project, write_notebook

GOOD = """\
jobs:
  weekly:
    notebooks: [01-alpha, 02-beta]
    regions: all
    cron: "0 6 * * mon"
    parameters:
      top_n: "7"
      threshold: 2
  dach-only:
    notebooks: 02-beta
    regions: [dach]
    cron: "30 7 1 * *"
    timezone: Europe/Berlin
    run_timeout_s: 120
"""


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Settings, Path]:
    folder = tmp_path / "notebooks"
    write_notebook(folder / "01-alpha.ipynb", extra_parameters="top_n: int = 10\n")
    write_notebook(folder / "02-beta.ipynb", extra_parameters="threshold: float = 0.5\n")
    write_notebook(folder / "scratch.ipynb")  # not a report notebook (no NN- prefix)
    cfg = Settings(
        regions=[Region(id="na-east", name="NA East"), Region(id="dach", name="DACH")],
        root=tmp_path,
    )
    return cfg, folder


def _load(project: tuple[Settings, Path], text: str) -> dict:
    cfg, folder = project
    path = cfg.root / "schedule.yml"
    path.write_text(text)
    return load_jobs(path, cfg, folder)


def _error(project: tuple[Settings, Path], text: str) -> str:
    with pytest.raises(ConfigError) as error:
        _load(project, text)
    return str(error.value)


def test_good_schedule_loads_with_all_expanded(project: tuple[Settings, Path]) -> None:
    jobs = _load(project, GOOD)
    weekly, dach = jobs["weekly"], jobs["dach-only"]
    assert list(jobs) == ["weekly", "dach-only"]
    assert weekly.regions == ("na-east", "dach", "all")
    assert [p.name for p in weekly.notebooks] == ["01-alpha.ipynb", "02-beta.ipynb"]
    assert weekly.parameters == {"top_n": 7, "threshold": 2.0}
    assert (weekly.cell_timeout_s, weekly.run_timeout_s) == (600, 1800)
    assert weekly.source.endswith("schedule.yml:3")
    assert dach.regions == ("dach",) and dach.timezone == "Europe/Berlin"
    assert dach.run_timeout_s == 120


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("[01-alpha, 02-beta]", "[01-alpha, 09-gamma]", 3, "unknown notebook '09-gamma'"),
        ("notebooks: 02-beta", "notebooks: scratch", 10, "unknown notebook 'scratch'"),
        ("regions: [dach]", "regions: [dach, mars]", 11, "unknown region 'mars'"),
        ('cron: "0 6 * * mon"', 'cron: "0 25 * * mon"', 5, "bad cron '0 25 * * mon'"),
        ('cron: "30 7 1 * *"', 'cron: "30 7 1 *"', 12, "bad cron '30 7 1 *'"),
        ("timezone: Europe/Berlin", "timezone: Mars/Olympus", 12, "unknown time zone"),
        ('top_n: "7"', 'top_m: "7"', 7, "unknown parameter 'top_m'"),
        ('top_n: "7"', 'top_n: "seven"', 7, "parameter 'top_n': value 'seven' is not a int"),
        ('top_n: "7"', "region: uki", 7, "parameter 'region' (value 'uki') is set by the runner"),
        ("run_timeout_s: 120", "run_timeout_s: -1", 14, "run_timeout_s must be a positive"),
        ("    regions: all\n", "    region: all\n", 4, "unknown key 'region'"),
    ],
)
def test_broken_schedule_names_file_line_and_reason(
    project: tuple[Settings, Path], old: str, new: str, line: int, reason: str
) -> None:
    assert old in GOOD
    message = _error(project, GOOD.replace(old, new, 1))
    assert message.startswith(f"{project[0].root / 'schedule.yml'}:{line}: "), message
    assert reason in message


def test_unknown_region_and_notebook_errors_list_what_is_allowed(
    project: tuple[Settings, Path],
) -> None:
    region = _error(project, GOOD.replace("[dach]", "[mars]"))
    assert "configured: na-east, dach, all" in region
    notebook = _error(project, GOOD.replace("02-beta\n", "nope\n"))
    assert "available: 01-alpha, 02-beta" in notebook
    parameter = _error(project, GOOD.replace("top_n:", "colour:"))
    assert "allowed: threshold, top_n" in parameter


def test_not_yaml_and_unknown_job_are_reported(project: tuple[Settings, Path]) -> None:
    assert ":2: not valid YAML: mapping values are not allowed here" in _error(
        project, "jobs:\n  a: x: y\n"
    )
    with pytest.raises(ConfigError, match="unknown job 'nightly'; defined jobs: weekly, dach-only"):
        get_job("nightly", _load(project, GOOD))


def test_the_shipped_schedule_is_valid_and_runs_every_region_weekly() -> None:
    cfg = load_settings(ROOT / "config" / "workbench.yml")
    jobs = load_jobs(ROOT / "config" / "schedule.yml", cfg, ROOT / "notebooks")
    default = jobs["default"]
    assert default.regions == (*cfg.region_ids(), "all")
    assert "00-overview" in [p.stem for p in default.notebooks]
    assert default.cron == "0 6 * * mon"


def test_cli_rejects_a_broken_schedule_before_anything_runs(
    tiny_workspace: Workspace, tmp_path: Path
) -> None:
    broken = "jobs:\n  default:\n    notebooks: [01-trivial]\n    regions: [mars]\n    cron: x\n"
    project = workspace_project(tmp_path / "p", tiny_workspace, broken, {"01-trivial": "nobody"})
    result = run_cli(project_env(project), "run", cwd=project)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"error: {project / 'config' / 'schedule.yml'}:4: unknown region 'mars'; configured: "
        "na-east, na-west, na-central, latam, uki, dach, nordics, apac, all"
    ]
    assert not (project / "reports").exists()
