"""Data contracts: a clean hand-made snapshot passes every check, and each rule type catches a
hand-made violation with the right model, column, rule and count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from salesops_lib.core.errors import ContractError
from salesops_lib.data import contracts, schema
from salesops_lib.data.contract_report import assert_valid, format_results
from salesops_lib.data.contracts import (
    NAMED_VALUES,
    CheckResult,
    ModelContract,
    compile_checks,
    load_contracts,
    named_values,
    run_contracts,
)
from salesops_lib.data.warehouse import Warehouse
from tests.snapshot_builder import TWO_REGION_TABLES, build_snapshot, build_two_region_snapshot

D = dt.date
ALL_LAYERS = ("staging", "intermediate", "marts")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    snapshot = build_two_region_snapshot(tmp_path_factory.mktemp("clean"))
    with Warehouse(snapshot, threads=1) as warehouse:
        yield warehouse


def _replace(table: str, index: int, **changes: Any) -> dict[str, list[dict[str, Any]]]:
    """The fixture's table with one row changed."""
    rows = [dict(r) for r in TWO_REGION_TABLES[table]]
    rows[index] = {**rows[index], **changes}
    return {table: rows}


def _failures(
    tmp_path: Path,
    overrides: dict[str, list[dict[str, Any]]],
    layers: tuple[str, ...] = ALL_LAYERS,
) -> list[CheckResult]:
    with Warehouse(build_two_region_snapshot(tmp_path, overrides), threads=1) as warehouse:
        return [r for r in run_contracts(warehouse, layers) if not r.passed]


def _find(results: list[CheckResult], model: str, check: str, rule_part: str) -> CheckResult:
    found = [r for r in results if r.model == model and r.check == check and rule_part in r.rule]
    assert len(found) == 1, [(r.model, r.check, r.rule) for r in results]
    return found[0]


# -- coverage ---------------------------------------------------------------------------------


def test_clean_snapshot_passes_every_check(clean: Warehouse) -> None:
    results = run_contracts(clean, ALL_LAYERS)
    assert len(results) > 200
    assert [r for r in results if not r.passed] == []
    assert_valid(clean)


def test_builder_defaults_pass_every_check(tmp_path: Path) -> None:
    with Warehouse(build_snapshot(tmp_path, "2024-03-20"), threads=1) as warehouse:
        assert [r for r in run_contracts(warehouse, ALL_LAYERS) if not r.passed] == []
        assert len(warehouse.table("fct_bookings")) == 1


def test_every_staging_view_and_mart_has_a_contract(clean: Warehouse) -> None:
    contracted = {c.model for layer in ALL_LAYERS for c in load_contracts(layer)}
    models = clean.models()
    assert {m for m in models if m.startswith(("stg_", "fct_", "dim_"))} <= contracted
    assert len([m for m in contracted if m.startswith("stg_")]) == len(schema.TABLES)
    for layer in ALL_LAYERS:
        for contract in load_contracts(layer):
            assert contract.grain.startswith("one row per"), contract.model
            kinds = {next(iter(t)) for t in contract.tests}
            assert "unique" in kinds, contract.model


def test_contract_value_lists_are_the_schema_constants_and_the_stage_model(
    clean: Warehouse,
) -> None:
    named_lists = named_values(clean)
    assert named_lists["STAGES"] == schema.STAGES  # a snapshot without _stages.json: default
    assert named_lists["OPEN_STAGES"] == schema.OPEN_STAGES
    assert NAMED_VALUES["FORECAST_CATEGORIES"] == schema.FORECAST_CATEGORIES
    named = [
        t["accepted_values"]["values"]
        for layer in ALL_LAYERS
        for c in load_contracts(layer)
        for t in c.tests
        if "accepted_values" in t
    ]
    assert named and all(isinstance(v, str) and v in named_lists for v in named)


def test_accepted_values_are_bound_not_formatted(clean: Warehouse) -> None:
    contract = next(c for c in load_contracts("staging") if c.model == "stg_crm__opportunities")
    checks = [c for c in compile_checks(clean, contract) if c.check == "accepted_values"]
    assert len(checks) == 2
    for check in checks:
        assert "?" in check.sql and "Closed Won" not in check.sql and "Commit" not in check.sql
    assert checks[0].params == (list(schema.STAGES),)


def test_contract_naming_unknown_column_is_rejected(clean: Warehouse) -> None:
    bad = ModelContract(
        model="fct_bookings",
        grain="one row per order line",
        key=("order_id",),
        tests=({"not_null": ["amount; DROP VIEW dim_regions"]},),
        source=Path("_contracts.yml"),
    )
    with pytest.raises(ContractError, match="unknown column 'amount; DROP VIEW dim_regions'"):
        compile_checks(clean, bad)
    with pytest.raises(ContractError, match="unknown test 'between'"):
        compile_checks(clean, ModelContract("dim_regions", "g", (), ({"between": {}},), Path("x")))


# -- each rule type catches a hand-made violation ---------------------------------------------


def test_unique_catches_duplicate_key(tmp_path: Path) -> None:
    regions = [*TWO_REGION_TABLES["regions"], {"region_id": "west", "region_name": "West again"}]
    failures = _failures(tmp_path, {"regions": regions})
    result = _find(failures, "stg_crm__regions", "unique", "region_id")
    assert result.failing_rows == 2  # both rows with the duplicated key
    assert sorted(result.sample["region_name"]) == ["West", "West again"]
    assert _find(failures, "dim_regions", "unique", "region_id").failing_rows == 2


def test_unique_catches_duplicate_compound_key(tmp_path: Path) -> None:
    lines = [*TWO_REGION_TABLES["order_lines"], dict(TWO_REGION_TABLES["order_lines"][5])]
    failures = _failures(tmp_path, {"order_lines": lines}, layers=("staging",))
    result = _find(failures, "stg_erp__order_lines", "unique", "order_id, line_number")
    assert result.failing_rows == 2
    assert result.column is None
    assert set(result.sample["order_id"]) == {"ord5"}


def test_not_null_catches_blank_text(tmp_path: Path) -> None:
    failures = _failures(tmp_path, _replace("accounts", 3, account_name="   "), layers=("staging",))
    result = _find(failures, "stg_crm__accounts", "not_null", "is not null")
    assert (result.column, result.failing_rows) == ("account_name", 1)
    assert result.sample["account_id"].tolist() == ["a4"]


def test_relationships_catch_unknown_rep(tmp_path: Path) -> None:
    failures = _failures(tmp_path, _replace("order_lines", 4, rep_id="ghost"))
    result = _find(failures, "stg_erp__order_lines", "relationships", "stg_crm__reps.rep_id")
    assert (result.column, result.failing_rows) == ("rep_id", 1)
    assert result.sample["order_id"].tolist() == ["ord4"]
    # the mart shows the consequence: a booking whose rep is not in dim_reps
    assert _find(failures, "fct_bookings", "relationships", "dim_reps.rep_id").failing_rows == 1


def test_accepted_values_catch_unknown_stage_and_size_band(tmp_path: Path) -> None:
    overrides = {
        **_replace("opportunities", 2, stage="Won", forecast_category="Maybe"),
        **_replace("accounts", 0, size_band="Huge"),
    }
    failures = _failures(tmp_path, overrides, layers=("staging",))
    stage = [r for r in failures if r.model == "stg_crm__opportunities" and r.column == "stage"]
    assert {r.check for r in stage} >= {"accepted_values"}
    accepted = _find(failures, "stg_crm__opportunities", "accepted_values", "STAGES")
    assert accepted.failing_rows == 1 and accepted.sample["stage"].tolist() == ["Won"]
    category = _find(failures, "stg_crm__opportunities", "accepted_values", "FORECAST")
    assert category.sample["forecast_category"].tolist() == ["Maybe"]
    size = _find(failures, "stg_crm__accounts", "accepted_values", "SIZE_BANDS")
    assert size.sample["size_band"].tolist() == ["Huge"]


@pytest.mark.parametrize(
    ("table", "index", "changes", "model", "rule"),
    [
        ("order_lines", 0, {"amount": 199.0}, "stg_erp__order_lines", "amount_is_quantity"),
        ("order_lines", 1, {"discount": 1.5, "amount": -50.0}, "stg_erp__order_lines", "discount"),
        ("order_lines", 2, {"quantity": 0, "amount": 0.0}, "stg_erp__order_lines", "quantity_pos"),
        ("order_lines", 3, {"order_date": D(2024, 3, 21)}, "stg_erp__order_lines", "ordered_by"),
        ("order_lines", 3, {"opportunity_id": "o1"}, "stg_erp__order_lines", "opportunity_is_won"),
        ("order_lines", 3, {"opportunity_id": "o3"}, "stg_erp__order_lines", "opportunity_is_won"),
        ("products", 1, {"list_price": 0.0}, "stg_erp__products", "list_price_positive"),
        ("quotas", 2, {"quota_amount": -1.0}, "stg_plan__quotas", "quota_not_negative"),
        ("quotas", 2, {"month": D(2024, 2, 2)}, "stg_plan__quotas", "month_is_first_day"),
        ("region_targets", 0, {"target_amount": -5.0}, "stg_plan__region_targets", "target_not"),
        ("reps", 3, {"hire_date": D(2024, 3, 21)}, "stg_crm__reps", "hired_by_as_of"),
        ("accounts", 2, {"owner_rep_id": "r1"}, "stg_crm__accounts", "owner_in_account_region"),
        (
            "opportunities",
            2,
            {"close_date": D(2024, 3, 9)},
            "stg_crm__opportunities",
            "close_not_before_created",
        ),
        (
            "opportunities",
            1,
            {"forecast_category": "Commit"},
            "stg_crm__opportunities",
            "forecast_category_fits_stage",
        ),
        (
            "opportunities",
            0,
            {"stage": "Proposal"},
            "stg_crm__opportunities",
            "stage_is_last_history_stage",
        ),
        (
            "opportunity_stage_history",
            2,
            {"entered_date": D(2024, 1, 9)},
            "stg_crm__opportunity_stage_history",
            "entered_in_sequence_order",
        ),
    ],
)
def test_expression_rules_catch_violations(
    tmp_path: Path, table: str, index: int, changes: dict[str, Any], model: str, rule: str
) -> None:
    failures = _failures(tmp_path, _replace(table, index, **changes), layers=("staging",))
    result = _find(failures, model, "expression", rule)
    assert result.failing_rows == 1
    assert len(result.sample) == 1
    for column, value in changes.items():
        if column in result.sample.columns:
            shown = result.sample[column].iloc[0]
            shown = shown.date() if isinstance(shown, pd.Timestamp) else shown
            assert shown == value


def test_opportunity_without_history_is_caught(tmp_path: Path) -> None:
    history = [
        h for h in TWO_REGION_TABLES["opportunity_stage_history"] if h["opportunity_id"] != "o3"
    ]
    failures = _failures(tmp_path, {"opportunity_stage_history": history})
    assert (
        _find(failures, "stg_crm__opportunities", "expression", "has_stage_history").failing_rows
        == 1
    )
    mart = _find(failures, "fct_opportunities", "not_null", "is not null")
    assert mart.column == "current_stage_entered_date"


def test_one_query_per_layer_and_one_per_model_count_what_each_check_counts_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways of batching the checks give each check's own count (its query run alone)."""
    broken = {
        **_replace("order_lines", 0, amount=199.0, opportunity_id="o1"),
        **_replace("quotas", 2, quota_amount=-1.0, month=D(2024, 2, 2)),
        **_replace("opportunities", 1, forecast_category="Commit", stage="Proposal"),
        **_replace("accounts", 2, owner_rep_id="r1"),
    }
    with Warehouse(build_two_region_snapshot(tmp_path, broken), threads=1) as warehouse:
        checks = [
            check
            for layer in ALL_LAYERS
            for contract in load_contracts(layer)
            for check in compile_checks(warehouse, contract)
        ]
        alone = [
            int(warehouse.query(f"SELECT count(*) AS n FROM ({c.sql})", list(c.params))["n"][0])
            for c in checks
        ]
        one_query = [r.failing_rows for r in run_contracts(warehouse, ALL_LAYERS)]
        monkeypatch.setattr(contracts, "ONE_QUERY_ROWS", 0)  # as for a large snapshot
        per_model = [r.failing_rows for r in run_contracts(warehouse, ALL_LAYERS)]
    assert sum(alone) >= 6 and sum(1 for n in alone if n) >= 6
    assert one_query == alone
    assert per_model == alone


# -- reporting --------------------------------------------------------------------------------


def test_format_results_lists_checks_and_offending_rows(tmp_path: Path) -> None:
    failing = CheckResult(
        "stg_erp__order_lines",
        "expression",
        "amount",
        "amount_matches: amount = 1",
        7,
        pd.DataFrame({"order_id": ["ordX"], "amount": [3.5]}),
    )
    passing = CheckResult(
        "dim_regions", "unique", "region_id", "unique(region_id)", 0, pd.DataFrame()
    )
    text = format_results([passing, failing])
    lines = text.splitlines()
    assert lines[0] == "PASS dim_regions.region_id unique [unique(region_id)]: 0 failing row(s)"
    assert lines[1].startswith("FAIL stg_erp__order_lines.amount expression [amount_matches")
    assert lines[1].endswith(": 7 failing row(s)")
    assert "ordX" in lines[3] and "3.5" in lines[3]
    assert lines[-1] == "1 passed, 1 failed, 2 checks"
    hidden = format_results([passing, failing], show_passing=False)
    assert "PASS" not in hidden and "FAIL" in hidden


def test_assert_valid_names_model_column_rule_count_and_a_row(tmp_path: Path) -> None:
    snapshot = build_two_region_snapshot(tmp_path, _replace("order_lines", 0, amount=199.0))
    with Warehouse(snapshot, threads=1) as warehouse, pytest.raises(ContractError) as info:
        assert_valid(warehouse)
    message = str(info.value)
    assert len(message.splitlines()) <= 2
    first, second = message.splitlines()
    assert "stg_erp__order_lines.amount" in first
    assert "amount_is_quantity_x_price_x_1_minus_discount" in first
    assert "1 failing row(s)" in first
    assert "order_id=ord1" in second and "amount=199.0" in second and "2024-01-15" in second
