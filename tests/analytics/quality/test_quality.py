"""Data-quality checks on hand-made deals and issues (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from salesops_lib.analytics import quality
from salesops_lib.sources.importer.quarantine import ISSUE_COLUMNS

AS_OF = dt.date(2024, 6, 30)


def _deals() -> pd.DataFrame:
    d = pd.Timestamp
    return pd.DataFrame(
        {
            "opportunity_id": ["A", "B", "C", "D", "E"],
            "owner_rep_id": ["r1", "r1", "r2", "r2", "r2"],
            "region_id": ["east", "east", "west", "west", "west"],
            "account_id": ["acc1", "acc1", "acc2", "acc2", "acc3"],
            "product_id": ["p", "p", "p", "p", "p"],
            "stage": ["Prospecting", "Prospecting", "Closed Won", "Closed Won", "Negotiation"],
            "amount": [100.0, 100.0, 100.0, 100.0, 5000.0],
            # A, B: same account/product/amount 5 days apart -> duplicates; C, D 30 days apart.
            "created_date": [
                d("2024-01-01"),
                d("2024-01-06"),
                d("2024-01-01"),
                d("2024-01-31"),
                d("2024-06-01"),
            ],
            # A is open with a past close date; E closes in the future.
            "close_date": [
                d("2024-06-01"),
                d("2024-07-15"),
                d("2024-02-01"),
                d("2024-03-01"),
                d("2024-08-01"),
            ],
            "is_open": [True, True, False, False, True],
            "list_price": [100.0, 100.0, 100.0, 100.0, 400.0],
            # B's last stage change was 176 days before the as-of date -> stale (>90).
            "last_stage_date": [
                d("2024-06-01"),
                d("2024-01-06"),
                d("2024-02-01"),
                d("2024-03-01"),
                d("2024-06-01"),
            ],
        }
    )


def _issues() -> pd.DataFrame:
    rows = [
        [
            "missing_account",
            "quarantined",
            "deals.csv",
            7,
            "account",
            None,
            "X",
            "r1",
            "east",
            None,
        ],
        [
            "missing_close_date",
            "quarantined",
            "deals.csv",
            7,
            "close",
            None,
            "X",
            "r1",
            "east",
            None,
        ],
        ["product_alias", "corrected", "deals.csv", 2, "product", "P", "A", "r1", "east", None],
        ["unknown_stage", "quarantined", "deals.csv", 9, "stage", "Zz", "Y", "r2", "west", None],
    ]
    return pd.DataFrame(rows, columns=ISSUE_COLUMNS)


def test_deal_checks_flag_the_planted_deals() -> None:
    found = quality.deal_findings(_deals(), AS_OF)
    by_check = found.groupby("check")["record"].apply(sorted).to_dict()
    assert by_check == {
        "open_past_close": ["A"],
        "stale": ["B"],
        "duplicate": ["A", "B"],
        "extreme_amount": ["E"],  # 5000 > 10 x 400
    }


def test_inputs_are_not_changed() -> None:
    deals = _deals()
    before = deals.copy()
    quality.deal_findings(deals, AS_OF)
    pd.testing.assert_frame_equal(deals, before)


def test_scorecard_per_region_counts_records_and_score() -> None:
    deals, issues = _deals(), _issues()
    findings = pd.concat([quality.deal_findings(deals, AS_OF), quality.issue_findings(issues)])
    records = quality.deal_records(deals, issues)
    card = quality.scorecard(records, findings, "region_id").set_index("region_id")
    # east: deals A, B + quarantined row 7 = 3 records, all with a problem (A past close and
    # duplicate, B stale and duplicate, row 7 missing account); A's alias does not count.
    assert card.loc["east", "records"] == 3
    assert card.loc["east", "problem_records"] == 3
    assert card.loc["east", "missing_account"] == 1
    assert card.loc["east", "corrected"] == 1
    # west: C, D, E + quarantined row 9 = 4 records; E extreme, row 9 unmapped stage.
    assert card.loc["west", "records"] == 4
    assert card.loc["west", "unmapped"] == 1
    assert card.loc["west", "problem_records"] == 2
    assert card.loc["west", "score"] == 0.5


def test_to_fix_lists_items_per_owner_without_corrections() -> None:
    deals, issues = _deals(), _issues()
    findings = pd.concat([quality.deal_findings(deals, AS_OF), quality.issue_findings(issues)])
    items = quality.to_fix(findings, per_owner=2)
    assert set(items["check"]) <= set(quality.CHECKS) - {"corrected"}
    assert items.groupby("owner_rep_id").size().to_dict() == {"r1": 2, "r2": 2}


def test_imputed_amounts_are_not_duplicates_or_extreme() -> None:
    issues = pd.DataFrame(
        [
            ["missing_amount", "imputed", "d.csv", 2, "amount", None, "A", "r1", "east", None],
            ["missing_amount", "imputed", "d.csv", 6, "amount", None, "E", "r2", "west", None],
        ],
        columns=ISSUE_COLUMNS,
    )
    deals = quality.mark_imputed_amounts(_deals(), issues)
    assert deals["amount_is_imputed"].tolist() == [True, False, False, False, True]
    found = quality.deal_findings(deals, AS_OF)
    assert set(found.loc[found["check"] == "duplicate", "record"]) == set()  # A was B's twin
    assert set(found.loc[found["check"] == "extreme_amount", "record"]) == set()


def _findings_and_records() -> tuple[pd.DataFrame, pd.DataFrame]:
    deals, issues = _deals(), _issues()
    findings = pd.concat([quality.deal_findings(deals, AS_OF), quality.issue_findings(issues)])
    return quality.deal_records(deals, issues), findings


def test_snapshot_findings_is_deal_and_issue_findings_together() -> None:
    records, findings = quality.snapshot_findings(_deals(), _issues(), AS_OF)
    assert sorted(records["record"]) == [
        "A",
        "B",
        "C",
        "D",
        "E",
        "row deals.csv:7",
        "row deals.csv:9",
    ]
    # 5 deal findings (A twice, B twice, E) + 4 issues (none ignored).
    assert len(findings) == 9
    assert findings.groupby("check").size().to_dict() == {
        "corrected": 1,
        "duplicate": 2,
        "extreme_amount": 1,
        "missing_account": 1,
        "missing_close_date": 1,
        "open_past_close": 1,
        "stale": 1,
        "unmapped": 1,
    }


def test_scope_scorecards_hold_each_region_alone() -> None:
    records, findings = _findings_and_records()
    card = quality.scope_scorecards(records, findings, _issues(), ["all", "east", "west"])
    company = card[card["grain"] == "company"].set_index("scope")
    # Worked out in test_scorecard_per_region_counts_records_and_score: east 3/3, west 2/4.
    assert company.loc["all", ["records", "problem_records"]].tolist() == [7, 5]
    assert company.loc["east", ["records", "problem_records"]].tolist() == [3, 3]
    assert company.loc["west", "score"] == 0.5
    assert company.loc["all", "score"] == 1 - 5 / 7
    # Quarantined source rows: east row 7 (two issues, one row), west row 9.
    assert company["quarantined_rows"].to_dict() == {"all": 2, "east": 1, "west": 1}
    east = card[card["scope"] == "east"]
    assert set(east.loc[east["grain"] == "region", "group_id"]) == {"east"}
    assert set(east.loc[east["grain"] == "owner", "group_id"]) == {"r1"}
    owners = card[(card["scope"] == "all") & (card["grain"] == "owner")].set_index("group_id")
    assert owners["records"].to_dict() == {"r1": 3, "r2": 4}


def test_scope_scorecards_give_an_empty_region_a_company_row() -> None:
    records, findings = _findings_and_records()
    card = quality.scope_scorecards(records, findings, _issues(), ["north"])
    assert card["grain"].tolist() == ["company"]
    row = card.iloc[0]
    assert (row["records"], row["problem_records"], row["quarantined_rows"]) == (0, 0, 0)
    assert pd.isna(row["score"])


def test_scope_trend_rows_score_each_scope() -> None:
    records, findings = _findings_and_records()
    trend = quality.scope_trend_rows("2024-06-30", records, findings, ["all", "east", "north"])
    assert trend["scope"].tolist() == ["all", "east", "north"]
    assert trend["records"].tolist() == [7, 3, 0]
    assert trend["problem_records"].tolist() == [5, 3, 0]
    assert trend["score"].iloc[1] == 0.0 and pd.isna(trend["score"].iloc[2])


def test_scope_fix_items_number_each_owners_items() -> None:
    _, findings = _findings_and_records()
    items = quality.scope_fix_items(findings, ["all", "west"], per_owner=2)
    west = items[items["scope"] == "west"]
    assert set(west["owner_rep_id"]) == {"r2"}
    # r2's open items in report order (CHECKS): unmapped (row 9) before extreme_amount (E).
    assert west[["position", "check", "record"]].values.tolist() == [
        [1, "unmapped", "row deals.csv:9"],
        [2, "extreme_amount", "E"],
    ]
    assert "corrected" not in set(items["check"])


def test_scope_import_rules_count_issues_per_scope() -> None:
    rules = quality.scope_import_rules(_issues(), ["all", "east"])
    east = rules[rules["scope"] == "east"]
    assert east[["action", "rule", "issues"]].values.tolist() == [
        ["corrected", "product_alias", 1],
        ["quarantined", "missing_account", 1],
        ["quarantined", "missing_close_date", 1],
    ]
    assert rules.loc[rules["scope"] == "all", "issues"].sum() == 4
