"""RFM values, quintile scores and segments on a hand-made order book of ten customers.

Order book as of 2024-12-31 (amounts in brackets; 2024 is a leap year):

=====  =========================================================  =======  =====  ========
cust   orders                                                     recency  freq   monetary
=====  =========================================================  =======  =====  ========
C01    12-31, 12-01, 11-01, 10-01, 09-01 (500 each)                     0      5      2500
C02    12-29, 11-29, 10-29, 09-29 (300 each)                            2      4      1200
C03    12-21 (100) + 12-21 (100) same day, 06-01 (100)                 10      2       300
C04    12-11 (1000); 2025-01-05 (9999) after as_of, ignored            20      1      1000
C05    11-01, 10-01, 09-01 (200 each)                                  60      3       600
C06    07-04, 06-04, 05-04, 04-04 (50 each)                           180      4       200
C07    07-04 (80)                                                     180      1        80
C08    07-04 (40), 03-01 (40)                                         180      2        80
C09    2024-01-01, 2023-06-01, 2023-01-01, 2022-06-01, 2022-01-01     365      5        50
       (10 each)
C10    2023-12-31 (5)                                                 366      1         5
=====  =========================================================  =======  =====  ========

With ten customers the ranks 1..10 fall into quintiles (1,2)->1, (3,4)->2, (5,6)->3, (7,8)->4,
(9,10)->5. Ranks ascend with "goodness"; ties go to the smaller id first (lower rank):

* recency (worst first): C10, C09, C06, C07, C08 (180-day tie: C06 < C07 < C08), C05, C04, C03,
  C02, C01 -> r = C10 1, C09 1, C06 2, C07 2, C08 3, C05 3, C04 4, C03 4, C02 5, C01 5. The tie
  straddles the 2|3 edge: C07 and C08 have equal recency but r 2 and 3.
* frequency: 1 = C04, C07, C10; 2 = C03, C08; 3 = C05; 4 = C02, C06; 5 = C01, C09
  -> f = C04 1, C07 1, C10 2, C03 2, C08 3, C05 3, C02 4, C06 4, C01 5, C09 5.
* monetary: C10, C09, C07, C08 (80 tie), C06, C03, C05, C04, C02, C01
  -> m = C10 1, C09 1, C07 2, C08 2, C06 3, C03 3, C05 4, C04 4, C02 5, C01 5.

Segments by (r, f) from the rules: C01 (5,5) and C02 (5,4) Champions, C03 (4,2) Potential,
C04 (4,1) New, C05 (3,3) and C08 (3,3) Loyal, C06 (2,4) At risk, C07 (2,1) Hibernating,
C09 (1,5) Can't lose, C10 (1,2) Lost.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.segmentation.rfm import (
    RFM_SEGMENT_RULES,
    assign_segments,
    quintile_scores,
    rfm_table,
    segment_summary,
)
from salesops_lib.core.errors import ParameterError

AS_OF = "2024-12-31"

ORDER_ROWS = [
    *[("C01", f"2024-{md}", 500.0) for md in ["12-31", "12-01", "11-01", "10-01", "09-01"]],
    *[("C02", d, 300.0) for d in ["2024-12-29", "2024-11-29", "2024-10-29", "2024-09-29"]],
    ("C03", "2024-12-21", 100.0),
    ("C03", "2024-12-21", 100.0),
    ("C03", "2024-06-01", 100.0),
    ("C04", "2024-12-11", 1000.0),
    ("C04", "2025-01-05", 9999.0),
    *[("C05", d, 200.0) for d in ["2024-11-01", "2024-10-01", "2024-09-01"]],
    *[("C06", d, 50.0) for d in ["2024-07-04", "2024-06-04", "2024-05-04", "2024-04-04"]],
    ("C07", "2024-07-04", 80.0),
    ("C08", "2024-07-04", 40.0),
    ("C08", "2024-03-01", 40.0),
    *[("C09", d, 10.0) for d in ["2024-01-01", "2023-06-01", "2023-01-01", "2022-06-01"]],
    ("C09", "2022-01-01", 10.0),
    ("C10", "2023-12-31", 5.0),
]  # fmt: skip

EXPECTED = pd.DataFrame(
    [
        # id,  recency, freq, monetary, r, f, m, segment
        ("C01", 0, 5, 2500.0, 5, 5, 5, "Champions"),
        ("C02", 2, 4, 1200.0, 5, 4, 5, "Champions"),
        ("C03", 10, 2, 300.0, 4, 2, 3, "Potential"),
        ("C04", 20, 1, 1000.0, 4, 1, 4, "New"),
        ("C05", 60, 3, 600.0, 3, 3, 4, "Loyal"),
        ("C06", 180, 4, 200.0, 2, 4, 3, "At risk"),
        ("C07", 180, 1, 80.0, 2, 1, 2, "Hibernating"),
        ("C08", 180, 2, 80.0, 3, 3, 2, "Loyal"),
        ("C09", 365, 5, 50.0, 1, 5, 1, "Can't lose"),
        ("C10", 366, 1, 5.0, 1, 2, 1, "Lost"),
    ],
    columns=[
        "account_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
        "segment",
    ],
)  # fmt: skip


def order_book(rows: list[tuple[str, str, float]] = ORDER_ROWS) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["account_id", "order_date", "amount"])
    # Shuffle deterministically so the result cannot depend on input order.
    frame = frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    return frame.assign(order_date=pd.to_datetime(frame["order_date"]))


def test_rfm_values_scores_and_segments_match_hand_computation() -> None:
    table = rfm_table(order_book(), AS_OF)
    pd.testing.assert_frame_equal(table[EXPECTED.columns].reset_index(drop=True), EXPECTED)
    assert table["rfm_code"].tolist()[:3] == ["555", "545", "423"]
    c04 = table.set_index("account_id").loc["C04"]
    assert c04["last_order_date"] == pd.Timestamp("2024-12-11")  # the 2025 order is ignored
    assert table.set_index("account_id").loc["C09", "first_order_date"] == pd.Timestamp(
        "2022-01-01"
    )


def test_frequency_counts_orders_when_order_id_given() -> None:
    # C03: two orders on 2024-12-21 -> 3 orders (not 2 dates); C01: two lines of one order -> 1.
    rows = pd.DataFrame(
        [
            ("C01", "o1", "2024-12-01", 10.0),
            ("C01", "o1", "2024-12-01", 5.0),
            ("C03", "o2", "2024-12-21", 100.0),
            ("C03", "o3", "2024-12-21", 100.0),
            ("C03", "o4", "2024-06-01", 100.0),
        ],
        columns=["account_id", "order_id", "order_date", "amount"],
    )
    rows["order_date"] = pd.to_datetime(rows["order_date"])
    table = rfm_table(rows, AS_OF).set_index("account_id")
    assert table.loc["C01", "frequency"] == 1
    assert table.loc["C01", "monetary"] == 15.0
    assert table.loc["C03", "frequency"] == 3


def test_rfm_table_does_not_change_its_input() -> None:
    orders = order_book()
    copy = orders.copy(deep=True)
    rfm_table(orders, AS_OF)
    pd.testing.assert_frame_equal(orders, copy)


def test_times_of_day_count_as_the_same_day() -> None:
    rows = [
        ("A", "2024-12-30 23:59", 1.0),
        ("A", "2024-12-30 08:00", 1.0),
        ("B", "2024-12-31 10:00", 1.0),
    ]
    frame = pd.DataFrame(rows, columns=["account_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    table = rfm_table(frame, AS_OF).set_index("account_id")
    assert table.loc["A", ["recency_days", "frequency"]].tolist() == [1, 1]
    assert table.loc["B", "recency_days"] == 0  # an order during the as-of day counts


def test_quintile_scores_small_counts() -> None:
    keys = pd.Series(["a", "b", "c"])
    # Ranks 1..3 cut at 1, 1.4, 1.8, 2.2, 2.6, 3 -> scores 1, 3, 5.
    assert quintile_scores(pd.Series([30.0, 10.0, 20.0]), keys).tolist() == [5, 1, 3]
    # A three-way tie is broken by key: a < b < c.
    assert quintile_scores(pd.Series([7.0, 7.0, 7.0]), keys).tolist() == [1, 3, 5]
    assert quintile_scores(pd.Series([7.0]), pd.Series(["a"])).tolist() == [3]
    assert quintile_scores(pd.Series([1.0, 2.0]), pd.Series(["a", "b"])).tolist() == [1, 5]


def test_every_score_triple_matches_exactly_one_rule() -> None:
    rules = RFM_SEGMENT_RULES
    for r, f, m in itertools.product(range(1, 6), repeat=3):
        matching = rules[
            rules["r_min"].le(r) & rules["r_max"].ge(r)
            & rules["f_min"].le(f) & rules["f_max"].ge(f)
            & rules["m_min"].le(m) & rules["m_max"].ge(m)
        ]  # fmt: skip
        assert len(matching) == 1, f"(r, f, m) = {(r, f, m)} matches {matching['segment'].tolist()}"


def test_rules_give_the_documented_grid() -> None:
    # Rows r = 5..1, columns f = 1..5, as drawn in the RFM_SEGMENT_RULES docstring.
    grid = [
        ["New", "Potential", "Potential", "Champions", "Champions"],
        ["New", "Potential", "Potential", "Champions", "Champions"],
        ["Hibernating", "Hibernating", "Loyal", "Loyal", "Loyal"],
        ["Hibernating", "Hibernating", "At risk", "At risk", "At risk"],
        ["Lost", "Lost", "Lost", "Can't lose", "Can't lose"],
    ]
    cells = [(r, f) for r in range(5, 0, -1) for f in range(1, 6)]
    r = pd.Series([c[0] for c in cells])
    f = pd.Series([c[1] for c in cells])
    for m in range(1, 6):
        segments = assign_segments(r, f, pd.Series([m] * len(cells))).tolist()
        assert segments == [name for row in grid for name in row]


def test_rules_table_is_complete_and_readable() -> None:
    assert RFM_SEGMENT_RULES["segment"].tolist() == [
        "Champions", "Loyal", "Potential", "New", "At risk", "Can't lose", "Hibernating", "Lost",
    ]  # fmt: skip
    assert RFM_SEGMENT_RULES["description"].str.len().gt(0).all()
    assert RFM_SEGMENT_RULES["suggested_action"].str.len().gt(0).all()


def test_first_matching_rule_wins_and_unmatched_scores_fail() -> None:
    overlapping = pd.DataFrame(
        [("Top", 5, 5, 1, 5, 1, 5), ("Anyone", 1, 5, 1, 5, 1, 5)],
        columns=["segment", "r_min", "r_max", "f_min", "f_max", "m_min", "m_max"],
    )
    r, f, m = pd.Series([5, 4]), pd.Series([1, 1]), pd.Series([1, 1])
    assert assign_segments(r, f, m, overlapping).tolist() == ["Top", "Anyone"]
    with pytest.raises(ParameterError, match=r"\(r, f, m\) = \(4, 1, 1\)"):
        assign_segments(r, f, m, overlapping.iloc[:1])


def test_segment_summary_counts_and_shares() -> None:
    summary = segment_summary(rfm_table(order_book(), AS_OF)).set_index("segment")
    assert summary.index.tolist() == RFM_SEGMENT_RULES["segment"].tolist()
    total = 2500 + 1200 + 300 + 1000 + 600 + 200 + 80 + 80 + 50 + 5  # 6015
    assert summary.loc["Champions", "customers"] == 2
    assert summary.loc["Champions", "revenue"] == 3700.0
    assert summary.loc["Champions", "revenue_share"] == pytest.approx(3700 / total)
    assert summary.loc["Hibernating", "revenue"] == 80.0
    assert summary.loc["Loyal", "revenue"] == 680.0
    assert summary.loc["Lost", "customer_share"] == pytest.approx(0.1)
    assert summary["customers"].sum() == 10
    assert summary["revenue_share"].sum() == pytest.approx(1.0)


def test_segment_summary_keeps_empty_segments() -> None:
    rfm = pd.DataFrame({"segment": ["Champions", "Champions"], "monetary": [10.0, 30.0]})
    summary = segment_summary(rfm).set_index("segment")
    assert summary.loc["Lost", "customers"] == 0
    assert summary.loc["Lost", "revenue"] == 0.0
    assert summary.loc["Champions", "revenue_share"] == 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="amount"), r"no column 'amount'"),
        (lambda f: f.assign(amount=f["amount"].astype(str)), r"orders\.amount has dtype object"),
        (lambda f: f.assign(amount=np.where(f.index == 3, np.nan, f["amount"])),
         r"orders\.amount has 1 missing value\(s\) \(first at index 3\)"),
        (lambda f: f.assign(order_date=f["order_date"].dt.date), r"orders\.order_date has dtype object.*pd\.to_datetime"),  # noqa: E501
        (lambda f: f.assign(order_date=f["order_date"].where(f.index != 2)),
         r"orders\.order_date has 1 missing value\(s\) \(first at index 2\)"),
    ],
)  # fmt: skip
def test_bad_order_books_are_rejected_with_the_column_named(
    change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        rfm_table(change(order_book()), AS_OF)


def test_bad_as_of_is_rejected() -> None:
    with pytest.raises(ParameterError, match="as_of 'yesterday' is not a date"):
        rfm_table(order_book(), "yesterday")
