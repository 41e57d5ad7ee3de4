"""Workbench configuration (``config/workbench.yml``): regions, paths, engine settings, stages.

The file is validated with pydantic when loaded; a broken file is rejected with its path and the
reason. ``SALESOPS_CONFIG`` points at another file (tests use it); ``SALESOPS_HOME`` sets the
project root that relative paths are resolved against.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from salesops_lib.core.errors import ConfigError
from salesops_lib.core.stages import DEFAULT_STAGE_MODEL, StageModel, read_stage_model
from salesops_lib.core.yaml_nodes import NodeReader

REGION_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
ALL_REGIONS = "all"
"""The pseudo-region that means the whole company."""


class Region(BaseModel):
    """One sales region: a path-safe id and a display name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str

    @field_validator("id")
    @classmethod
    def _path_safe(cls, value: str) -> str:
        if not REGION_ID_PATTERN.match(value) or value == ALL_REGIONS:
            raise ValueError(
                f"region id {value!r} must be lowercase letters, digits and hyphens "
                f"(max 40) and not {ALL_REGIONS!r}"
            )
        return value


class Paths(BaseModel):
    """Where snapshots, reports and the forecast ledger live."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    snapshots: str = "data/snapshots"
    reports: str = "reports"
    forecast_ledger: str | None = None
    """Defaults to ``forecast_ledger`` beside the snapshots folder, so a workspace keeps its own."""
    analytics: str | None = None
    """The analytics store; defaults to ``analytics`` beside the snapshots folder."""
    comp_ledger: str | None = None
    """The payout ledger; defaults to ``comp_ledger`` beside the snapshots folder."""


class DuckDBSettings(BaseModel):
    """Engine settings for every warehouse connection."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    threads: int = Field(default=2, ge=1, le=256)
    memory_limit: str = Field(default="4GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB)$")


class DemoSettings(BaseModel):
    """Defaults for ``salesops demo``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    seed: int = 42
    as_of: str = "2026-11-23"
    scale: str | int = "default"
    weeks: int = Field(default=13, ge=1, le=104)


class Settings(BaseModel):
    """The whole workbench configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    regions: list[Region]
    paths: Paths = Paths()
    duckdb: DuckDBSettings = DuckDBSettings()
    demo: DemoSettings = DemoSettings()
    stages: StageModel = DEFAULT_STAGE_MODEL
    """The CRM's stage model (``stages:``; see :mod:`salesops_lib.core.stages`)."""
    root: Path = Path(".")

    def region_ids(self) -> list[str]:
        """Return the configured region ids in config order."""
        return [r.id for r in self.regions]

    def region_name(self, region_id: str) -> str:
        """Return the display name of a region id (``all`` is 'All regions')."""
        if region_id == ALL_REGIONS:
            return "All regions"
        for region in self.regions:
            if region.id == region_id:
                return region.name
        raise ConfigError(
            f"unknown region {region_id!r}; configured regions: "
            f"{', '.join(self.region_ids())} (or {ALL_REGIONS!r})"
        )

    def resolve(self, path: str) -> Path:
        """Resolve a configured path against the project root."""
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.root / candidate

    @property
    def snapshots_dir(self) -> Path:
        """Folder that holds one sub-folder per snapshot."""
        return self.resolve(self.paths.snapshots)

    @property
    def reports_dir(self) -> Path:
        """Folder that rendered reports are published into."""
        return self.resolve(self.paths.reports)

    @property
    def analytics_dir(self) -> Path:
        """Folder of the analytics store (one sub-folder per snapshot, then per build key)."""
        return self.analytics_dir_for(self.snapshots_dir)

    def analytics_dir_for(self, snapshots_dir: Path) -> Path:
        """The analytics store of a snapshots folder: the configured one, else beside it."""
        if self.paths.analytics is None:
            return Path(snapshots_dir).parent / "analytics"
        return self.resolve(self.paths.analytics)

    @property
    def forecast_ledger_dir(self) -> Path:
        """Folder of the append-only forecast ledger (one sub-folder per forecast as-of)."""
        if self.paths.forecast_ledger is None:
            return self.snapshots_dir.parent / "forecast_ledger"
        return self.resolve(self.paths.forecast_ledger)

    @property
    def comp_ledger_dir(self) -> Path:
        """Folder of the append-only payout ledger (payout runs and period locks)."""
        if self.paths.comp_ledger is None:
            return self.snapshots_dir.parent / "comp_ledger"
        return self.resolve(self.paths.comp_ledger)


def project_root() -> Path:
    """Return the project root: ``SALESOPS_HOME`` or the nearest folder with ``config/``."""
    if home := os.environ.get("SALESOPS_HOME"):
        return Path(home).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "config" / "workbench.yml").is_file():
            return folder
    return Path(__file__).resolve().parents[2]


def config_path() -> Path:
    """Return the configuration file in use (``SALESOPS_CONFIG`` or ``config/workbench.yml``).

    A relative ``SALESOPS_CONFIG`` is resolved from the project root (:func:`project_root`),
    never from the current folder, so the CLI (started anywhere in the project) and the report
    kernels (which run in ``notebooks/``) read the same file.
    """
    if explicit := os.environ.get("SALESOPS_CONFIG"):
        path = Path(explicit).expanduser()
        return (path if path.is_absolute() else project_root() / path).resolve()
    return project_root() / "config" / "workbench.yml"


def load_settings(path: Path | None = None) -> Settings:
    """Load and validate the workbench configuration.

    Args:
        path: Configuration file; defaults to :func:`config_path`.

    Returns:
        The validated settings, with ``root`` set to the project root.

    Raises:
        ConfigError: If the file is missing, is not YAML, or breaks the schema; the message
            names the file and the offending key.
    """
    path = path or config_path()
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    if "stages" in raw:
        raw = {**raw, "stages": _stage_model(path, text)}
    root = project_root()
    try:
        settings = Settings(**raw, root=root)
    except (ValidationError, TypeError) as exc:
        first = (
            exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": (), "msg": str(exc)}
        )
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    ids = settings.region_ids()
    if duplicated := sorted({i for i in ids if ids.count(i) > 1}):
        raise ConfigError(f"{path}: regions: duplicated region id(s) {', '.join(duplicated)}")
    return settings


def _stage_model(path: Path, text: str) -> StageModel:
    """Read the ``stages:`` block of a configuration file (errors are ``FILE:LINE: rule``)."""
    reader = NodeReader(path, text)
    root = reader.root()
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    key, node = next((key, value) for key, value in root.value if key.value == "stages")
    return read_stage_model(reader, key, node)


@lru_cache(maxsize=4)
def _cached(path: str) -> Settings:
    return load_settings(Path(path))


def settings() -> Settings:
    """Return the configuration in use, loaded once per process and file."""
    return _cached(str(config_path()))


def configured_stage_model() -> StageModel:
    """The stage model of the workspace configuration in use (``settings().stages``)."""
    return settings().stages


def stage_model_or_configured(model: StageModel | None) -> StageModel:
    """``model``, or the workspace's configured model when it is ``None``.

    Analytics functions take an optional ``stages`` argument: callers holding a warehouse pass
    its ``stage_model`` (the snapshot's); without one the configured model is used, which the
    warehouse guarantees is the same for every snapshot it opens.
    """
    return model if model is not None else configured_stage_model()
