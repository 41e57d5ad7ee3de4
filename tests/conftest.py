"""Shared fixtures: a tiny demo workspace (config + snapshots) generated once per session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Workspace:
    """A throw-away workbench: its own config file, snapshots folder and reports folder."""

    config: Path
    snapshots: Path
    reports: Path

    def env(self) -> dict[str, str]:
        """Environment variables that point the CLI, the runner and kernels at this workspace."""
        return {"SALESOPS_CONFIG": str(self.config), "SALESOPS_HOME": str(ROOT)}


def make_workspace(folder: Path, scale: str = "tiny", weeks: int = 2) -> Workspace:
    """Write a config for a workspace under ``folder`` (no data yet)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text())
    config["paths"] = {"snapshots": str(folder / "snapshots"), "reports": str(folder / "reports")}
    config["demo"] = {**config["demo"], "scale": scale, "weeks": weeks}
    path = folder / "workbench.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return Workspace(path, folder / "snapshots", folder / "reports")


def generated_workspace(folder: Path, scale: str, weeks: int) -> Workspace:
    """A workspace under ``folder`` with its demo snapshots generated (config seed and as-of)."""
    from salesops_lib.core.config import load_settings
    from salesops_lib.sources.demo import generate_demo

    workspace = make_workspace(folder, scale=scale, weeks=weeks)
    cfg = load_settings(workspace.config)
    generate_demo(
        workspace.snapshots,
        cfg.demo.as_of,
        seed=cfg.demo.seed,
        scale=scale,
        weeks=weeks,
        regions=cfg.regions,
    )
    return workspace


@pytest.fixture(scope="session")
def tiny_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace with tiny demo snapshots (two weekly snapshots), generated once."""
    yield generated_workspace(tmp_path_factory.mktemp("tiny-workspace"), "tiny", 2)


@pytest.fixture(scope="session")
def weekly_demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Default-scale demo with 13 weekly snapshots (earlier snapshots to learn from and score
    against), generated once for the forecast and pipeline-model tests."""
    return generated_workspace(tmp_path_factory.mktemp("weekly-demo-workspace"), "default", 13)
