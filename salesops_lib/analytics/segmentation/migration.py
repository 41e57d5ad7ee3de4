"""How customers moved between segments from one snapshot to a later one.

Both snapshots are tables with one row per customer, such as two
:func:`salesops_lib.analytics.segmentation.rfm.rfm_table`
results at different as-of dates. Customers found only in the later table come from the row
``New customer``; customers found only in the earlier table go to the column ``Gone``.

The revenue matrix sums, per cell, each customer's value in the *earlier* snapshot (the value
that moved), except the ``New customer`` row, which sums the value in the later snapshot (those
customers have no earlier value).

*Valuable* customers are the top quintile by value in the earlier snapshot, scored exactly like
the RFM m_score (:func:`salesops_lib.analytics.segmentation.rfm.quintile_scores`: rank on a stable
sort by key, ties to
the smaller key going lower, then five equal-count bins; score 5 is the top quintile). The watch
list holds the valuable customers present in both snapshots whose segment changed into one of
:data:`RISK_SEGMENTS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from salesops_lib.analytics.segmentation.rfm import SEGMENT_ORDER, quintile_scores
from salesops_lib.core.errors import ParameterError

NEW_CUSTOMER = "New customer"
"""Row label for customers present only in the later snapshot."""

GONE = "Gone"
"""Column label for customers present only in the earlier snapshot."""

RISK_SEGMENTS: tuple[str, ...] = ("At risk", "Can't lose", "Hibernating", "Lost")
"""Segments a valuable customer should not move into."""


@dataclass(frozen=True)
class MigrationResult:
    """Segment transitions between two snapshots.

    Attributes:
        counts: Customers per (old segment, new segment): rows are the old segments plus
            ``New customer``, columns the new segments plus ``Gone``. When the labels are RFM
            segments every RFM segment is present (zeros included) in rule order; other labels
            (e.g. ABC classes) follow, sorted.
        revenue: Same shape as ``counts``, summing value (see the module docstring).
        valuable_at_risk: One row per valuable customer who moved into a risk segment: key,
            segment_before, segment_after, value_before, value_after; largest value_before
            first, ties by key.
    """

    counts: pd.DataFrame
    revenue: pd.DataFrame
    valuable_at_risk: pd.DataFrame


def _check(frame: pd.DataFrame, name: str, key: str, segment: str, value: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [column for column in (key, segment, value) if column not in frame.columns]
    if missing:
        raise ParameterError(
            f"{name} has no column {', '.join(map(repr, missing))}; pass key=, segment= and "
            "value= naming its columns (e.g. an rfm_table() result)"
        )
    if not pd.api.types.is_numeric_dtype(frame[value]):
        raise ParameterError(f"{name}.{value} has dtype {frame[value].dtype}, expected numbers")
    for column in (key, segment, value):
        if frame[column].isna().any():
            raise ParameterError(f"{name}.{column} has missing values; drop or fill them first")
    duplicated = frame[key].duplicated()
    if duplicated.any():
        raise ParameterError(
            f"{name}.{key} is not unique (e.g. {frame[key][duplicated].iloc[0]!r}); "
            "pass one row per customer"
        )


def _labels(found: pd.Series) -> list[str]:
    """Every RFM segment in rule order (if any label is one), then the other labels, sorted."""
    labels = set(found)
    rfm = list(SEGMENT_ORDER) if labels & set(SEGMENT_ORDER) else []
    return [*rfm, *sorted(labels - set(SEGMENT_ORDER))]


def segment_migration(
    before: pd.DataFrame,
    after: pd.DataFrame,
    key: str = "account_id",
    segment: str = "segment",
    value: str = "monetary",
) -> MigrationResult:
    """Transition matrices (customers and revenue) and the valuable customers at risk.

    Args:
        before: The earlier snapshot, one row per customer.
        after: The later snapshot, one row per customer.
        key: Column identifying a customer in both.
        segment: Column holding the segment name in both.
        value: Numeric column used for revenue and for finding valuable customers.

    Returns:
        The transition matrices and the watch list.

    Raises:
        ParameterError: A frame lacks a column, has missing values, a non-numeric value column
            or a customer on more than one row.
    """
    _check(before, "before", key, segment, value)
    _check(after, "after", key, segment, value)
    old = before[[key, segment, value]].rename(
        columns={segment: "segment_before", value: "value_before"}
    )
    new = after[[key, segment, value]].rename(
        columns={segment: "segment_after", value: "value_after"}
    )
    moves = old.merge(new, on=key, how="outer", sort=True)
    moves["segment_before"] = moves["segment_before"].fillna(NEW_CUSTOMER)
    moves["segment_after"] = moves["segment_after"].fillna(GONE)
    is_new = moves["segment_before"] == NEW_CUSTOMER
    moves["moved_value"] = moves["value_before"].where(~is_new, moves["value_after"]).astype(float)

    rows = [*_labels(before[segment]), NEW_CUSTOMER]
    columns = [*_labels(after[segment]), GONE]
    grouped = moves.groupby(["segment_before", "segment_after"])["moved_value"]
    counts = grouped.size().unstack(fill_value=0).reindex(index=rows, columns=columns, fill_value=0)
    revenue = (
        grouped.sum().unstack(fill_value=0.0).reindex(index=rows, columns=columns, fill_value=0.0)
    )
    for matrix in (counts, revenue):
        matrix.index.name, matrix.columns.name = "segment_before", "segment_after"

    scores = quintile_scores(before[value].astype(float), before[key])
    valuable = set(before.loc[scores == 5, key])
    watch = moves[
        moves[key].isin(valuable)
        & moves["segment_after"].isin(RISK_SEGMENTS)
        & (moves["segment_after"] != moves["segment_before"])
    ]
    watch = watch.sort_values(["value_before", key], ascending=[False, True], kind="stable")
    watch = watch[[key, "segment_before", "segment_after", "value_before", "value_after"]]
    return MigrationResult(
        counts=counts.astype("int64"),
        revenue=revenue.astype(float),
        valuable_at_risk=watch.reset_index(drop=True),
    )


def biggest_moves(migration: MigrationResult, count: int = 2) -> pd.DataFrame:
    """The largest moves between two different segments by revenue.

    Args:
        migration: A :class:`MigrationResult`.
        count: How many moves to return.

    Returns:
        One row per move (segment_before, segment_after, customers, revenue): moves of existing
        customers between two different segments only (not ``New customer`` or ``Gone``), with
        at least one customer; largest revenue first (ties: more customers, then the segment
        names).
    """
    counts = migration.counts.stack().rename("customers")
    revenue = migration.revenue.stack().rename("revenue")
    moves = pd.concat([counts, revenue], axis=1).reset_index()
    moves = moves[
        (moves["segment_before"] != moves["segment_after"])
        & (moves["segment_before"] != NEW_CUSTOMER)
        & (moves["segment_after"] != GONE)
        & (moves["customers"] > 0)
    ]
    moves = moves.sort_values(
        ["revenue", "customers", "segment_before", "segment_after"],
        ascending=[False, False, True, True],
        kind="stable",
    )
    return moves.head(count).reset_index(drop=True)
