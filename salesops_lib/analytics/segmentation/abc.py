"""ABC (Pareto) classes and the concentration curve of revenue over customers or products.

Items (customers, products, ...) are ranked by their total value, largest first, ties broken by
key ascending, so the ranking is deterministic. For item *i* with rank *k*:

* ``share`` is its value over the total value;
* ``cumulative_share`` is the share of the items ranked 1..k (itself included);
* ``cumulative_share_before`` is the share of the items ranked 1..k-1 (0 for the first item).

**Boundary rule.** An item is class A while ``cumulative_share_before < a_cutoff``, class B while
``cumulative_share_before < b_cutoff``, and class C otherwise. So the item that carries the
cumulative share across a cutoff still belongs to the better class (with the default 0.8 cutoff
the A items are the fewest top items that together reach at least 80% of the value), the first
item is always A, and an item whose predecessors hold exactly 80% is B. Shares are computed from
cumulative sums of the values divided by the total, so hand-made round numbers hit the edges
exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesops_lib.core.errors import ParameterError


def _value_by_key(frame: pd.DataFrame, key: str, value: str) -> pd.DataFrame:
    """Total ``value`` per ``key``, ranked by value descending then key ascending."""
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [column for column in (key, value) if column not in frame.columns]
    if missing:
        raise ParameterError(
            f"frame has no column {', '.join(map(repr, missing))}; pass key= and value= naming "
            f"columns of the frame (it has {', '.join(map(str, frame.columns))})"
        )
    if not pd.api.types.is_numeric_dtype(frame[value]) or pd.api.types.is_bool_dtype(frame[value]):
        raise ParameterError(
            f"frame.{value} has dtype {frame[value].dtype}, expected numbers; convert it first "
            f"with pd.to_numeric(frame[{value!r}])"
        )
    for column in (key, value):
        if frame[column].isna().any():
            raise ParameterError(
                f"frame.{column} has {int(frame[column].isna().sum())} missing value(s); "
                "drop or fill those rows before calling"
            )
    totals = frame.groupby(key, sort=True)[value].sum().astype(float).reset_index()
    negative = totals[totals[value] < 0]
    if not negative.empty:
        raise ParameterError(
            f"frame: {len(negative)} {key}(s) have a negative total {value} (first "
            f"{negative[key].iloc[0]!r}); Pareto shares need non-negative totals, so filter or "
            "clip them (e.g. net returns within the period) before calling"
        )
    if totals[value].sum() <= 0:
        raise ParameterError(
            f"frame: the total {value} is zero or the frame is empty; there is nothing to rank"
        )
    return totals.sort_values([value, key], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def abc_classes(
    frame: pd.DataFrame,
    key: str,
    value: str = "amount",
    a_cutoff: float = 0.8,
    b_cutoff: float = 0.95,
) -> pd.DataFrame:
    """Rank items by total value and give each the class A, B or C.

    Args:
        frame: Rows with a ``key`` column and a numeric ``value`` column (several rows per key
            are summed, so order lines can be passed directly).
        key: Column that identifies an item (e.g. "account_id" or "product_id").
        value: Column to sum per item.
        a_cutoff: Cumulative share that ends class A, with 0 < a_cutoff < b_cutoff.
        b_cutoff: Cumulative share that ends class B, with b_cutoff <= 1.

    Returns:
        One row per key, largest value first (ties by key ascending): key, value (the total),
        rank (1..n), share, cumulative_share, cumulative_share_before and abc_class (see the
        module docstring for the boundary rule).

    Raises:
        ParameterError: Bad cutoffs, missing or non-numeric columns, missing values, a key with
            a negative total, or a zero total.
    """
    if not 0 < a_cutoff < b_cutoff <= 1:
        raise ParameterError(
            f"cutoffs a_cutoff={a_cutoff}, b_cutoff={b_cutoff} must satisfy "
            "0 < a_cutoff < b_cutoff <= 1, e.g. a_cutoff=0.8, b_cutoff=0.95"
        )
    ranked = _value_by_key(frame, key, value)
    amounts = ranked[value].to_numpy()
    total = amounts.sum()
    cumulative = np.cumsum(amounts)
    before = (cumulative - amounts) / total
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    ranked["share"] = amounts / total
    ranked["cumulative_share"] = cumulative / total
    ranked["cumulative_share_before"] = before
    ranked["abc_class"] = np.select([before < a_cutoff, before < b_cutoff], ["A", "B"], "C")
    return ranked


def concentration_curve(frame: pd.DataFrame, key: str, value: str = "amount") -> pd.DataFrame:
    """Points of the concentration (Lorenz-style, largest first) curve for a chart.

    Args:
        frame: Rows with a ``key`` column and a numeric ``value`` column (summed per key).
        key: Column that identifies an item, e.g. "account_id".
        value: Column to sum per item.

    Returns:
        n + 1 rows: items (number of top items, 0..n), key_share (items / n) and value_share
        (share of the total value held by those top items); the first row is (0, 0, 0) and the
        last (n, 1, 1). Items are ranked as in :func:`abc_classes`.

    Raises:
        ParameterError: Missing or non-numeric columns, missing values, a key with a negative
            total, or a zero total.
    """
    ranked = _value_by_key(frame, key, value)
    amounts = ranked[value].to_numpy()
    count = len(amounts)
    cumulative = np.concatenate([[0.0], np.cumsum(amounts)])
    return pd.DataFrame(
        {
            "items": np.arange(count + 1),
            "key_share": np.arange(count + 1) / count,
            "value_share": cumulative / cumulative[-1],
        }
    )
