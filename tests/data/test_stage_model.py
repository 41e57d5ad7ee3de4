"""A snapshot built with a custom stage model: ref_stages, fct_opportunities flags, contracts and
the mismatch between a snapshot's stages and the workspace's (see tests/stage_model_fixture.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from salesops_lib.data.contracts import run_contracts
from salesops_lib.data.stage_model import StageModelMismatch, snapshot_stage_model
from salesops_lib.data.warehouse import Warehouse
from tests.stage_model_fixture import (
    CUSTOM_MODEL,
    custom_tables,
    write_stage_snapshot,
    write_workspace_config,
)


@pytest.fixture
def custom_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace whose configuration declares the custom stages; returns its folder."""
    monkeypatch.setenv("SALESOPS_CONFIG", str(write_workspace_config(tmp_path / "ws")))
    return tmp_path / "ws"


@pytest.fixture
def custom(custom_workspace: Path) -> Iterator[Warehouse]:
    with Warehouse(write_stage_snapshot(custom_workspace / "snapshots"), threads=1) as wh:
        yield wh


def test_ref_stages_is_the_snapshot_model(custom: Warehouse) -> None:
    rows = custom.query("select * from ref_stages order by stage_order").to_dict("records")
    assert [r["stage"] for r in rows] == list(CUSTOM_MODEL.names)
    assert CUSTOM_MODEL.names == ("Lead", "Demo", "Contract", "Signed", "Lost", "Disqualified")
    assert [r["stage_order"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r["is_closed"] for r in rows] == [False, False, False, True, True, True]
    assert [r["is_won"] for r in rows] == [False, False, False, True, False, False]
    assert [r["is_lost"] for r in rows] == [False, False, False, False, True, True]
    open_categories = ["Pipeline", "Best Case", "Commit"]
    closed_categories = [["Closed"], ["Omitted"], ["Omitted"]]
    assert [list(r["forecast_categories"]) for r in rows] == [open_categories] * 3 + (
        closed_categories
    )
    defaults = ["Pipeline", "Best Case", "Commit", "Closed", "Omitted", "Omitted"]
    assert [r["default_forecast_category"] for r in rows] == defaults
    probabilities = [r["default_probability"] for r in rows]
    assert probabilities[:3] == [0.1, 0.3, 0.7] and all(math.isnan(p) for p in probabilities[3:])
    assert custom.stage_model == CUSTOM_MODEL


def test_opportunity_flags_come_from_the_model(custom: Warehouse) -> None:
    rows = custom.query(
        "select opportunity_id, stage_order, is_closed, is_won from fct_opportunities "
        "order by opportunity_id"
    )
    assert list(rows.itertuples(index=False, name=None)) == [
        ("a1", 4, True, True), ("a2", 5, True, False), ("a3", 6, True, False),
        ("a4", 2, False, False), ("a5", 1, False, False), ("a6", 3, False, False),
    ]  # fmt: skip


def test_every_contract_passes_with_the_custom_stages(custom: Warehouse) -> None:
    failed = [(r.model, r.rule) for r in run_contracts(custom) if not r.passed]
    assert failed == []


def test_a_stage_outside_the_model_breaks_accepted_values(custom_workspace: Path) -> None:
    tables = custom_tables()
    # a5 is in the default model's "Prospecting": a stage the custom model does not have
    tables["opportunities"] = [
        {**r, "stage": "Prospecting"} if r["opportunity_id"] == "a5" else r
        for r in tables["opportunities"]
    ]
    tables["opportunity_stage_history"] = [
        {**r, "stage": "Prospecting"} if r["opportunity_id"] == "a5" else r
        for r in tables["opportunity_stage_history"]
    ]
    with Warehouse(write_stage_snapshot(custom_workspace / "snapshots", tables)) as wh:
        failed = [r for r in run_contracts(wh) if not r.passed]
    accepted = {(r.model, r.column): r for r in failed if r.check == "accepted_values"}
    stage_rule = "in STAGES (Lead, Demo, Contract, Signed, Lost, Disqualified)"
    for model in ("stg_crm__opportunities", "stg_crm__opportunity_stage_history"):
        assert accepted[(model, "stage")].rule == stage_rule
        assert accepted[(model, "stage")].failing_rows == 1


def test_an_order_line_may_book_only_the_won_stage(custom_workspace: Path) -> None:
    tables = custom_tables()
    line = dict(tables["order_lines"][0])
    tables["order_lines"] = [
        {**line, "order_id": "w", "opportunity_id": "a1"},  # Signed: the won stage
        {**line, "order_id": "o", "opportunity_id": "a6"},  # Contract: open
    ]
    with Warehouse(write_stage_snapshot(custom_workspace / "snapshots", tables)) as wh:
        failed = [r for r in run_contracts(wh) if not r.passed]
    booked = [r for r in failed if "opportunity_is_won_and_of_the_account" in r.rule]
    assert len(booked) == 1 and booked[0].failing_rows == 1
    assert list(booked[0].sample["order_id"]) == ["o"]


def test_a_snapshot_of_other_stages_is_refused_with_both_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = write_stage_snapshot(tmp_path / "snapshots")
    monkeypatch.setenv("SALESOPS_CONFIG", str(write_workspace_config(tmp_path / "ws", None)))
    with pytest.raises(StageModelMismatch) as caught:
        Warehouse(snapshot)
    message = str(caught.value)
    assert "snapshot 2024-03-20" in message
    assert "uses stages [Lead, Demo, Contract, Signed (won), Lost (lost), Disqualified (lost)]" in (
        message
    )
    assert "declares [Prospecting, Qualification, Proposal, Negotiation, Closed Won (won), " in (
        message
    )
    assert caught.value.exit_code != 0


def test_a_snapshot_without_a_stage_file_uses_the_default_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from salesops_lib.core.stages import DEFAULT_STAGE_MODEL
    from tests.snapshot_builder import build_snapshot

    default = build_snapshot(tmp_path, "2024-03-20")
    assert snapshot_stage_model(default) == DEFAULT_STAGE_MODEL
    monkeypatch.setenv("SALESOPS_CONFIG", str(write_workspace_config(tmp_path / "ws")))
    with pytest.raises(StageModelMismatch, match=r"uses stages \[Prospecting, Qualification"):
        Warehouse(default)


def test_probabilities_and_categories_may_differ_from_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only stage names, order and outcomes must match; the snapshot's defaults are shown."""
    snapshot = write_stage_snapshot(tmp_path / "snapshots")
    plain = "\n".join(f"  - {{name: {s.name}, outcome: {s.outcome}}}" for s in CUSTOM_MODEL.stages)
    config = write_workspace_config(tmp_path / "ws", f"stages:\n{plain}\n")
    monkeypatch.setenv("SALESOPS_CONFIG", str(config))
    with Warehouse(snapshot) as wh:
        probabilities = wh.query("select default_probability from ref_stages order by 1 limit 1")
    assert probabilities.iloc[0, 0] == pytest.approx(0.1)
