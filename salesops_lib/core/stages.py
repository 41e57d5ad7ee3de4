"""The stage model: a CRM's own opportunity stages, in funnel order, and what each one means.

A workspace declares it in ``config/workbench.yml`` under ``stages:`` (absent: the default
model below, the demo's six stages)::

    stages:
      - {name: Prospecting, probability: 0.1}
      - {name: Engaging, probability: 0.4, forecast_category: Best Case}
      - {name: Won, outcome: won}
      - {name: Lost, outcome: lost}

One entry per stage, in funnel order: the open stages first (``outcome: open``, the default),
then the closed ones: exactly one ``won`` stage and one or more ``lost`` stages. Optional per
stage: ``probability`` (a default win probability in [0, 1], shown in ``ref_stages``) and
``forecast_category`` (the category an importer gives a deal in that stage when the source
has none: an open stage's is one of Pipeline, Best Case, Commit, default Pipeline; a won
stage's is Closed, a lost stage's Omitted). Forecast categories are the workbench's own
vocabulary (:data:`FORECAST_CATEGORIES`); stages are the CRM's.

A snapshot records the model its opportunities use in ``_stages.json`` (:data:`STAGE_FILE`;
a snapshot without it uses :data:`DEFAULT_STAGE_MODEL`); the warehouse builds ``ref_stages``
from it and refuses a snapshot whose model differs from the workspace's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from salesops_lib.core.errors import ConfigError
from salesops_lib.core.yaml_nodes import NodeReader

Outcome = Literal["open", "won", "lost"]
OUTCOMES: tuple[str, ...] = ("open", "won", "lost")

OPEN_CATEGORIES: tuple[str, ...] = ("Pipeline", "Best Case", "Commit")
"""Forecast categories an open deal may have, least to most certain."""
WON_CATEGORY = "Closed"
LOST_CATEGORY = "Omitted"
FORECAST_CATEGORIES: tuple[str, ...] = (*OPEN_CATEGORIES, WON_CATEGORY, LOST_CATEGORY)
"""Every forecast category: open deals use the first three, won deals Closed, lost Omitted."""

STAGE_FILE = "_stages.json"
"""The snapshot's extra file recording its stage model."""
MAX_STAGE_NAME = 60
_KEYS = ("name", "outcome", "probability", "forecast_category")


@dataclass(frozen=True)
class Stage:
    """One stage of the model.

    Attributes:
        name: The stage name as the CRM shows it.
        outcome: ``open``, ``won`` or ``lost``.
        probability: Default win probability in [0, 1], or ``None``.
        forecast_category: Default forecast category of a deal in this stage.
    """

    name: str
    outcome: Outcome = "open"
    probability: float | None = None
    forecast_category: str = "Pipeline"

    @property
    def is_closed(self) -> bool:
        """Whether a deal in this stage is decided."""
        return self.outcome != "open"

    @property
    def allowed_categories(self) -> tuple[str, ...]:
        """Forecast categories a deal in this stage may have."""
        if self.outcome == "won":
            return (WON_CATEGORY,)
        if self.outcome == "lost":
            return (LOST_CATEGORY,)
        return OPEN_CATEGORIES


@dataclass(frozen=True)
class StageModel:
    """Ordered stages: open ones in funnel order, then the won stage, then the lost ones.

    Build one with :func:`stage_model_from_entries` (which checks the rules); the fields are
    the stages in funnel order.

    Attributes:
        stages: Every stage, funnel order (``stage_order`` = position + 1).
    """

    stages: tuple[Stage, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every stage name in funnel order."""
        return tuple(s.name for s in self.stages)

    @property
    def open_stages(self) -> tuple[str, ...]:
        """Open stage names in funnel order."""
        return tuple(s.name for s in self.stages if s.outcome == "open")

    @property
    def won_stage(self) -> str:
        """The won stage's name."""
        return next(s.name for s in self.stages if s.outcome == "won")

    @property
    def lost_stages(self) -> tuple[str, ...]:
        """The lost stages' names."""
        return tuple(s.name for s in self.stages if s.outcome == "lost")

    @property
    def closed_stages(self) -> tuple[str, ...]:
        """Won and lost stage names."""
        return tuple(s.name for s in self.stages if s.is_closed)

    @property
    def last_open_stage(self) -> str:
        """The last open stage (the one a deal is in just before it is decided)."""
        return self.open_stages[-1]

    def stage(self, name: str) -> Stage:
        """The stage called ``name``.

        Raises:
            ConfigError: If the model has no such stage; the message lists the stages.
        """
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise ConfigError(f"unknown stage {name!r}; stages: {', '.join(self.names)}")

    def order_of(self, name: str) -> int:
        """The 1-based funnel position of a stage."""
        return self.names.index(self.stage(name).name) + 1

    def outline(self) -> str:
        """The stages with their outcomes on one line, for messages."""
        return ", ".join(
            s.name if s.outcome == "open" else f"{s.name} ({s.outcome})" for s in self.stages
        )

    def same_stages(self, other: StageModel) -> bool:
        """Whether both models have the same stages, order and outcomes (defaults may differ)."""
        return [(s.name, s.outcome) for s in self.stages] == [
            (s.name, s.outcome) for s in other.stages
        ]

    def to_json_bytes(self) -> bytes:
        """The model as the snapshot's ``_stages.json`` (stable bytes)."""
        entries = [
            {
                "name": s.name,
                "outcome": s.outcome,
                "probability": s.probability,
                "forecast_category": s.forecast_category,
            }
            for s in self.stages
        ]
        return (json.dumps({"stages": entries}, indent=2, sort_keys=True) + "\n").encode()


def _check_entry(entry: dict[str, Any], where: str) -> Stage:
    """One entry as a stage; ``where`` prefixes the error (file and line)."""
    unknown = sorted(set(entry) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_KEYS)}"
        )
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: every stage needs a non-blank text 'name'")
    if name != name.strip() or len(name) > MAX_STAGE_NAME:
        raise ConfigError(
            f"{where}: stage name {name!r} must have no leading or trailing spaces and at most "
            f"{MAX_STAGE_NAME} characters"
        )
    outcome = entry.get("outcome", "open")
    if outcome not in OUTCOMES:
        raise ConfigError(
            f"{where}: stage {name!r}: outcome {outcome!r} must be one of {', '.join(OUTCOMES)}"
        )
    probability = entry.get("probability")
    if probability is not None and (
        isinstance(probability, bool)
        or not isinstance(probability, int | float)
        or not 0 <= probability <= 1
    ):
        raise ConfigError(
            f"{where}: stage {name!r}: probability {probability!r} must be a number in [0, 1]"
        )
    stage = Stage(
        name=name, outcome=outcome, probability=None if probability is None else float(probability)
    )
    category = entry.get("forecast_category", stage.allowed_categories[0])
    if category not in stage.allowed_categories:
        raise ConfigError(
            f"{where}: stage {name!r}: forecast_category {category!r} is not allowed for a "
            f"stage of outcome {outcome}; allowed: {', '.join(stage.allowed_categories)}"
        )
    return Stage(
        name=name, outcome=outcome, probability=stage.probability, forecast_category=category
    )


def stage_model_from_entries(entries: list[tuple[dict[str, Any], str]], where: str) -> StageModel:
    """Check stage entries and build the model.

    Args:
        entries: Each entry's mapping with the ``FILE:LINE`` prefix its errors should carry.
        where: The prefix of errors about the list as a whole (the ``stages:`` key's line).

    Returns:
        The model.

    Raises:
        ConfigError: If an entry or the list breaks a rule: a blank or duplicated name, an
            unknown key or outcome, a probability outside [0, 1], a forecast category the
            outcome does not allow, no open stage, not exactly one won stage, no lost stage, or
            an open stage after a closed one.
    """
    stages: list[Stage] = []
    seen: dict[str, str] = {}
    for entry, at in entries:
        stage = _check_entry(entry, at)
        key = stage.name.casefold()
        if key in seen:
            raise ConfigError(f"{at}: stage {stage.name!r} is listed twice (first at {seen[key]})")
        if stages and stages[-1].is_closed and not stage.is_closed:
            raise ConfigError(
                f"{at}: open stage {stage.name!r} comes after a closed stage; list the open "
                "stages in funnel order first, then the won stage and the lost stage(s)"
            )
        seen[key] = at
        stages.append(stage)
    outcomes = [s.outcome for s in stages]
    if "open" not in outcomes:
        raise ConfigError(f"{where}: stages: at least one open stage is needed")
    if outcomes.count("won") != 1:
        raise ConfigError(
            f"{where}: stages: exactly one stage needs 'outcome: won' "
            f"(found {outcomes.count('won')})"
        )
    if "lost" not in outcomes:
        raise ConfigError(f"{where}: stages: at least one stage needs 'outcome: lost'")
    return StageModel(stages=tuple(stages))


def read_stage_model(reader: NodeReader, key: yaml.Node, node: yaml.Node) -> StageModel:
    """Read the ``stages:`` list of a YAML file; errors are ``FILE:LINE: rule``.

    Args:
        reader: The file's node reader.
        key: The ``stages`` key node (errors about the whole list name its line).
        node: Its value node.

    Returns:
        The model.

    Raises:
        ConfigError: If the list or an entry breaks a rule (see :func:`stage_model_from_entries`).
    """
    where = f"{reader.source}:{key.start_mark.line + 1}"
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise reader.fail(key, "stages: expected a list of stages ({name: ..., outcome: ...})")
    entries = []
    for item in node.value:
        value = reader.value(item)
        if not isinstance(value, dict):
            raise reader.fail(
                item, "stages: every stage is a mapping such as {name: Won, outcome: won}"
            )
        entries.append((value, f"{reader.source}:{item.start_mark.line + 1}"))
    return stage_model_from_entries(entries, where)


def stage_model_from_json(content: bytes, source: str | Path) -> StageModel:
    """Read a snapshot's ``_stages.json``.

    Args:
        content: The file's bytes.
        source: The file, for errors.

    Returns:
        The model it records.

    Raises:
        ConfigError: If the file is not the JSON :meth:`StageModel.to_json_bytes` writes, or
            breaks a rule.
    """
    try:
        raw = json.loads(content.decode("utf-8"))
        entries = raw["stages"]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError("stages is not a list of objects")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: not a stage model file: {exc}") from None
    cleaned = [
        ({k: v for k, v in e.items() if v is not None}, f"{source}: stage {i + 1}")
        for i, e in enumerate(entries)
    ]
    return stage_model_from_entries(cleaned, str(source))


DEFAULT_STAGE_MODEL = StageModel(
    stages=(
        Stage("Prospecting"),
        Stage("Qualification"),
        Stage("Proposal"),
        Stage("Negotiation"),
        Stage("Closed Won", outcome="won", forecast_category=WON_CATEGORY),
        Stage("Closed Lost", outcome="lost", forecast_category=LOST_CATEGORY),
    )
)
"""The model of a workspace without a ``stages:`` block (and of the demo)."""
