"""Planning inputs shared by capacity and quotas: the ramp, parameter checks, month helpers.

A planning **ramp** is a frame ``tenure_month`` (1, 2, ... N, no gaps; 1 = the month of hire),
``productivity`` in [0, 1]: the share of a ramped rep's output a rep produces in that tenure
month. Past tenure month N a rep is ramped (productivity 1).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

# --- checks ----------------------------------------------------------------------------------


def check_attrition(attrition_rate: float) -> float:
    """Return the attrition rate, or fail when it is outside [0, 1).

    Raises:
        ParameterError: If ``attrition_rate`` is not in [0, 1).
    """
    if not (0.0 <= float(attrition_rate) < 1.0) or math.isnan(float(attrition_rate)):
        raise ParameterError(
            f"attrition rate must be in [0, 1) (a share of the team leaving per year), "
            f"got {attrition_rate}"
        )
    return float(attrition_rate)


def check_ramp(ramp: pd.DataFrame) -> pd.DataFrame:
    """Validate a planning ramp and return it sorted by tenure month.

    Raises:
        ParameterError: If a column is missing, tenure months are not 1..N without gaps, or a
            productivity is outside [0, 1].
    """
    require_columns(ramp, ["tenure_month", "productivity"], "ramp")
    out = ramp[["tenure_month", "productivity"]].sort_values("tenure_month")
    months = out["tenure_month"].astype("int64").to_numpy()
    if len(months) and not np.array_equal(months, np.arange(1, len(months) + 1)):
        raise ParameterError(
            "ramp: tenure_month must run 1, 2, ..., N without gaps or repeats "
            f"(got {months[:12].tolist()}{' ...' if len(months) > 12 else ''})"
        )
    values = out["productivity"].astype(float)
    bad = values[(values < 0) | (values > 1) | values.isna()]
    if len(bad):
        row = out.loc[bad.index[0]]
        raise ParameterError(
            f"ramp: productivity must be in [0, 1]; tenure_month {int(row['tenure_month'])} "
            f"has {row['productivity']}"
        )
    return out.assign(productivity=values).reset_index(drop=True)


def check_positive(value: float, name: str) -> None:
    if not np.isfinite(value) or value < 0:
        raise ParameterError(f"{name} must be a finite number >= 0, got {value}")


def per_region(value: float | pd.Series, regions: pd.Series, name: str) -> pd.Series:
    """Broadcast a number or a Series indexed by region_id to one value per row of ``regions``."""
    if isinstance(value, pd.Series):
        missing = sorted(set(regions) - set(value.index))
        if missing:
            raise ParameterError(f"{name}: no value for region(s) {', '.join(map(str, missing))}")
        out = regions.map(value).astype(float)
    else:
        out = pd.Series(float(value), index=regions.index)
    bad = out[~np.isfinite(out) | (out < 0)]
    if len(bad):
        raise ParameterError(f"{name} must be finite and >= 0, got {bad.iloc[0]}")
    return out


def month_starts(months: Sequence[dt.date | str | pd.Timestamp]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(m).to_period("M").to_timestamp() for m in months])


def quarter_months(quarters: Sequence[str]) -> pd.DataFrame:
    """One row per month of the given quarters ("2027Q1" or a date in the quarter)."""
    if not len(quarters):
        raise ParameterError("quarters: give at least one quarter, e.g. ['2027Q1']")
    rows = []
    for label in quarters:
        try:
            period = pd.Period(label, freq="Q")
        except (ValueError, TypeError) as exc:
            raise ParameterError(f"quarters: {label!r} is not a quarter like '2027Q1'") from exc
        for month in pd.period_range(period.start_time, period.end_time, freq="M"):
            rows.append((str(period), month.to_timestamp()))
    return pd.DataFrame(rows, columns=["quarter", "month"])


def ramp_from_curve(curve: pd.DataFrame, *, months: int = 24) -> pd.DataFrame:
    """Turn the measured ramp curve into a planning ramp.

    Args:
        curve: Output of ``performance.attainment.ramp_curve`` (tenure_month from 0,
            share_of_plateau).
        months: Tenure months to keep (after that a rep counts as ramped).

    Returns:
        tenure_month = curve tenure + 1 (1..months), productivity = the share of plateau, made
        non-decreasing (running maximum) and clipped to [0, 1]; a tenure month missing from the
        curve takes the previous month's value.

    Raises:
        ParameterError: If a column is missing or the curve has no plateau.
    """
    require_columns(curve, ["tenure_month", "share_of_plateau"], "ramp_from_curve")
    share = curve.set_index(curve["tenure_month"].astype(int) + 1)["share_of_plateau"]
    if share.isna().all():
        raise ParameterError("ramp_from_curve: the ramp curve has no plateau (no share_of_plateau)")
    index = pd.RangeIndex(1, months + 1)
    values = share.reindex(index).ffill().fillna(0.0).clip(0, 1).cummax()
    return pd.DataFrame({"tenure_month": index.to_numpy(), "productivity": values.to_numpy()})
