"""Compensation input files: credits, quotas and cancellations, checked row by row.

Every problem raises :class:`~salesops_lib.core.errors.CompInputError` as
``<file>: row N, column C: <rule>``, where ``row N`` is the line of the file (the header is row
1). Rules: the required columns are present; ids are not blank; dates are ``YYYY-MM-DD``; money
is a number with at most 2 decimals (cents); ``split_pct`` is a number in ``(0, 1000]`` with at
most 2 decimals; no duplicate keys (a deal credited twice to the same rep, a quota given twice
for the same rep and period start, a deal cancelled twice).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from salesops_lib.core.errors import CompInputError

MONEY_PATTERN = r"[+-]?\d+(\.\d{1,2})?"
PCT_PATTERN = r"\d+(\.\d{1,2})?"
CREDIT_COLUMNS = ("rep_id", "credit_date", "amount")
CREDIT_OPTIONAL = ("deal_id", "split_pct", "product_family", "deal_type")


def _read(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """The file as text columns (names stripped), with ``source_row`` = the file line."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise CompInputError(f"{path}: file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CompInputError(f"{path}: not a readable CSV file: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CompInputError(
            f"{path}: row 1, column {missing[0]}: missing required column "
            f"(needs {', '.join(required)}; found {', '.join(frame.columns)})"
        )
    frame = frame.apply(lambda col: col.str.strip())
    frame["source_row"] = range(2, len(frame) + 2)
    return frame


def _fail(path: Path, frame: pd.DataFrame, bad: pd.Series, column: str, rule: str) -> None:
    """Raise for the first row where ``bad`` holds, quoting its value."""
    if bool(bad.any()):
        first = frame.loc[bad].iloc[0]
        raise CompInputError(
            f"{path}: row {first['source_row']}, column {column}: {rule} (value {first[column]!r})"
        )


def _ids(path: Path, frame: pd.DataFrame, column: str) -> None:
    _fail(path, frame, frame[column] == "", column, f"{column} is blank")


def _dates(path: Path, frame: pd.DataFrame, column: str) -> pd.Series:
    parsed = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
    _fail(path, frame, parsed.isna(), column, "not a date YYYY-MM-DD")
    return parsed


def _money(path: Path, frame: pd.DataFrame, column: str, *, signed: bool = True) -> pd.Series:
    ok = frame[column].str.fullmatch(MONEY_PATTERN)
    _fail(path, frame, ~ok, column, "not a number with at most 2 decimals (cents)")
    values = pd.to_numeric(frame[column]).astype("float64")
    if not signed:
        _fail(path, frame, values < 0, column, "must not be negative")
    return values


def _duplicates(path: Path, frame: pd.DataFrame, keys: list[str], what: str) -> None:
    dup = frame.duplicated(keys, keep="first")
    if bool(dup.any()):
        row = frame.loc[dup].iloc[0]
        first = frame.loc[(frame[keys] == row[keys]).all(axis=1), "source_row"].iloc[0]
        raise CompInputError(
            f"{path}: row {row['source_row']}, column {keys[0]}: duplicate {what} "
            f"({', '.join(f'{k}={row[k]}' for k in keys)}; first on row {first})"
        )


def read_credits_csv(path: Path) -> pd.DataFrame:
    """Read a credits file (``rep_id, credit_date, amount`` + optional columns).

    Args:
        path: CSV with columns ``rep_id, credit_date, amount`` and optionally ``deal_id``,
            ``split_pct`` (default 100), ``product_family``, ``deal_type``.

    Returns:
        rep_id str, credit_date datetime64[ns], amount float64, deal_id str ("" if none),
        split_pct float64, product_family / deal_type str when given, source_row int.

    Raises:
        CompInputError: ``FILE: row N, column C: rule`` for the first bad value.
    """
    frame = _read(path, CREDIT_COLUMNS)
    _ids(path, frame, "rep_id")
    out = pd.DataFrame({"rep_id": frame["rep_id"]})
    out["credit_date"] = _dates(path, frame, "credit_date")
    out["amount"] = _money(path, frame, "amount")
    out["deal_id"] = frame["deal_id"] if "deal_id" in frame.columns else ""
    if "split_pct" in frame.columns:
        text = frame["split_pct"].replace("", "100")
        ok = text.str.fullmatch(PCT_PATTERN)
        frame = frame.assign(split_pct=text)
        _fail(path, frame, ~ok, "split_pct", "not a percentage with at most 2 decimals")
        pct = pd.to_numeric(text).astype("float64")
        _fail(path, frame, (pct <= 0) | (pct > 1000), "split_pct", "must be in (0, 1000]")
        out["split_pct"] = pct
    else:
        out["split_pct"] = 100.0
    for column in ("product_family", "deal_type"):
        if column in frame.columns:
            out[column] = frame[column]
    out["source_row"] = frame["source_row"]
    with_deal = frame.loc[frame["deal_id"] != ""] if "deal_id" in frame.columns else frame.iloc[:0]
    if len(with_deal):
        _duplicates(path, with_deal, ["deal_id", "rep_id"], "credit of a deal to the same rep")
    return out.reset_index(drop=True)


def read_quotas_csv(path: Path) -> pd.DataFrame:
    """Read a quotas file: ``rep_id, period_start, quota`` (monthly or at the plan's period).

    Returns:
        rep_id str, period_start datetime64[ns], quota float64 (>= 0), source_row int.

    Raises:
        CompInputError: ``FILE: row N, column C: rule`` for the first bad value.
    """
    frame = _read(path, ("rep_id", "period_start", "quota"))
    _ids(path, frame, "rep_id")
    out = pd.DataFrame({"rep_id": frame["rep_id"]})
    out["period_start"] = _dates(path, frame, "period_start")
    out["quota"] = _money(path, frame, "quota", signed=False)
    out["source_row"] = frame["source_row"]
    _duplicates(
        path, frame.assign(period_start=out["period_start"]), ["rep_id", "period_start"], "quota"
    )
    return out


def read_cancellations_csv(path: Path) -> pd.DataFrame:
    """Read a cancellations file: ``deal_id, cancel_date``.

    Returns:
        deal_id str, cancel_date datetime64[ns], source_row int.

    Raises:
        CompInputError: ``FILE: row N, column C: rule`` for the first bad value.
    """
    frame = _read(path, ("deal_id", "cancel_date"))
    _ids(path, frame, "deal_id")
    out = pd.DataFrame({"deal_id": frame["deal_id"]})
    out["cancel_date"] = _dates(path, frame, "cancel_date")
    out["source_row"] = frame["source_row"]
    _duplicates(path, frame, ["deal_id"], "cancellation of a deal")
    return out
