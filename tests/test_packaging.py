"""The install files agree with each other and the project's shape is as documented."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

from tests.conftest import ROOT


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    pins = {}
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        assert version, f"pyproject.toml: {requirement!r} is not pinned with =="
        pins[name.lower()] = version
    return pins


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = {}
    for requirement in pip_section:
        if requirement.startswith("-e"):
            continue
        name, _, version = requirement.partition("==")
        pins[name.lower()] = version
    return pins


def test_environment_yml_and_pyproject_pin_the_same_versions() -> None:
    assert _environment_pins() == _pyproject_pins()


def test_environment_yml_installs_the_package_and_python_311() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section


def test_pandas_major_version_is_2_as_decided() -> None:
    # statsforecast 2.1 (the forecasting issue) requires pandas < 3; see README "Install".
    assert _pyproject_pins()["pandas"].startswith("2.")


def test_installed_versions_match_the_pins() -> None:
    from importlib.metadata import version

    for name, pinned in _pyproject_pins().items():
        assert version(name) == pinned, f"{name}: installed {version(name)}, pinned {pinned}"


def test_make_help_lists_every_target_with_a_description() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    documented = set(re.findall(r"^([a-z][a-z-]*):.*## ", makefile, flags=re.M))
    assert targets - documented == set()
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0
    for target in ("run", "test", "test-fast", "setup", "lab", "bench"):
        assert re.search(rf"^\s+{target}\s", out.stdout, flags=re.M), out.stdout


def test_layout_exists() -> None:
    for path in (
        "notebooks",
        "salesops_lib/data/sql",
        "data",
        "reports",
        "config",
        "tests",
        "environment.yml",
        "pyproject.toml",
        "Makefile",
        "README.md",
        ".ci/run",
    ):
        assert (ROOT / path).exists(), path


def test_cli_help_starts() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "salesops_lib.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    for command in ("demo", "validate", "run", "snapshots"):
        assert command in out.stdout
