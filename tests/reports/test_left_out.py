"""The one line every report shows: what the region's data left out (hand-made issue lists)."""

from __future__ import annotations

import pandas as pd

from salesops_lib.reports.left_out import left_out_sentence, summarize_left_out
from salesops_lib.sources.importer.quarantine import ISSUE_COLUMNS


def _issues() -> pd.DataFrame:
    rows = [
        # a row with two quarantine rules counts once, with its amount once
        ["missing_account", "quarantined", "d.csv", 7, "account", None, "X", "r1", "east", 250.0],
        ["negative_amount", "quarantined", "d.csv", 7, "amount", "-1", "X", "r1", "east", 250.0],
        ["missing_owner", "quarantined", "d.csv", 8, "owner", None, "Y", None, "east", 100.5],
        ["unknown_stage", "quarantined", "d.csv", 9, "stage", "Zz", "Z", "r2", "west", 40.0],
        ["missing_region", "quarantined", "d.csv", 11, "region", None, "W", None, None, 9.0],
        ["missing_amount", "imputed", "d.csv", 3, "amount", None, "A", "r1", "east", None],
        ["missing_close_date", "imputed", "d.csv", 3, "close", None, "A", "r1", "east", None],
        ["product_alias", "corrected", "d.csv", 2, "product", "P", "B", "r1", "east", 10.0],
    ]
    return pd.DataFrame(rows, columns=ISSUE_COLUMNS)


def test_a_region_counts_its_own_rows_and_money() -> None:
    imputed = pd.Series({"A": 1200.0, "B": 10.0})
    left = summarize_left_out(_issues(), "east", imputed)
    assert left.quarantined_rows == 2  # rows 7 and 8
    assert left.quarantined_amount == 350.5  # 250 + 100.5
    assert left.quarantined_rules == (
        ("missing_account", 1),
        ("missing_owner", 1),
        ("negative_amount", 1),
    )
    assert (left.imputed_rows, left.imputed_amount, left.corrected_rows) == (1, 1200.0, 1)
    assert left.unattributed_rows == 1  # row 11 names no region


def test_the_company_counts_every_row() -> None:
    left = summarize_left_out(_issues(), "all", None)
    assert (left.quarantined_rows, left.quarantined_amount) == (4, 399.5)
    assert left.unattributed_rows == 0


def test_the_sentence_names_rows_money_and_rules() -> None:
    left = summarize_left_out(_issues(), "west", None)
    sentence = left_out_sentence(left, imported=True)
    assert sentence.startswith("Left out or changed by the import: 1 source row quarantined ($40")
    assert "unknown_stage 1" in sentence and "1 quarantined row names no region" in sentence


def test_a_clean_region_and_a_demo_snapshot_say_nothing_was_left_out() -> None:
    issues = _issues()
    clean = summarize_left_out(issues[issues["region_id"] == "east"], "west", None)
    assert left_out_sentence(clean, imported=True).startswith("Nothing left out")
    assert "not imported" in left_out_sentence(clean, imported=False)
