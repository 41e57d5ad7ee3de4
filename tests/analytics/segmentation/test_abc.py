"""ABC classes and the concentration curve on a hand-made frame with boundary cases.

Values per product (total 100): P-A 50 (two lines 20 + 30), P-B 30, P-C 10, P-D 5, P-E 5.
Ranked: P-A, P-B, P-C, P-D, P-E (P-D before P-E: equal values, key order).

=====  =====  ==========  =================  ======
item   share  cumulative  share before item  class
=====  =====  ==========  =================  ======
P-A    0.50   0.50        0.00               A
P-B    0.30   0.80        0.50               A  (crosses 0.8: still A)
P-C    0.10   0.90        0.80               B  (exactly 0.8 before: not < 0.8)
P-D    0.05   0.95        0.90               B
P-E    0.05   1.00        0.95               C  (exactly 0.95 before: not < 0.95)
=====  =====  ==========  =================  ======
"""

from __future__ import annotations

import pandas as pd
import pytest

from salesops_lib.analytics.segmentation.abc import abc_classes, concentration_curve
from salesops_lib.core.errors import ParameterError


def lines() -> pd.DataFrame:
    # P-E is listed before P-D so that the tie order must come from the key, not the input.
    return pd.DataFrame(
        {
            "product_id": ["P-E", "P-A", "P-C", "P-B", "P-D", "P-A"],
            "amount": [5.0, 20.0, 10.0, 30.0, 5.0, 30.0],
        }
    )


def test_abc_classes_with_boundaries() -> None:
    table = abc_classes(lines(), key="product_id")
    assert table["product_id"].tolist() == ["P-A", "P-B", "P-C", "P-D", "P-E"]
    assert table["amount"].tolist() == [50.0, 30.0, 10.0, 5.0, 5.0]
    assert table["rank"].tolist() == [1, 2, 3, 4, 5]
    assert table["share"].tolist() == pytest.approx([0.5, 0.3, 0.1, 0.05, 0.05])
    assert table["cumulative_share"].tolist() == pytest.approx([0.5, 0.8, 0.9, 0.95, 1.0])
    assert table["cumulative_share_before"].tolist() == pytest.approx([0, 0.5, 0.8, 0.9, 0.95])
    assert table["abc_class"].tolist() == ["A", "A", "B", "B", "C"]


def test_abc_classes_with_other_cutoffs() -> None:
    # a = 0.5: P-B has exactly 0.5 before it -> B; b = 1.0: everything else is B.
    table = abc_classes(lines(), key="product_id", a_cutoff=0.5, b_cutoff=1.0)
    assert table["abc_class"].tolist() == ["A", "B", "B", "B", "B"]


def test_abc_classes_does_not_change_its_input() -> None:
    frame = lines()
    copy = frame.copy(deep=True)
    abc_classes(frame, key="product_id")
    concentration_curve(frame, key="product_id")
    pd.testing.assert_frame_equal(frame, copy)


def test_concentration_curve_points() -> None:
    curve = concentration_curve(lines(), key="product_id")
    assert curve["items"].tolist() == [0, 1, 2, 3, 4, 5]
    assert curve["key_share"].tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert curve["value_share"].tolist() == pytest.approx([0, 0.5, 0.8, 0.9, 0.95, 1.0])


@pytest.mark.parametrize(("a_cutoff", "b_cutoff"), [(0.9, 0.8), (0.8, 0.8), (0.0, 0.5), (0.8, 1.2)])
def test_bad_cutoffs_are_rejected(a_cutoff: float, b_cutoff: float) -> None:
    with pytest.raises(ParameterError, match="0 < a_cutoff < b_cutoff <= 1"):
        abc_classes(lines(), key="product_id", a_cutoff=a_cutoff, b_cutoff=b_cutoff)


def test_bad_frames_are_rejected() -> None:
    with pytest.raises(ParameterError, match="no column 'account_id'"):
        abc_classes(lines(), key="account_id")
    with pytest.raises(ParameterError, match=r"frame\.amount has dtype object"):
        abc_classes(lines().assign(amount="1"), key="product_id")
    negative = pd.DataFrame({"product_id": ["X", "Y"], "amount": [10.0, -1.0]})
    with pytest.raises(ParameterError, match="negative total amount \\(first 'Y'\\)"):
        abc_classes(negative, key="product_id")
    with pytest.raises(ParameterError, match="total amount is zero"):
        concentration_curve(pd.DataFrame({"product_id": ["X"], "amount": [0.0]}), "product_id")
