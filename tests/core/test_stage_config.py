"""The ``stages:`` block of the workbench configuration: the default, a custom model, and a clear
``FILE:LINE: rule`` error for every broken rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesops_lib.core.config import load_settings
from salesops_lib.core.errors import ConfigError
from salesops_lib.core.stages import DEFAULT_STAGE_MODEL, stage_model_from_json
from tests.conftest import ROOT
from tests.stage_model_fixture import CUSTOM_MODEL, CUSTOM_STAGES_YAML

REGIONS = "regions:\n  - {id: r1, name: Region One}\n"


def _settings(tmp_path: Path, text: str):
    path = tmp_path / "workbench.yml"
    path.write_text(REGIONS + text, encoding="utf-8")
    return load_settings(path)


def _error(tmp_path: Path, stages: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, stages)
    return str(caught.value)


def test_without_a_stages_block_the_model_is_the_default_six(tmp_path: Path) -> None:
    model = _settings(tmp_path, "").stages
    assert model == DEFAULT_STAGE_MODEL
    assert model.names == ("Prospecting", "Qualification", "Proposal", "Negotiation",
                           "Closed Won", "Closed Lost")  # fmt: skip
    assert model.open_stages == model.names[:4]
    assert (model.won_stage, model.lost_stages) == ("Closed Won", ("Closed Lost",))
    assert load_settings(ROOT / "config" / "workbench.yml").stages == DEFAULT_STAGE_MODEL


def test_a_custom_model_is_read_in_funnel_order(tmp_path: Path) -> None:
    model = _settings(tmp_path, CUSTOM_STAGES_YAML).stages
    assert model == CUSTOM_MODEL
    assert model.open_stages == ("Lead", "Demo", "Contract")
    assert model.lost_stages == ("Lost", "Disqualified")
    assert model.last_open_stage == "Contract"
    assert stage_model_from_json(model.to_json_bytes(), "x") == model  # round trip


def test_the_maven_workspace_declares_the_crm_stages() -> None:
    model = load_settings(ROOT / "config" / "workbench.maven_crm.yml").stages
    assert [(s.name, s.outcome) for s in model.stages] == [
        ("Prospecting", "open"), ("Engaging", "open"), ("Won", "won"), ("Lost", "lost")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("stages", "line", "rule"),
    [
        ("stages: []\n", 3, "expected a list of stages"),
        ("stages:\n  - Lead\n", 4, "every stage is a mapping"),
        ("stages:\n  - {outcome: won}\n", 4, "needs a non-blank text 'name'"),
        ("stages:\n  - {name: ' Lead'}\n", 4, "no leading or trailing spaces"),
        ("stages:\n  - {name: A}\n  - {name: B, outcome: closed}\n", 5,
         "outcome 'closed' must be one of open, won, lost"),
        ("stages:\n  - {name: A, probability: 1.5}\n", 4, "probability 1.5 must be a number"),
        ("stages:\n  - {name: A, forecast_category: Closed}\n", 4,
         "forecast_category 'Closed' is not allowed for a stage of outcome open; "
         "allowed: Pipeline, Best Case, Commit"),
        ("stages:\n  - {name: A}\n  - {name: W, outcome: won, forecast_category: Commit}\n", 5,
         "allowed: Closed"),
        ("stages:\n  - {name: A, colour: red}\n", 4, "unknown key(s) colour"),
        ("stages:\n  - {name: A}\n  - {name: a}\n", 5, "stage 'a' is listed twice"),
        ("stages:\n  - {name: A}\n  - {name: W, outcome: won}\n  - {name: B}\n", 6,
         "open stage 'B' comes after a closed stage"),
        ("stages:\n  - {name: W, outcome: won}\n  - {name: L, outcome: lost}\n", 3,
         "at least one open stage"),
        ("stages:\n  - {name: A}\n  - {name: L, outcome: lost}\n", 3,
         "exactly one stage needs 'outcome: won' (found 0)"),
        ("stages:\n  - {name: A}\n  - {name: W, outcome: won}\n  - {name: V, outcome: won}\n", 3,
         "(found 2)"),
        ("stages:\n  - {name: A}\n  - {name: W, outcome: won}\n", 3,
         "at least one stage needs 'outcome: lost'"),
    ],
)  # fmt: skip
def test_a_broken_stages_block_names_file_line_and_rule(
    tmp_path: Path, stages: str, line: int, rule: str
) -> None:
    message = _error(tmp_path, stages)
    assert message.startswith(f"{tmp_path / 'workbench.yml'}:{line}: "), message
    assert rule in message
    assert len(message.splitlines()) <= 2


def test_a_stage_file_that_is_not_json_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"snap/_stages\.json: not a stage model file"):
        stage_model_from_json(b"[1, 2]", "snap/_stages.json")
