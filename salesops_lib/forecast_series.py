"""Monthly bookings series in long format for forecasting.

One row is one series x month: ``unique_id`` (series id), ``ds`` (period: the first
day of the month) and ``y`` (value: bookings amount). These are statsforecast's
column names for "series id, period, value".

Series ids: ``total`` (company), ``<region_id>`` (region) and
``<region_id>/<product_family>`` (region x product family).
"""

from __future__ import annotations

import pandas as pd

from salesops_lib.errors import ParameterError
from salesops_lib.frames import require_columns

TOTAL_SERIES_ID = "total"


def monthly_series_from_bookings(monthly: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """Build total, region and region x family monthly series from ``fct_bookings_monthly`` rows.

    Only complete months strictly before the as-of month are kept; months with no
    bookings inside a series' span (its first booked month to the month before as-of)
    are filled with zero.

    Args:
        monthly: Rows with ``region_id``, ``product_family``, ``order_month``, ``bookings_amount``.
        as_of: The as-of date (ISO); its month and later are excluded as incomplete.

    Returns:
        A new long frame with columns ``unique_id``, ``ds``, ``y``, sorted by id and month.
    """
    require_columns(
        monthly,
        ["region_id", "product_family", "order_month", "bookings_amount"],
        "fct_bookings_monthly",
    )
    as_of_month = pd.Timestamp(as_of).to_period("M").to_timestamp()
    frame = monthly.assign(
        ds=pd.to_datetime(monthly["order_month"]).dt.to_period("M").dt.to_timestamp(),
        y=monthly["bookings_amount"].astype(float),
    )
    frame = frame[frame["ds"] < as_of_month]
    if frame.empty:
        raise ParameterError(f"fct_bookings_monthly: no complete month before {as_of}")
    levels = [
        frame.assign(unique_id=TOTAL_SERIES_ID),
        frame.assign(unique_id=frame["region_id"].astype(str)),
        frame.assign(
            unique_id=frame["region_id"].astype(str) + "/" + frame["product_family"].astype(str)
        ),
    ]
    summed = pd.concat(levels).groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    last_month = as_of_month - pd.offsets.MonthBegin(1)
    filled = []
    for series_id, rows in summed.groupby("unique_id", sort=True):
        months = pd.date_range(rows["ds"].min(), last_month, freq="MS")
        values = rows.set_index("ds")["y"].reindex(months, fill_value=0.0)
        filled.append(pd.DataFrame({"unique_id": series_id, "ds": months, "y": values.to_numpy()}))
    return pd.concat(filled, ignore_index=True)
