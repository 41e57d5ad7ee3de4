"""The win model on a snapshot with a custom stage model (tests/stage_model_fixture.py): its open
stages are the stage features, its last open stage (Contract) is the slip stage. Expected values
worked out by hand from the six deals' stage paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from salesops_lib.analytics.forecasting import win_probability as wm
from salesops_lib.core.stages import DEFAULT_STAGE_MODEL
from tests.stage_model_fixture import AS_OF, CUSTOM_MODEL, custom_warehouse


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[wm.WinModelInputs]:
    folder = tmp_path_factory.mktemp("win-custom")
    with custom_warehouse(folder) as wh:
        yield wm.load_win_model_inputs(wh, Path(folder / "ws" / "snapshots"))


def test_inputs_carry_the_snapshot_model(inputs: wm.WinModelInputs) -> None:
    assert inputs.stages == CUSTOM_MODEL and inputs.as_of == AS_OF


def test_rebuilt_examples_are_the_deals_in_an_open_stage(inputs: wm.WinModelInputs) -> None:
    # cut-off 2024-03-20 - 38 days = 2024-02-11: a1 in Contract (signed 02-20: won within the
    # window), a4 in Demo, a6 in Lead; a2 and a3 are lost by then, a5 not created yet.
    examples = wm.reconstructed_examples(
        inputs.current, inputs.stage_changes, AS_OF, horizon=38, weeks=1, stages=CUSTOM_MODEL
    )
    got = examples.sort_values("opportunity_id")[["opportunity_id", "stage", "won"]]
    assert list(got.itertuples(index=False, name=None)) == [
        ("a1", "Contract", 1.0), ("a4", "Demo", 0.0), ("a6", "Lead", 0.0)
    ]  # fmt: skip
    with_default = wm.reconstructed_examples(
        inputs.current, inputs.stage_changes, AS_OF, horizon=38, weeks=1,
        stages=DEFAULT_STAGE_MODEL,
    )  # fmt: skip
    assert with_default.empty  # none of the CRM's stages is a default open stage
    rates = wm.stage_rates(examples, CUSTOM_MODEL)
    assert list(rates["stage"]) == ["Lead", "Demo", "Contract"]
    assert list(rates["win_rate"]) == [0.0, 0.0, 1.0]


def test_the_stage_features_are_the_open_stages(inputs: wm.WinModelInputs) -> None:
    examples = wm.reconstructed_examples(
        inputs.current, inputs.stage_changes, AS_OF, horizon=38, weeks=1, stages=CUSTOM_MODEL
    )
    model = wm.make_model(("stage", "days_in_stage"), CUSTOM_MODEL)
    model.fit(examples[["stage", "days_in_stage"]], examples["won"].astype(int))
    names = list(model.named_steps["features"].get_feature_names_out())
    assert names == ["cat__stage_Lead", "cat__stage_Demo", "cat__stage_Contract",
                     "num__days_in_stage"]  # fmt: skip


def test_slips_follow_the_last_open_stage(inputs: wm.WinModelInputs) -> None:
    assert wm.slip_stage(CUSTOM_MODEL) == "Contract"
    assert wm.slip_stage(DEFAULT_STAGE_MODEL) == "Negotiation"
    table = wm.empirical_slips(inputs.current, inputs.stage_changes, CUSTOM_MODEL)
    # closed deals that reached Contract: a1 only (won, never pushed)
    assert list(table["closed"]) == [1, 0, 0, 0] and list(table["won"]) == [1, 0, 0, 0]


def test_the_fitted_result_scores_the_open_deals_in_their_stages(
    inputs: wm.WinModelInputs,
) -> None:
    result = wm.fit_win_model(inputs)
    predictions = result.predictions.sort_values("opportunity_id")
    assert list(predictions["opportunity_id"]) == ["a4", "a5", "a6"]
    assert list(predictions["stage"]) == ["Demo", "Lead", "Contract"]
    assert set(result.stage_rates["stage"]) <= {"Lead", "Demo", "Contract"}
