"""Segmentation on hand-made tables: action lists, migrations, parameters, CLV fallbacks, words."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.segmentation.actions import action_lists, grow_list, save_list
from salesops_lib.analytics.segmentation.clv import fit_clv
from salesops_lib.analytics.segmentation.migration import biggest_moves, segment_migration
from salesops_lib.analytics.segmentation.scope import segment_scope
from salesops_lib.core.errors import ParameterError
from salesops_lib.reports import segmentation
from salesops_lib.reports.base import ReportContext
from salesops_lib.reports.segmentation import summary


def _customers() -> pd.DataFrame:
    """Six customers of two reps; the worked lists are in the tests below."""
    rows = [
        # account, name, rep id, rep name, segment, m_score, last_12m, prior_12m
        ("A1", "Smith & Sons <Holdings>", "R1", "Ann", "At risk", 5, 100.0, 900.0),
        ("A2", "Beta", "R1", "Ann", "Hibernating", 4, 700.0, 50.0),
        ("A3", "Gamma", "R1", "Ann", "Lost", 5, 0.0, 5000.0),  # Lost: not on the Save list
        ("A4", "Delta", "R2", "Bob", "Can't lose", 3, 0.0, 800.0),  # m 3: not high-value
        ("A5", "Epsilon", "R2", "Bob", "Champions", 5, 600.0, 100.0),  # Grow: +500
        ("A6", "<script>alert(1)</script> Corp", "R1", "Ann", "New", 1, 300.0, 0.0),  # +300
        ("A7", "Eta", "R1", "Ann", "Loyal", 4, 200.0, 250.0),  # shrinking: not Grow
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "account_id", "account_name", "owner_rep_id", "rep_name", "segment", "m_score",
            "last_12m", "prior_12m",
        ],
    )  # fmt: skip
    return frame.assign(
        cluster_name="C1: x", recency_days=1, frequency=2, clv=np.nan, probability_alive=np.nan
    )


def test_save_list_holds_high_value_customers_in_risk_segments() -> None:
    save = save_list(_customers())
    # A1 at stake max(100, 900) = 900, A2 max(700, 50) = 700.
    assert list(save["account_id"]) == ["A1", "A2"]
    assert list(save["revenue_at_stake"]) == [900.0, 700.0]


def test_grow_list_holds_active_customers_with_rising_revenue() -> None:
    grow = grow_list(_customers())
    assert list(grow["account_id"]) == ["A5", "A6"]
    assert list(grow["revenue_change"]) == [500.0, 300.0]


def test_action_lists_keep_the_top_per_rep_and_list() -> None:
    customers = _customers()
    save, grow = save_list(customers), grow_list(customers)
    actions = action_lists(save, grow, per_rep=1)
    got = list(zip(actions["rep_name"], actions["action"], actions["account_id"], strict=True))
    assert got == [("Ann", "Save", "A1"), ("Ann", "Grow", "A6"), ("Bob", "Grow", "A5")]
    assert list(actions["key_number"]) == [900.0, 300.0, 500.0]


def test_biggest_migrations_rank_moves_by_revenue() -> None:
    before = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d", "e"],
            "segment": ["Loyal", "Loyal", "Champions", "Champions", "New"],
            "monetary": [100.0, 50.0, 500.0, 10.0, 5.0],
        }
    )
    after = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d", "f"],
            "segment": ["At risk", "At risk", "Champions", "Loyal", "New"],
            "monetary": [100.0, 50.0, 600.0, 12.0, 7.0],
        }
    )
    moves = biggest_moves(segment_migration(before, after), count=5)
    # Loyal -> At risk: a + b = 150 (2 customers); Champions -> Loyal: d = 10. c stayed;
    # e left (Gone) and f is new: neither counts as a move between segments.
    assert moves.to_dict("records") == [
        {"segment_before": "Loyal", "segment_after": "At risk", "customers": 2, "revenue": 150.0},
        {"segment_before": "Champions", "segment_after": "Loyal", "customers": 1, "revenue": 10.0},
    ]
    sentence = summary.migration_sentence(segment_migration(before, after), dt.date(2025, 1, 6))
    assert sentence == (
        "Since 06 Jan 2025 the biggest moves were Loyal to At risk (2 customers, $150) and "
        "Champions to Loyal (1 customer, $10)."
    )


def test_migration_sentence_without_an_earlier_snapshot() -> None:
    assert "no earlier snapshot" in summary.migration_sentence(None, None)


def _fake_snapshots(folder: Path, dates: list[str]) -> Path:
    for day in dates:
        (folder / day).mkdir(parents=True)
        (folder / day / "_manifest.json").write_text("{}")
    return folder


def test_compare_to_defaults_to_the_previous_snapshot(tmp_path: Path) -> None:
    folder = _fake_snapshots(tmp_path, ["2025-01-06", "2025-01-13", "2025-01-20"])
    as_of = dt.date(2025, 1, 20)
    assert segmentation.resolve_compare_to(folder, as_of, "") == dt.date(2025, 1, 13)
    assert segmentation.resolve_compare_to(folder, as_of, "2025-01-06") == dt.date(2025, 1, 6)
    assert segmentation.resolve_compare_to(folder, dt.date(2025, 1, 6), "") is None
    with pytest.raises(ParameterError, match="no snapshot of that date before 2025-01-20"):
        segmentation.resolve_compare_to(folder, as_of, "2025-01-20")
    with pytest.raises(ParameterError, match="not a date"):
        segmentation.resolve_compare_to(folder, as_of, "last week")


@pytest.mark.parametrize("bad", [1, -1, 13, 2.0, True])
def test_bad_n_clusters_is_refused(bad: object) -> None:
    with pytest.raises(ParameterError, match="n_clusters"):
        segmentation.check_n_clusters(bad)  # type: ignore[arg-type]


def test_clv_falls_back_on_a_small_order_book() -> None:
    book = pd.DataFrame(
        {
            "account_id": ["a", "a", "b"],
            "order_date": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]),
            "amount": [10.0, 20.0, 30.0],
        }
    )
    outcome = fit_clv(book, dt.date(2025, 6, 30))
    assert outcome.table is None and outcome.bgnbd is None
    assert outcome.note.startswith("Only 2 customer(s), 1 with repeat purchases")
    assert summary.clv_sentence(outcome) == outcome.note


def test_segment_sentence_names_the_top_segments_by_revenue() -> None:
    segments = pd.DataFrame(
        {
            "segment": ["Champions", "Loyal", "Lost", "New"],
            "customers": [2, 3, 5, 0],
            "customer_share": [0.2, 0.3, 0.5, 0.0],
            "revenue": [600.0, 300.0, 100.0, 0.0],
            "revenue_share": [0.6, 0.3, 0.1, 0.0],
        }
    )
    text = summary.segment_sentence(segments, "UK & Ireland", dt.date(2025, 1, 6))
    assert text == (
        "UK & Ireland has 10 customers with orders up to 06 Jan 2025; by revenue, Champions "
        "(2 customers, 20%) hold 60%; Loyal (3 customers, 30%) hold 30%; Lost (5 customers, "
        "50%) hold 10%."
    )


def test_a_region_without_orders_gives_a_report_that_says_so() -> None:
    empty = pd.DataFrame(
        {
            "account_id": pd.Series([], dtype=object),
            "order_id": pd.Series([], dtype=object),
            "order_date": pd.Series([], dtype="datetime64[ns]"),
            "amount": pd.Series([], dtype=float),
            "discount": pd.Series([], dtype=float),
            "product_id": pd.Series([], dtype=object),
            "product_family": pd.Series([], dtype=object),
        }
    )
    context = ReportContext(
        region="r1",
        region_name="Empty <Region>",
        as_of=dt.date(2025, 1, 6),
        snapshot_id="2025-01-06",
        snapshot_checksum="x",
        region_ids=("r1",),
    )
    result = segment_scope("r1", empty, context.as_of)
    report = segmentation.report_from_result(
        context,
        result,
        pd.DataFrame(columns=["account_id", "account_name", "owner_rep_id"]),
        pd.DataFrame(columns=["rep_id", "rep_name"]),
    )
    sentences = segmentation.summary_sentences(report)
    assert sentences[0] == "Empty <Region> has no customers with orders up to 06 Jan 2025."
    assert sentences[3] == "No orders, so no lifetime value."
    assert "no earlier snapshot" in sentences[4]
    markup = segmentation.executive_summary(report)._repr_html_()
    assert "Empty &lt;Region&gt;" in markup and "<Region>" not in markup
    assert segmentation.headline_numbers(report)["customers"] == 0
