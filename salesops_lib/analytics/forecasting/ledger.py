"""Append-only forecast ledger: store every run's forecasts, score them later against actuals.

Layout: ``<ledger_dir>/as_of=YYYY-MM-DD/<sha256>.parquet``, one file (a *batch*) per call of
:func:`record_forecasts`. Folder names come only from validated ISO dates and file names only from
content hashes, so series ids and model names (untrusted text) never become part of a path.

Rules:

- **Append-only.** A batch file is written once (temporary file in the same folder, then
  :func:`os.replace`) and never modified or deleted.
- **Content-addressed.** The file name is the SHA-256 of the batch's canonical content (its rows
  sorted by series, month and model, as fixed-width binary values; ``recorded_seq`` excluded), so
  it does not depend on the parquet writer. Recording identical content again is a no-op,
  whenever it happens. Loading re-computes the hash, so a file changed after writing is caught.
- **Newest batch wins.** Each batch stores ``recorded_seq`` = 1 + the largest ``recorded_seq`` in
  its as-of folder when it was written (1 for the first). When several batches of one as-of hold
  the same series, the batch with the highest ``recorded_seq`` supplies *all* of that series'
  rows (every model and month); a tie (two writers at once) goes to the larger file hash. The
  stored bytes hold no wall-clock time: the same ledger state and inputs give the same bytes.

Scoring the recorded forecasts against later actuals lives in
:mod:`salesops_lib.analytics.forecasting.ledger_scoring`.

Horizon: months after the last complete month on the as-of date, so the first incomplete month
is horizon 1: the as-of month itself, or the next month when the as-of date is a month's last
day (that month is complete).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from salesops_lib.analytics.forecasting.metrics import naive_scale
from salesops_lib.analytics.forecasting.series import first_incomplete_period
from salesops_lib.core.errors import ContractError, ParameterError
from salesops_lib.core.frames import require_columns

FORECAST_COLUMNS = [
    "unique_id",
    "ds",
    "model",
    "point",
    "lo_80",
    "hi_80",
    "lo_95",
    "hi_95",
    "is_chosen",
]
INTERVAL_COLUMNS = ["lo_80", "hi_80", "lo_95", "hi_95"]
LEDGER_COLUMNS = [
    "as_of",
    "unique_id",
    "ds",
    "horizon",
    "model",
    "is_chosen",
    "point",
    "lo_80",
    "hi_80",
    "lo_95",
    "hi_95",
    "mase_scale",
    "recorded_seq",
]
"""Columns of a stored batch; :func:`load_ledger` adds ``batch_id`` (the file's hash)."""
BASELINE_MODEL = "SeasonalNaive"
CHOSEN_ROLE = "chosen"
ALL_SERIES = "overall"

_AS_OF_DIR = re.compile(r"^as_of=(\d{4}-\d{2}-\d{2})$")
_BATCH_FILE = re.compile(r"^([0-9a-f]{64})\.parquet$")
LEDGER_KEY = ["as_of", "unique_id", "ds", "model"]


def iso_date(value: str | dt.date, where: str) -> pd.Timestamp:
    """Return a validated as-of date (``YYYY-MM-DD`` text, date or Timestamp) as a Timestamp."""
    if isinstance(value, dt.date):
        stamp = pd.Timestamp(value)
        if stamp != stamp.normalize() or stamp.tzinfo is not None:
            raise ParameterError(f"{where}: as_of {value!r} must be a plain date without time")
        return stamp
    text = str(value)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ParameterError(f"{where}: as_of {text!r} must be an ISO date YYYY-MM-DD")
    try:
        return pd.Timestamp(dt.date.fromisoformat(text))
    except ValueError:
        raise ParameterError(f"{where}: as_of {text!r} is not a calendar date") from None


def _month_index(stamps: pd.Series) -> pd.Series:
    return stamps.dt.year * 12 + stamps.dt.month


def _row_label(frame: pd.DataFrame, position: int) -> str:
    row = frame.iloc[position]
    return f"row {position} (unique_id {row['unique_id']!r}, model {row['model']!r})"


def _validated_forecasts(forecasts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    where = "record_forecasts: forecasts"
    require_columns(forecasts, FORECAST_COLUMNS, where)
    frame = forecasts[FORECAST_COLUMNS].reset_index(drop=True)
    if frame.empty:
        raise ParameterError(f"{where}: no rows; record at least one forecast")
    for column in ("unique_id", "model"):
        bad = ~frame[column].map(lambda v: isinstance(v, str) and v != "")
        if bad.any():
            position = int(np.flatnonzero(bad.to_numpy())[0])
            raise ParameterError(f"{where}: row {position}: {column} must be non-empty text")
    if not pd.api.types.is_datetime64_any_dtype(frame["ds"]) or getattr(
        frame["ds"].dtype, "tz", None
    ):
        raise ParameterError(f"{where}: ds must be a datetime column without time zone")
    not_monthly = frame["ds"].isna() | (frame["ds"] != frame["ds"].dt.to_period("M").dt.start_time)
    if not_monthly.any():
        position = int(np.flatnonzero(not_monthly.to_numpy())[0])
        raise ParameterError(
            f"{where}: {_row_label(frame, position)}: ds {frame['ds'].iloc[position]} must be "
            "the first day of a month (monthly forecasts only)"
        )
    for column in ["point", *INTERVAL_COLUMNS]:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(
            frame[column]
        ):
            raise ParameterError(f"{where}: {column} must be numeric (float)")
    point = frame["point"].astype("float64")
    if not np.isfinite(point).all():
        position = int(np.flatnonzero(~np.isfinite(point.to_numpy()))[0])
        raise ParameterError(
            f"{where}: {_row_label(frame, position)}: point is {point.iloc[position]}; "
            "every point forecast must be a finite number"
        )
    if not pd.api.types.is_bool_dtype(frame["is_chosen"]) or frame["is_chosen"].isna().any():
        raise ParameterError(f"{where}: is_chosen must be a bool column without missing values")
    duplicated = frame.duplicated(["unique_id", "ds", "model"])
    if duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise ParameterError(
            f"{where}: {_row_label(frame, position)}: ds {frame['ds'].iloc[position].date()} "
            "appears twice; one row per series x month x model"
        )
    chosen_models = frame[frame["is_chosen"]].groupby("unique_id")["model"].nunique()
    if (chosen_models > 1).any():
        series = chosen_models[chosen_models > 1].index[0]
        raise ParameterError(
            f"{where}: unique_id {series!r} has more than one model with is_chosen; choose one"
        )
    first = first_incomplete_period(as_of, "M")
    horizon = _month_index(frame["ds"]) - (first.year * 12 + first.month) + 1
    if (horizon < 1).any():
        position = int(np.flatnonzero((horizon < 1).to_numpy())[0])
        raise ParameterError(
            f"{where}: {_row_label(frame, position)}: ds {frame['ds'].iloc[position].date()} is "
            f"a complete month before as_of {as_of.date()}; only forecast months can be recorded"
        )
    return frame.assign(
        ds=frame["ds"].astype("datetime64[ns]"),
        point=point,
        horizon=horizon.astype("int64"),
        **{column: frame[column].astype("float64") for column in INTERVAL_COLUMNS},
        is_chosen=frame["is_chosen"].astype(bool),
    )


def _validated_scales(scales: pd.DataFrame, series_ids: pd.Series) -> pd.Series:
    where = "record_forecasts: scales"
    require_columns(scales, ["unique_id", "mase_scale"], where)
    if scales["unique_id"].duplicated().any():
        series = scales.loc[scales["unique_id"].duplicated(), "unique_id"].iloc[0]
        raise ParameterError(f"{where}: unique_id {series!r} appears twice; one scale per series")
    by_series = scales.set_index("unique_id")["mase_scale"]
    missing = sorted(set(series_ids) - set(by_series.index))
    if missing:
        raise ParameterError(
            f"{where}: no mase_scale for unique_id {missing[0]!r} ({len(missing)} series "
            "missing); give the in-sample seasonal-naive MAE of every forecast series"
        )
    values = pd.to_numeric(by_series, errors="coerce").astype("float64")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        series = values[bad].index[0]
        raise ParameterError(
            f"{where}: unique_id {series!r}: mase_scale {by_series[series]!r} must be a finite "
            "number >= 0"
        )
    return values


def _canonical_hash(batch: pd.DataFrame) -> str:
    """SHA-256 of the batch content, independent of the parquet writer and of row order.

    Rows are sorted by series, month and model; each column (``recorded_seq`` excluded) is
    hashed by name and then as fixed-width little-endian values: float64 (``NaN`` normalised),
    int64, datetimes as int64 nanoseconds, bools as one byte, text as UTF-8 with an 8-byte
    length prefix per value.
    """
    content = batch.drop(columns="recorded_seq").sort_values(["unique_id", "ds", "model"])
    digest = hashlib.sha256()
    for column in content.columns:
        values = content[column]
        digest.update(column.encode("utf-8") + b"\0")
        if pd.api.types.is_datetime64_any_dtype(values):
            digest.update(values.astype("datetime64[ns]").to_numpy().view("<i8").tobytes())
        elif pd.api.types.is_bool_dtype(values):
            digest.update(values.to_numpy(dtype="u1").tobytes())
        elif pd.api.types.is_integer_dtype(values):
            digest.update(values.to_numpy(dtype="<i8").tobytes())
        elif pd.api.types.is_float_dtype(values):
            floats = values.to_numpy(dtype="<f8")
            digest.update(np.where(np.isnan(floats), np.nan, floats).astype("<f8").tobytes())
        else:
            encoded = [str(v).encode("utf-8") for v in values]
            digest.update(np.array([len(e) for e in encoded], dtype="<i8").tobytes())
            digest.update(b"".join(encoded))
    return digest.hexdigest()


def _batch_files(as_of_dir: Path) -> list[Path]:
    """Batch files of one as-of folder, sorted; foreign files are an error."""
    files = []
    for path in sorted(as_of_dir.iterdir()):
        if path.name.startswith("."):
            continue  # an interrupted write's temporary file; never part of the ledger
        if not path.is_file() or not _BATCH_FILE.match(path.name):
            raise ContractError(
                f"forecast ledger: {path}: not a batch file; an as-of folder holds only "
                "<sha256>.parquet files written by record_forecasts (move the file elsewhere)"
            )
        files.append(path)
    return files


def record_forecasts(
    ledger_dir: Path,
    forecasts: pd.DataFrame,
    as_of: str | dt.date,
    scales: pd.DataFrame,
) -> Path | None:
    """Append one batch of forecasts made at ``as_of`` to the ledger.

    Args:
        ledger_dir: The ledger folder (``Settings.forecast_ledger_dir``); created if missing.
        forecasts: A forecast frame (``unique_id``, ``ds``, ``model``, ``point``, ``lo_80``,
            ``hi_80``, ``lo_95``, ``hi_95``, ``is_chosen``); ``ds`` are months after the last
            complete month before ``as_of``.
        as_of: The date the forecasts were made (the snapshot date), ``YYYY-MM-DD``.
        scales: One row per forecast series: ``unique_id`` and ``mase_scale`` (the in-sample
            seasonal-naive MAE at forecast time, the MASE denominator).

    Returns:
        The new batch file, or ``None`` when a batch with identical content was already recorded
        for this as-of (deterministic re-runs record nothing).

    Raises:
        ParameterError: If ``as_of``, ``forecasts`` or ``scales`` break the rules; the message
            names the column, row and rule.
        ContractError: If the as-of folder already holds a foreign, unreadable or changed file.
    """
    as_of_date = iso_date(as_of, "record_forecasts")
    frame = _validated_forecasts(forecasts, as_of_date)
    scale = _validated_scales(scales, frame["unique_id"])
    batch = frame.assign(
        as_of=pd.Series(as_of_date, index=frame.index, dtype="datetime64[ns]"),
        mase_scale=frame["unique_id"].map(scale).astype("float64"),
        recorded_seq=np.int64(0),
    )
    batch = batch[LEDGER_COLUMNS].sort_values(["unique_id", "ds", "model"], ignore_index=True)
    digest = _canonical_hash(batch)
    folder = Path(ledger_dir) / f"as_of={as_of_date.date().isoformat()}"
    target = folder / f"{digest}.parquet"
    if target.exists():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    earlier = [_read_batch(path) for path in _batch_files(folder)]
    sequence = 1 + max((int(b["recorded_seq"].max()) for b in earlier), default=0)
    batch = batch.assign(recorded_seq=np.int64(sequence))
    buffer = io.BytesIO()
    batch.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{digest}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(buffer.getvalue())
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _read_batch(path: Path) -> pd.DataFrame:
    """Read one batch file and check it against the ledger rules."""
    rule = "rewrite nothing: move the file out of the ledger and record the batch again"
    try:
        batch = pd.read_parquet(path, engine="pyarrow")
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise ContractError(
            f"forecast ledger: {path}: not a readable parquet batch ({type(exc).__name__}); {rule}"
        ) from None
    if list(batch.columns) != LEDGER_COLUMNS:
        raise ContractError(
            f"forecast ledger: {path}: columns {list(batch.columns)} are not the ledger columns "
            f"{LEDGER_COLUMNS}; {rule}"
        )
    folder_date = _AS_OF_DIR.match(path.parent.name)
    if folder_date is None or not (batch["as_of"] == pd.Timestamp(folder_date.group(1))).all():
        raise ContractError(
            f"forecast ledger: {path}: as_of values do not match the folder "
            f"{path.parent.name!r}; {rule}"
        )
    if _canonical_hash(batch) != path.stem or batch["recorded_seq"].nunique() != 1:
        raise ContractError(
            f"forecast ledger: {path}: content does not match its file name (the SHA-256 of the "
            f"batch); the file was changed after it was written; {rule}"
        )
    return batch.assign(batch_id=path.stem)


def load_ledger(ledger_dir: Path, include_superseded: bool = False) -> pd.DataFrame:
    """Read every batch of the ledger and apply the newest-batch-wins rule.

    Args:
        ledger_dir: The ledger folder; a missing folder is an empty ledger.
        include_superseded: Also return rows replaced by a newer batch of the same as-of and
            series (for audits); by default only the winning rows.

    Returns:
        A new frame with :data:`LEDGER_COLUMNS` plus ``batch_id``, sorted by as-of, series,
        month and model.

    Raises:
        ContractError: If a file in the ledger is not a batch, is unreadable, or its content does
            not match its name or folder; the message names the file and the rule.
    """
    ledger_dir = Path(ledger_dir)
    empty = pd.DataFrame({column: [] for column in [*LEDGER_COLUMNS, "batch_id"]})
    if not ledger_dir.is_dir():
        return _typed(empty)
    batches = []
    for folder in sorted(ledger_dir.iterdir()):
        if folder.name.startswith("."):
            continue
        match = _AS_OF_DIR.match(folder.name)
        if not folder.is_dir() or match is None:
            raise ContractError(
                f"forecast ledger: {folder}: not an as_of=YYYY-MM-DD folder; the ledger holds "
                "only folders written by record_forecasts (move it elsewhere)"
            )
        batches.extend(_read_batch(path) for path in _batch_files(folder))
    if not batches:
        return _typed(empty)
    ledger = pd.concat(batches, ignore_index=True)
    if not include_superseded:
        winners = (
            ledger[["as_of", "unique_id", "recorded_seq", "batch_id"]]
            .drop_duplicates()
            .sort_values(["as_of", "unique_id", "recorded_seq", "batch_id"])
            .drop_duplicates(["as_of", "unique_id"], keep="last")
        )
        ledger = ledger.merge(winners, on=["as_of", "unique_id", "recorded_seq", "batch_id"])
    return _typed(ledger.sort_values([*LEDGER_KEY, "recorded_seq", "batch_id"], ignore_index=True))


def _typed(ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger.astype(
        {
            "as_of": "datetime64[ns]",
            "unique_id": object,
            "ds": "datetime64[ns]",
            "horizon": "int64",
            "model": object,
            "is_chosen": bool,
            **dict.fromkeys(["point", *INTERVAL_COLUMNS, "mase_scale"], "float64"),
            "recorded_seq": "int64",
            "batch_id": object,
        }
    )


def backfill_dates(
    snapshot_dates: Sequence[dt.date], every_weeks: int = 4, count: int = 3
) -> list[dt.date]:
    """Earlier snapshot dates to forecast from, so a new ledger has forecasts to score.

    Steps back from the latest snapshot ``every_weeks`` weeks at a time and keeps the dates that
    have a snapshot, oldest first.

    Args:
        snapshot_dates: As-of dates of the available snapshots (any order).
        every_weeks: Weeks between the chosen dates (4: about one forecast per month).
        count: At most this many dates.

    Returns:
        The chosen dates, oldest first; empty when there is no snapshot that far back.

    Raises:
        ParameterError: If ``every_weeks`` or ``count`` is below 1.
    """
    if every_weeks < 1 or count < 1:
        raise ParameterError(
            f"backfill_dates: every_weeks={every_weeks} and count={count} must both be 1 or more"
        )
    available = set(snapshot_dates)
    if not available:
        return []
    latest = max(available)
    steps = (latest - dt.timedelta(weeks=every_weeks * k) for k in range(1, count + 1))
    return sorted(day for day in steps if day in available)


def ledger_scales(history: pd.DataFrame, season_length: int = 12) -> pd.DataFrame:
    """The MASE scale recorded with each series' forecasts (:func:`~.metrics.naive_scale`).

    Args:
        history: Long monthly series ``unique_id``, ``ds``, ``y`` up to the forecast date.
        season_length: Months per season.

    Returns:
        A new frame, one row per series: ``unique_id``, ``mase_scale``.
    """
    require_columns(history, ["unique_id", "ds", "y"], "ledger_scales: history")
    ordered = history.sort_values(["unique_id", "ds"])
    rows = [
        {"unique_id": series_id, "mase_scale": naive_scale(part["y"].to_numpy(), season_length)}
        for series_id, part in ordered.groupby("unique_id", sort=True)
    ]
    return pd.DataFrame(rows, columns=["unique_id", "mase_scale"])
