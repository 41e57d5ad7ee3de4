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

Horizon: months after the last complete month before the as-of date, so the as-of month itself
(incomplete on the as-of day) is horizon 1.
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

from salesops_lib.analytics.forecasting import metrics as forecast_metrics
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
_KEY = ["as_of", "unique_id", "ds", "model"]


def _iso_date(value: str | dt.date, where: str) -> pd.Timestamp:
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
    horizon = _month_index(frame["ds"]) - (as_of.year * 12 + as_of.month) + 1
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
    as_of_date = _iso_date(as_of, "record_forecasts")
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
    return _typed(ledger.sort_values([*_KEY, "recorded_seq", "batch_id"], ignore_index=True))


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


def _inside(y: pd.Series, lower: pd.Series, upper: pd.Series) -> pd.Series:
    """Whether each actual lies in its closed interval; missing where the model has none."""
    inside = pd.Series((y >= lower) & (y <= upper), index=y.index, dtype="boolean")
    return inside.mask(lower.isna() | upper.isna())


def _smape_terms(y: pd.Series, point: pd.Series) -> pd.Series:
    """Each row's sMAPE term (``forecast_metrics.smape`` of that one period), 0 to 200."""
    terms = [forecast_metrics.smape([a], [f]) for a, f in zip(y, point, strict=True)]
    return pd.Series(terms, index=y.index, dtype="float64")


def score_forecasts(
    ledger: pd.DataFrame, actuals: pd.DataFrame, as_of: str | dt.date
) -> pd.DataFrame:
    """Score ledger forecasts made before ``as_of`` whose month is complete and has an actual.

    Args:
        ledger: Rows from :func:`load_ledger`.
        actuals: Long monthly actuals ``unique_id``, ``ds``, ``y`` (as from
            ``monthly_series_from_bookings`` at ``as_of``); months from the as-of month on are
            incomplete and ignored.
        as_of: The scoring date: only forecasts recorded at an earlier as-of are scored.

    Returns:
        A new frame: the scored ledger rows plus ``y``, ``error`` (point - y),
        ``abs_scaled_error`` (|error| / mase_scale; ``inf`` for a zero scale, ``nan`` if the
        error is zero too), ``ape`` (the row's sMAPE term, 0 to 200), ``in_80`` and ``in_95``
        (missing where the model has no interval).
    """
    scoring_date = _iso_date(as_of, "score_forecasts")
    require_columns(ledger, LEDGER_COLUMNS, "score_forecasts: ledger")
    require_columns(actuals, ["unique_id", "ds", "y"], "score_forecasts: actuals")
    first_incomplete = scoring_date.to_period("M").start_time
    complete = actuals.loc[
        (pd.to_datetime(actuals["ds"]) < first_incomplete) & actuals["y"].notna(),
        ["unique_id", "ds", "y"],
    ].assign(ds=lambda f: pd.to_datetime(f["ds"]).astype("datetime64[ns]"))
    if complete.duplicated(["unique_id", "ds"]).any():
        raise ParameterError("score_forecasts: actuals: one row per unique_id x ds expected")
    earlier = ledger[(ledger["as_of"] < scoring_date) & (ledger["ds"] < first_incomplete)]
    scored = earlier.merge(complete, on=["unique_id", "ds"], how="inner", validate="many_to_one")
    y = scored["y"].astype("float64")
    error = scored["point"] - y
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = error.abs() / scored["mase_scale"]
    return scored.assign(
        y=y,
        error=error,
        abs_scaled_error=scaled,
        ape=_smape_terms(y, scored["point"]),
        in_80=_inside(y, scored["lo_80"], scored["hi_80"]),
        in_95=_inside(y, scored["lo_95"], scored["hi_95"]),
    ).sort_values([*_KEY], ignore_index=True)


def _with_roles(scored: pd.DataFrame) -> pd.DataFrame:
    """Rows of the chosen model (role ``chosen``) and of the seasonal-naive baseline."""
    chosen = scored[scored["is_chosen"]].assign(role=CHOSEN_ROLE)
    baseline = scored[scored["model"] == BASELINE_MODEL].assign(role=BASELINE_MODEL)
    return pd.concat([chosen, baseline], ignore_index=True)


def _group_metrics(rows: dict[str, np.ndarray]) -> dict[str, float | int]:
    """Metrics of one group of scored rows (numpy columns), via ``forecast_metrics``."""
    metrics: dict[str, float | int] = {
        "n_forecasts": len(rows["y"]),
        "mase": float(np.mean(rows["abs_scaled_error"])),
        "smape": forecast_metrics.smape(rows["y"], rows["point"]),
        "bias": forecast_metrics.bias(rows["y"], rows["point"]),
    }
    for level in (80, 95):
        lower, upper = rows[f"lo_{level}"], rows[f"hi_{level}"]
        has_interval = ~(np.isnan(lower) | np.isnan(upper))
        metrics[f"coverage_{level}"] = (
            forecast_metrics.interval_coverage(
                rows["y"][has_interval], lower[has_interval], upper[has_interval]
            )
            if has_interval.any()
            else float("nan")
        )
    return metrics


def _accuracy(scored: pd.DataFrame, key: str) -> pd.DataFrame:
    """Metrics per series (and over every series pooled) x role x ``key``.

    MASE is the mean ``abs_scaled_error``; sMAPE, bias and coverage are
    ``forecast_metrics.smape``, ``bias`` and ``interval_coverage`` of the group's rows.
    """
    roles = _with_roles(scored)
    values = ["y", "point", "abs_scaled_error", *INTERVAL_COLUMNS]
    output = []
    for level, frame in (("series", roles), (ALL_SERIES, roles.assign(unique_id=None))):
        ordered = frame.sort_values(["unique_id", "role", key], kind="stable", ignore_index=True)
        keys = ordered[["unique_id", "role", key]]
        starts = np.flatnonzero(
            ~keys.fillna({"unique_id": ""}).eq(keys.fillna({"unique_id": ""}).shift()).all(axis=1)
        )
        ends = [*starts[1:], len(ordered)]
        arrays = {column: ordered[column].to_numpy(dtype="float64") for column in values}
        for start, end in zip(starts, ends, strict=True):
            first = keys.iloc[start]
            group = {column: array[start:end] for column, array in arrays.items()}
            output.append(
                {"level": level, "unique_id": first["unique_id"], "role": first["role"]}
                | {key: first[key]}
                | _group_metrics(group)
            )
    columns = ["level", "unique_id", "role", key, "n_forecasts", "mase", "smape", "bias"]
    return pd.DataFrame(output, columns=[*columns, "coverage_80", "coverage_95"])


def accuracy_by_horizon(scored: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of the chosen model and the seasonal-naive baseline per horizon.

    MASE is the mean of ``abs_scaled_error`` (each error scaled by its own series' in-sample
    seasonal-naive MAE, so series of any size pool fairly); sMAPE, bias (mean forecast -
    actual) and interval coverage are :mod:`salesops_lib.analytics.forecasting.metrics`'s on the
    same
    rows. Coverage counts only rows with an interval (``NaN`` if none has one). A row whose
    model is both chosen and ``SeasonalNaive`` counts in both roles.

    Args:
        scored: Rows from :func:`score_forecasts`.

    Returns:
        A new long frame: ``level`` (``series``, or ``overall`` = every series pooled, with
        ``unique_id`` missing), ``unique_id``, ``role`` (``chosen`` or ``SeasonalNaive``),
        ``horizon``, ``n_forecasts``, ``mase``, ``smape``, ``bias``, ``coverage_80``,
        ``coverage_95``.
    """
    require_columns(scored, ["y", "abs_scaled_error", "horizon"], "accuracy_by_horizon: scored")
    return _accuracy(scored, "horizon")


def accuracy_over_time(scored: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of the chosen model and the seasonal-naive baseline per forecast as-of date.

    Each as-of pools every scored horizon of the forecasts made on that date (for a chart of
    accuracy over time); metrics as in :func:`accuracy_by_horizon`.

    Args:
        scored: Rows from :func:`score_forecasts`.

    Returns:
        A new long frame: ``level``, ``unique_id``, ``role``, ``as_of``, ``n_forecasts``,
        ``mase``, ``smape``, ``bias``, ``coverage_80``, ``coverage_95``.
    """
    require_columns(scored, ["y", "abs_scaled_error", "as_of"], "accuracy_over_time: scored")
    return _accuracy(scored, "as_of")


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
