"""Small helpers every analytics module shares: input checks and exact money arithmetic."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from salesops_lib.core.errors import ParameterError


def require_columns(frame: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    """Fail early when a frame lacks columns a function needs.

    Args:
        frame: The caller's input frame.
        columns: Column names the function reads.
        where: The function (and argument) name, for the message.

    Raises:
        ParameterError: Naming the function and every missing column.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(f"{where}: input frame is missing column(s) {', '.join(missing)}")


def to_cents(values: pd.Series) -> pd.Series:
    """Return money amounts as whole cents (int64), so sums of them are exact.

    Amounts are stored rounded to cents, so the conversion loses nothing. A missing amount is
    an error (pandas refuses to cast NaN to int64), never a silent zero.
    """
    return np.round(pd.to_numeric(values).astype("float64") * 100).astype("int64")
