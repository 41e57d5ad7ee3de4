"""Data-quality checks on hand-made deals and issues (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from salesops_lib.reports import quality
from salesops_lib.sources.importer.quarantine import ISSUE_COLUMNS
from tests.conftest import Workspace

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
        ["missing_account", "quarantined", "deals.csv", 7, "account", None, "X", "r1", "east"],
        ["missing_close_date", "quarantined", "deals.csv", 7, "close", None, "X", "r1", "east"],
        ["product_alias", "corrected", "deals.csv", 2, "product", "P", "A", "r1", "east"],
        ["unknown_stage", "quarantined", "deals.csv", 9, "stage", "Zz", "Y", "r2", "west"],
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


def test_trend_has_one_score_per_snapshot(tiny_workspace: Workspace) -> None:
    import pyarrow.parquet as pq

    from salesops_lib.data.snapshot import list_snapshots, open_snapshot

    dates = list_snapshots(tiny_workspace.snapshots)
    scores = [
        quality.snapshot_score(open_snapshot(tiny_workspace.snapshots, d), "all") for d in dates
    ]
    assert [s["snapshot"] for s in scores] == [d.isoformat() for d in dates]
    for date, score in zip(dates, scores, strict=True):
        path = tiny_workspace.snapshots / date.isoformat() / "opportunities.parquet"
        assert score["records"] == pq.read_metadata(path).num_rows  # demo: nothing quarantined
        assert 0.0 <= score["score"] <= 1.0


def test_imputed_amounts_are_not_duplicates_or_extreme() -> None:
    issues = pd.DataFrame(
        [
            ["missing_amount", "imputed", "d.csv", 2, "amount", None, "A", "r1", "east"],
            ["missing_amount", "imputed", "d.csv", 6, "amount", None, "E", "r2", "west"],
        ],
        columns=ISSUE_COLUMNS,
    )
    deals = quality.mark_imputed_amounts(_deals(), issues)
    assert deals["amount_is_imputed"].tolist() == [True, False, False, False, True]
    found = quality.deal_findings(deals, AS_OF)
    assert set(found.loc[found["check"] == "duplicate", "record"]) == set()  # A was B's twin
    assert set(found.loc[found["check"] == "extreme_amount", "record"]) == set()
