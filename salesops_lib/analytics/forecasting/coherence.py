"""Coherent forecasts: the company total is the sum of the regions; families split their region.

Regions are the level we model (each region's own series, its own backtested model). The numbers
every report shows are then made to agree:

* **Total, bottom-up.** The company point forecast is the sum of the regions' chosen forecasts, so
  the all-regions report and the regional reports never show two numbers for the same thing.
  Its interval keeps the width the total series' own chosen model gives it (the distance from
  that model's point to each bound), centred on the bottom-up point; summing regional bounds
  would assume every region misses in the same direction at once.
* **Families, top-down.** A region's forecast is split across its product families by their share
  of the region's bookings over the last twelve complete months, so the families add up to the
  region exactly (points and bounds are scaled by the same share).

Frames follow the shared *forecast frame* format
(:mod:`salesops_lib.analytics.forecasting.models`): one row per
series x month x model with ``point``, ``lo_80``, ``hi_80``, ``lo_95``, ``hi_95``.
"""

from __future__ import annotations

import pandas as pd

from salesops_lib.analytics.forecasting.series import TOTAL_SERIES_ID
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

BOUNDS: tuple[str, ...] = ("lo_80", "hi_80", "lo_95", "hi_95")
BOTTOM_UP_MODEL = "BottomUp"
"""Model name of the coherent company total."""
TOP_DOWN_MODEL = "RegionShare"
"""Model name of a family's share of its region's forecast."""
SHARE_MONTHS = 12
"""Months of history behind the family shares."""


def chosen_rows(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Return only the rows of each series' chosen model.

    Args:
        forecasts: A forecast frame with an ``is_chosen`` column.

    Returns:
        A new frame of the chosen rows, sorted by series and month.
    """
    require_columns(forecasts, ["unique_id", "ds", "model", "point", "is_chosen"], "forecasts")
    picked = forecasts[forecasts["is_chosen"].astype(bool)]
    return picked.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def bottom_up_total(
    region_forecasts: pd.DataFrame, total_forecast: pd.DataFrame, key: tuple[str, ...] = ("ds",)
) -> pd.DataFrame:
    """Sum the regions' chosen points into the company total, keeping the total's own widths.

    Args:
        region_forecasts: Chosen rows of every region series (one row per region x ``key``).
        total_forecast: Chosen rows of the ``total`` series (one row per ``key``), whose bounds
            give the interval widths.
        key: Columns that identify one forecast of the total: ``("ds",)`` for a forecast,
            ``("cutoff", "ds")`` for backtest rows.

    Returns:
        A new frame, one row per ``key``: ``unique_id`` = ``total``, ``model`` = ``BottomUp``,
        ``point`` (sum of regions) and the four bounds (point + the total model's offsets).
        Backtest rows keep ``y`` (the total's actual) when ``total_forecast`` has it.

    Raises:
        ParameterError: If the total has months the regions do not cover, or vice versa.
    """
    columns = [*key, "point", *BOUNDS]
    require_columns(region_forecasts, [*key, "point"], "region forecasts")
    require_columns(total_forecast, columns, "total forecast")
    summed = region_forecasts.groupby(list(key), as_index=False)["point"].sum()
    keep = [*columns, *(["y"] if "y" in total_forecast.columns else [])]
    merged = total_forecast[keep].merge(
        summed, on=list(key), how="outer", suffixes=("_total", ""), indicator=True
    )
    unmatched = merged[merged["_merge"] != "both"]
    if not unmatched.empty:
        first = unmatched.iloc[0]
        raise ParameterError(
            f"bottom_up_total: {', '.join(f'{k}={first[k]}' for k in key)} is in "
            f"{'the total only' if first['_merge'] == 'left_only' else 'the regions only'}; "
            "forecast the total and every region over the same months"
        )
    out = merged.assign(unique_id=TOTAL_SERIES_ID, model=BOTTOM_UP_MODEL)
    for bound in BOUNDS:
        out[bound] = out["point"] + (merged[bound] - merged["point_total"])
    ordered = ["unique_id", *key, "model", "point", *BOUNDS, *(["y"] if "y" in keep else [])]
    return out[ordered].sort_values(list(key)).reset_index(drop=True)


def family_shares(
    history: pd.DataFrame, region_id: str, months: int = SHARE_MONTHS
) -> pd.DataFrame:
    """Each product family's share of a region's bookings over the last ``months`` months.

    Args:
        history: Long monthly series (``unique_id``, ``ds``, ``y``) with ``<region>/<family>`` ids.
        region_id: The region.
        months: Months of history (the last ones in ``history``).

    Returns:
        A new frame ``unique_id``, ``product_family``, ``share`` (shares add up to 1; equal shares
        when the region booked nothing in the window); empty if the region has no families.
    """
    require_columns(history, ["unique_id", "ds", "y"], "history")
    prefix = f"{region_id}/"
    rows = history[history["unique_id"].str.startswith(prefix)]
    if rows.empty:
        return pd.DataFrame({"unique_id": [], "product_family": [], "share": []})
    last = rows["ds"].max()
    window = rows[rows["ds"] > last - pd.DateOffset(months=months)]
    sums = window.groupby("unique_id")["y"].sum().reindex(sorted(rows["unique_id"].unique()))
    sums = sums.fillna(0.0).clip(lower=0.0)
    total = float(sums.sum())
    share = sums / total if total > 0 else pd.Series(1.0 / len(sums), index=sums.index)
    return pd.DataFrame(
        {
            "unique_id": share.index,
            "product_family": [uid.removeprefix(prefix) for uid in share.index],
            "share": share.to_numpy(),
        }
    )


def split_by_family(region_forecast: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Split one region's chosen forecast across its families by share (adds up exactly).

    Args:
        region_forecast: The region's chosen rows (``ds``, ``point`` and the four bounds).
        shares: Output of :func:`family_shares`.

    Returns:
        A new frame, one row per family x month: ``unique_id`` (``<region>/<family>``),
        ``product_family``, ``ds``, ``model`` = ``RegionShare``, ``share``, point and bounds.
    """
    require_columns(region_forecast, ["ds", "point", *BOUNDS], "region forecast")
    require_columns(shares, ["unique_id", "product_family", "share"], "family shares")
    crossed = shares.merge(region_forecast[["ds", "point", *BOUNDS]], how="cross")
    values = {col: crossed[col] * crossed["share"] for col in ("point", *BOUNDS)}
    out = crossed.assign(model=TOP_DOWN_MODEL, **values)
    ordered = ["unique_id", "product_family", "ds", "model", "share", "point", *BOUNDS]
    return out[ordered].sort_values(["unique_id", "ds"]).reset_index(drop=True)
