"""Segment migration between two hand-made snapshots of seven customers.

before: K1 Champions 1000, K2 Champions 800, K3 Loyal 500, K4 Potential 100, K5 New 50, K6 Lost 10
after:  K1 At risk 1000, K2 Can't lose 900, K3 Hibernating 520, K4 Potential 150, K6 Lost 10,
        K7 New 70 (new customer); K5 is gone.

Valuable customers: with six customers before, the value ranks 1..6 (K6, K5, K4, K3, K2, K1) cut
at 1, 2, 3, 4, 5, 6 give quintile 5 to rank 6 only, so K1 is the only valuable customer. K2 also
moves into a risk segment but is not in the top quintile, so only K1 is on the watch list.
"""

from __future__ import annotations

import pandas as pd
import pytest

from salesops_lib.analytics.segmentation.migration import GONE, NEW_CUSTOMER, segment_migration
from salesops_lib.analytics.segmentation.rfm import SEGMENT_ORDER
from salesops_lib.core.errors import ParameterError

BEFORE = pd.DataFrame(
    {
        "account_id": ["K1", "K2", "K3", "K4", "K5", "K6"],
        "segment": ["Champions", "Champions", "Loyal", "Potential", "New", "Lost"],
        "monetary": [1000.0, 800.0, 500.0, 100.0, 50.0, 10.0],
    }
)
AFTER = pd.DataFrame(
    {
        "account_id": ["K7", "K6", "K4", "K3", "K2", "K1"],
        "segment": ["New", "Lost", "Potential", "Hibernating", "Can't lose", "At risk"],
        "monetary": [70.0, 10.0, 150.0, 520.0, 900.0, 1000.0],
    }
)

EXPECTED_CELLS = {
    # (before, after): (customers, revenue)
    ("Champions", "At risk"): (1, 1000.0),
    ("Champions", "Can't lose"): (1, 800.0),  # the earlier value moves
    ("Loyal", "Hibernating"): (1, 500.0),
    ("Potential", "Potential"): (1, 100.0),
    ("New", GONE): (1, 50.0),
    ("Lost", "Lost"): (1, 10.0),
    (NEW_CUSTOMER, "New"): (1, 70.0),  # new customers carry their later value
}


def test_transition_matrices_in_counts_and_revenue() -> None:
    result = segment_migration(BEFORE, AFTER)
    assert result.counts.index.tolist() == [*SEGMENT_ORDER, NEW_CUSTOMER]
    assert result.counts.columns.tolist() == [*SEGMENT_ORDER, GONE]
    assert result.revenue.shape == (9, 9)
    for (old, new), (customers, revenue) in EXPECTED_CELLS.items():
        assert result.counts.loc[old, new] == customers, (old, new)
        assert result.revenue.loc[old, new] == revenue, (old, new)
    # Nothing else: totals equal the expected cells.
    assert result.counts.to_numpy().sum() == 7
    assert result.revenue.to_numpy().sum() == sum(v for _, v in EXPECTED_CELLS.values())


def test_valuable_customers_moving_into_risk_segments() -> None:
    watch = segment_migration(BEFORE, AFTER).valuable_at_risk
    assert watch.to_dict("records") == [
        {
            "account_id": "K1",
            "segment_before": "Champions",
            "segment_after": "At risk",
            "value_before": 1000.0,
            "value_after": 1000.0,
        }
    ]


def test_valuable_customer_staying_in_a_risk_segment_is_not_listed() -> None:
    before = BEFORE.assign(segment=["At risk", *BEFORE["segment"][1:]])
    watch = segment_migration(before, AFTER).valuable_at_risk
    assert watch.empty


def test_other_labels_such_as_abc_classes() -> None:
    before = pd.DataFrame(
        {"product_id": ["p", "q", "r"], "abc_class": ["A", "B", "C"], "amount": [5.0, 3.0, 1.0]}
    )
    after = pd.DataFrame({"product_id": ["p", "q"], "abc_class": ["B", "B"], "amount": [4.0, 4.0]})
    result = segment_migration(before, after, key="product_id", segment="abc_class", value="amount")
    assert result.counts.index.tolist() == ["A", "B", "C", NEW_CUSTOMER]
    assert result.counts.columns.tolist() == ["B", GONE]
    assert result.counts.to_numpy().tolist() == [[1, 0], [1, 0], [0, 1], [0, 0]]
    assert result.revenue.loc["A", "B"] == 5.0
    assert result.valuable_at_risk.empty  # no RFM risk segments among these labels


def test_inputs_are_not_changed() -> None:
    before, after = BEFORE.copy(), AFTER.copy()
    segment_migration(before, after)
    pd.testing.assert_frame_equal(before, BEFORE)
    pd.testing.assert_frame_equal(after, AFTER)


def test_bad_snapshots_are_rejected() -> None:
    with pytest.raises(ParameterError, match="after has no column 'monetary'"):
        segment_migration(BEFORE, AFTER.drop(columns="monetary"))
    duplicated = pd.concat([BEFORE, BEFORE.iloc[:1]])
    with pytest.raises(ParameterError, match=r"before\.account_id is not unique \(e\.g\. 'K1'\)"):
        segment_migration(duplicated, AFTER)
