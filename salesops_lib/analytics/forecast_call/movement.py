"""Pipeline movement between two snapshots: the forecast-category flow matrix.

A deal is *in the quarter* at a snapshot when its close date falls between the quarter's start
and end there. The matrix counts every deal in the quarter at either snapshot once: its row is
its category at the earlier snapshot (``New`` when it was not in the quarter then: created,
or pulled in), its column its category at the later one (``Out of quarter`` when it left:
pushed out or deleted). Money is the deal's amount at the later snapshot, or at the earlier one
for a deal that left.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from salesops_lib.core.frames import require_columns

CATEGORIES: tuple[str, ...] = ("Pipeline", "Best Case", "Commit", "Closed", "Omitted")
NEW, OUT = "New", "Out of quarter"
FROM_ORDER: tuple[str, ...] = (NEW, *CATEGORIES)
TO_ORDER: tuple[str, ...] = (*CATEGORIES, OUT)
DEAL_COLUMNS = ["opportunity_id", "forecast_category", "amount", "close_date"]


def _in_quarter(deals: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    require_columns(deals, DEAL_COLUMNS, "opportunities")
    close = pd.to_datetime(deals["close_date"])
    keep = (close >= pd.Timestamp(start)) & (close <= pd.Timestamp(end))
    return deals.loc[keep, DEAL_COLUMNS[:3]]


def deal_flows(
    before: pd.DataFrame, after: pd.DataFrame, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Each deal in the quarter at either snapshot, with its category then and now.

    Returns:
        ``opportunity_id``, ``from_category``, ``to_category``, ``amount_before``,
        ``amount_after``, ``amount`` (after, else before).
    """
    was = _in_quarter(before, start, end).rename(
        columns={"forecast_category": "from_category", "amount": "amount_before"}
    )
    now = _in_quarter(after, start, end).rename(
        columns={"forecast_category": "to_category", "amount": "amount_after"}
    )
    flows = was.merge(now, on="opportunity_id", how="outer")
    flows["from_category"] = flows["from_category"].fillna(NEW)
    flows["to_category"] = flows["to_category"].fillna(OUT)
    flows["amount"] = flows["amount_after"].fillna(flows["amount_before"])
    return flows.sort_values("opportunity_id").reset_index(drop=True)


def flow_matrix(flows: pd.DataFrame, value: str = "deals") -> pd.DataFrame:
    """The flow matrix of :func:`deal_flows`: rows from, columns to, in deals or money.

    Args:
        flows: :func:`deal_flows` rows.
        value: ``deals`` (count) or ``amount`` (money).

    Returns:
        A new frame: ``from_category`` then one column per :data:`TO_ORDER` category, one row
        per :data:`FROM_ORDER` category (zeros where nothing moved).
    """
    if value not in ("deals", "amount"):
        raise ValueError(f"value must be 'deals' or 'amount', not {value!r}")
    grouped = flows.groupby(["from_category", "to_category"])["amount"]
    cells = grouped.size() if value == "deals" else grouped.sum()
    matrix = cells.unstack(fill_value=0).reindex(
        index=list(FROM_ORDER), columns=list(TO_ORDER), fill_value=0
    )
    matrix = matrix.fillna(0).astype(int if value == "deals" else float)
    return matrix.rename_axis(index="from_category", columns=None).reset_index()


def category_totals(deals: pd.DataFrame, start: dt.date, end: dt.date) -> pd.Series:
    """Money per forecast category of the deals in the quarter at one snapshot."""
    in_quarter = _in_quarter(deals, start, end)
    totals = in_quarter.groupby("forecast_category")["amount"].sum()
    return totals.reindex(list(CATEGORIES), fill_value=0.0)
