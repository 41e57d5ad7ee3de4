"""Append-only payout ledger: every calculation recorded, locked periods never rewritten.

Each call of :func:`record_payout_run` writes one *payout run* (run id, time, as-of date, plan
version, the inputs' checksums, the payouts, their lines and any adjustments) as a folder that is
never changed afterwards (see :mod:`.ledger_files` for the layout and the atomic writes).

Locking. :func:`lock_period` freezes a period (``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``): the rows of
the latest run whose period lies inside it become the *paid* rows. A payout row is locked when its
whole period lies inside a locked period (locking ``2026-Q1`` locks the months and the quarter;
locking ``2026-01`` does not lock the quarter). Later runs never change a locked row: when a new
calculation gives another payout for it (a cancelled deal, a corrected split), the difference
between the new value and the *booked* value (paid + adjustments already posted for it) is posted
as a prior-period adjustment in the first unlocked period of the same grain after it, with the
reason (the deals and line kinds that changed, plus the caller's reason), the old and the new
value. A rep counts as covered by a run when the run has any row for the rep, and a locked period
when the run has any row in it; for a covered rep and period a missing row counts as zero.

Recorded payouts (one row per rep x plan x period) keep the engine's columns and add ``locked``,
``adjustment`` (prior-period adjustments posted into that row's period) and ``payout_due``
(``payout + adjustment``). Recorded lines add ``locked`` and hold one ``kind="adjustment"`` line
per posted adjustment. Money is compared and summed in whole cents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesops_lib.analytics.compensation import ledger_files as files
from salesops_lib.analytics.compensation.ledger_adjust import (
    ADJUSTMENT_COLUMNS,
    KEY,
    attach_adjustments,
    in_locks,
    lock_ranges,
    price_adjustments,
)
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

PAYOUT_KEY_COLUMNS = ["rep_id", "plan_id", "period", "payout"]
LINE_KEY_COLUMNS = ["rep_id", "plan_id", "period", "deal_id", "kind", "amount"]
LOCK_COLUMNS = ["period", "period_start", "period_end", "locked_at", "by", "reason", "run_id"]


@dataclass(frozen=True)
class PayoutRun:
    """One recorded calculation, as stored in the ledger.

    Attributes:
        run_id: ``<sequence>-<hash>``; runs sort by it in the order they were recorded.
        seq: The run's sequence number (1 for the first run of the ledger).
        recorded_at: UTC time of recording, ISO text.
        as_of: The date the calculation was made for (snapshot or calculation date).
        plan_version: sha256 of the plan book YAML.
        inputs: Input name -> checksum (sha256 of a file or frame, or a given checksum).
        periods: Period labels the run computed.
        payouts: Recorded payouts (engine columns + ``locked``, ``adjustment``, ``payout_due``).
        lines: Recorded lines (engine columns + ``locked``; adjustment lines included).
        adjustments: Prior-period adjustments this run posted (:data:`ADJUSTMENT_COLUMNS`).
        folder: The run's folder in the ledger.
        plan_text: The plan book text the run used, when it was recorded.
    """

    run_id: str
    seq: int
    recorded_at: str
    as_of: dt.date
    plan_version: str
    inputs: Mapping[str, str]
    periods: tuple[str, ...]
    payouts: pd.DataFrame
    lines: pd.DataFrame
    adjustments: pd.DataFrame
    folder: Path
    plan_text: str | None = None


@dataclass(frozen=True)
class PeriodLock:
    """A locked period: who locked it, when, why, and the run whose rows it froze."""

    period: str
    period_start: dt.date
    period_end: dt.date
    locked_at: str
    by: str
    reason: str
    run_id: str
    path: Path


def load_run(ledger_dir: Path, run_id: str) -> PayoutRun:
    """Read one run of the ledger, checking every file against its manifest.

    Raises:
        ParameterError: If the ledger has no run ``run_id``.
        ContractError: If a file of the run is missing or changed after it was written.
    """
    folder = Path(ledger_dir) / files.RUNS / str(run_id)
    if str(run_id) not in {p.name for p in files.run_folders(ledger_dir)}:
        raise ParameterError(f"payout ledger {ledger_dir}: no run {run_id!r}")
    return _read_run(folder)


def _read_run(folder: Path, with_lines: bool = True) -> PayoutRun:
    manifest = files.read_manifest(folder)
    empty = pd.DataFrame()
    return PayoutRun(
        run_id=manifest["run_id"],
        seq=int(manifest["seq"]),
        recorded_at=str(manifest["recorded_at"]),
        as_of=dt.date.fromisoformat(manifest["as_of"]),
        plan_version=str(manifest["plan_version"]),
        inputs=dict(manifest["inputs"]),
        periods=tuple(manifest["periods"]),
        payouts=files.read_frame(folder, "payouts", manifest),
        lines=files.read_frame(folder, "lines", manifest) if with_lines else empty,
        adjustments=_with_run_id(files.read_frame(folder, "adjustments", manifest), manifest),
        folder=folder,
        plan_text=files.read_plan_text(folder),
    )


def latest_run(ledger_dir: Path) -> PayoutRun | None:
    """The most recently recorded run, or ``None`` for an empty ledger."""
    folders = files.run_folders(ledger_dir)
    return _read_run(folders[-1]) if folders else None


def list_runs(ledger_dir: Path) -> pd.DataFrame:
    """One row per recorded run, oldest first.

    Returns:
        A new frame: ``run_id``, ``seq``, ``recorded_at``, ``as_of``, ``plan_version``,
        ``periods`` (comma-separated labels), ``reps``, ``payout_due`` (total),
        ``adjustments`` (count posted by the run).
    """
    rows = []
    for folder in files.run_folders(ledger_dir):
        run = _read_run(folder, with_lines=False)
        rows.append(
            {
                "run_id": run.run_id,
                "seq": run.seq,
                "recorded_at": run.recorded_at,
                "as_of": run.as_of,
                "plan_version": run.plan_version,
                "periods": ",".join(run.periods),
                "reps": int(run.payouts["rep_id"].nunique()),
                "payout_due": _cents(run.payouts["payout_due"]).sum() / 100,
                "adjustments": len(run.adjustments),
            }
        )
    columns = ["run_id", "seq", "recorded_at", "as_of", "plan_version", "periods", "reps"]
    return pd.DataFrame(rows, columns=[*columns, "payout_due", "adjustments"])


def locked_periods(ledger_dir: Path) -> pd.DataFrame:
    """Every locked period, in the order they were locked.

    Returns:
        A new frame with :data:`LOCK_COLUMNS` (``period_start``/``period_end`` as dates).
    """
    records = files.lock_files(ledger_dir)
    frame = pd.DataFrame(records, columns=LOCK_COLUMNS)
    for column in ("period_start", "period_end"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def lock_period(
    ledger_dir: Path, period: str, *, by: str, reason: str = "", now: str | None = None
) -> PeriodLock:
    """Lock a period: its rows in the latest run that computed it become final.

    Args:
        ledger_dir: The payout ledger folder.
        period: ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``.
        by: Who locks it (recorded).
        reason: Why (recorded; may be empty).
        now: The lock time as ISO text (tests); defaults to the current UTC time.

    Returns:
        The lock.

    Raises:
        ParameterError: If the label is not a period, no recorded run has a row in it, or the
            period is already locked (a lock is permanent).
    """
    start, end = files.period_range(period)
    with files.writer_lock(ledger_dir):
        return _lock(Path(ledger_dir), period, start, end, by, reason, now)


def _lock(
    ledger_dir: Path,
    period: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: str,
    reason: str,
    now: str | None,
) -> PeriodLock:
    """:func:`lock_period` under the writer lock."""
    latest = None
    for folder in reversed(files.run_folders(ledger_dir)):
        run = _read_run(folder, with_lines=False)
        if in_locks(run.payouts["period"], [(start, end)]).any():
            latest = run
            break
    if latest is None:
        raise ParameterError(
            f"payout ledger {ledger_dir}: no recorded payout run has a row in period {period}; "
            "calculate it (salesops comp calculate) before locking it"
        )
    record: dict[str, Any] = {
        "period": period,
        "period_start": start.date().isoformat(),
        "period_end": end.date().isoformat(),
        "locked_at": now or files.utc_now(),
        "by": str(by),
        "reason": str(reason),
        "run_id": latest.run_id,
    }
    path = files.write_lock(ledger_dir, record)
    return PeriodLock(
        period=period,
        period_start=start.date(),
        period_end=end.date(),
        locked_at=record["locked_at"],
        by=record["by"],
        reason=record["reason"],
        run_id=latest.run_id,
        path=path,
    )


def adjustments_since(ledger_dir: Path, run_id: str | None = None) -> pd.DataFrame:
    """Prior-period adjustments posted by the runs recorded after ``run_id``.

    Args:
        ledger_dir: The payout ledger folder.
        run_id: A recorded run; ``None`` returns every adjustment of the ledger.

    Returns:
        A new frame: :data:`ADJUSTMENT_COLUMNS` plus ``recorded_at``, oldest first.

    Raises:
        ParameterError: If ``run_id`` is not a run of the ledger.
    """
    folders = files.run_folders(ledger_dir)
    names = [p.name for p in folders]
    if run_id is not None and run_id not in names:
        raise ParameterError(f"payout ledger {ledger_dir}: no run {run_id!r}")
    start = 0 if run_id is None else names.index(run_id) + 1
    parts = []
    for folder in folders[start:]:
        run = _read_run(folder, with_lines=False)
        parts.append(run.adjustments.assign(recorded_at=run.recorded_at))
    columns = [*ADJUSTMENT_COLUMNS, "recorded_at"]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=_adjustment_dtype(c)) for c in columns})
    return pd.concat(parts, ignore_index=True)[columns]


def _adjustment_dtype(column: str) -> str:
    return "float64" if column in ("old_value", "new_value", "amount") else "object"


def _cents(values: pd.Series) -> pd.Series:
    return np.round(pd.to_numeric(values).astype("float64").fillna(0.0) * 100).astype("int64")


def _validated(result: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    payouts, lines = getattr(result, "payouts", None), getattr(result, "lines", None)
    if not isinstance(payouts, pd.DataFrame) or not isinstance(lines, pd.DataFrame):
        raise ParameterError("record_payout_run: result must be a PayoutResult (payouts, lines)")
    require_columns(payouts, PAYOUT_KEY_COLUMNS, "record_payout_run: result.payouts")
    require_columns(lines, LINE_KEY_COLUMNS, "record_payout_run: result.lines")
    if payouts.empty:
        raise ParameterError("record_payout_run: result.payouts has no rows; nothing to record")
    duplicated = payouts.duplicated(KEY)
    if duplicated.any():
        row = payouts[duplicated].iloc[0]
        raise ParameterError(
            f"record_payout_run: result.payouts: rep {row['rep_id']!r}, plan {row['plan_id']!r}, "
            f"period {row['period']!r} appears twice; one row per rep x plan x period"
        )
    for label in payouts["period"].unique():
        files.period_range(label)
    return payouts.reset_index(drop=True), lines.reset_index(drop=True)


def _ledger_state(ledger_dir: Path) -> dict[str, Any]:
    """Locks, paid rows/lines of locked periods, posted adjustments, the previous computed lines."""
    folders = files.run_folders(ledger_dir)
    runs: dict[str, PayoutRun] = {}

    def run_of(name: str) -> PayoutRun:
        if name not in runs:
            runs[name] = load_run(ledger_dir, name)
        return runs[name]

    locks = files.lock_files(ledger_dir)
    paid_rows, paid_lines, claimed = [], [], pd.DataFrame(columns=KEY)
    for lock in locks:
        run = run_of(lock["run_id"])
        window = [(pd.Timestamp(lock["period_start"]), pd.Timestamp(lock["period_end"]))]
        rows = run.payouts[in_locks(run.payouts["period"], window)]
        rows = rows.merge(claimed, on=KEY, how="left", indicator=True)
        rows = rows[rows["_merge"] == "left_only"].drop(columns="_merge")
        claimed = pd.concat([claimed, rows[KEY]], ignore_index=True)
        paid_rows.append(rows)
        paid_lines.append(run.lines.merge(rows[KEY], on=KEY))
    adjustments = [_adjustments_of(folder) for folder in folders]
    previous = run_of(folders[-1].name) if folders and locks else None  # only for reasons
    computed = pd.DataFrame(columns=LINE_KEY_COLUMNS)
    if previous is not None:
        own = previous.lines[~previous.lines["locked"] & (previous.lines["kind"] != "adjustment")]
        recomputed = files.read_frame(
            previous.folder, "recomputed", files.read_manifest(previous.folder)
        )
        computed = pd.concat([own, recomputed], ignore_index=True)
    return {
        "locks": locks,
        "paid_rows": _concat(paid_rows),
        "paid_lines": _concat(paid_lines),
        "adjustments": _concat(adjustments, ADJUSTMENT_COLUMNS),
        "computed_lines": computed,
    }


def _concat(frames: list[pd.DataFrame], columns: list[str] | None = None) -> pd.DataFrame:
    non_empty = [f for f in frames if not f.empty]
    if not non_empty:
        return frames[0] if frames else pd.DataFrame(columns=columns or KEY)
    return pd.concat(non_empty, ignore_index=True)


def record_payout_run(
    ledger_dir: Path,
    result: Any,
    *,
    inputs: Mapping[str, Path | pd.DataFrame | str],
    plan_version: str,
    as_of: dt.date,
    plan_text: str | None = None,
    reason: str = "",
    now: str | None = None,
) -> PayoutRun:
    """Record one calculation in the ledger, posting adjustments for locked periods.

    Args:
        ledger_dir: The payout ledger folder (``Settings.comp_ledger_dir``); created if missing.
        result: The engine's ``PayoutResult`` (``payouts`` and ``lines`` frames).
        inputs: Name -> input (a file, a frame, or a checksum string), e.g.
            ``{"credits": Path("credits.csv"), "quotas": quotas_frame}``.
        plan_version: The plan book's version (``PlanBook.version``).
        as_of: The date the calculation is for (the snapshot date or today).
        plan_text: The plan book YAML (``PlanBook.text``), stored with the run for statements.
        reason: Why the inputs changed (a cancelled deal, a corrected split); prefixed to the
            generated reason of every adjustment this run posts.
        now: The recording time as ISO text (tests); defaults to the current UTC time.

    Returns:
        The recorded run, read back from the ledger.

    Raises:
        ParameterError: If the result lacks the contract's columns, has no rows, repeats a
            rep x plan x period, or has a period label of another form.
        ContractError: If a file already in the ledger is foreign or changed.
    """
    payouts, lines = _validated(result)
    with files.writer_lock(ledger_dir):
        return _record(
            ledger_dir, payouts, lines, inputs, plan_version, as_of, plan_text, reason, now
        )


def _record(
    ledger_dir: Path,
    payouts: pd.DataFrame,
    lines: pd.DataFrame,
    inputs: Mapping[str, Path | pd.DataFrame | str],
    plan_version: str,
    as_of: dt.date,
    plan_text: str | None,
    reason: str,
    now: str | None,
) -> PayoutRun:
    """:func:`record_payout_run` under the writer lock."""
    state = _ledger_state(ledger_dir)
    ranges = lock_ranges(state["locks"])
    is_locked = in_locks(payouts["period"], ranges)
    covered_labels = set(payouts.loc[is_locked, "period"])
    covered_reps = set(payouts["rep_id"])
    paid = state["paid_rows"]
    if not paid.empty:
        paid = paid[paid["period"].isin(covered_labels) & paid["rep_id"].isin(covered_reps)]
    line_is_locked = np.zeros(len(lines), dtype=bool)
    if is_locked.any():
        marked = lines[KEY].merge(payouts.loc[is_locked, KEY], on=KEY, how="left", indicator=True)
        line_is_locked = (marked["_merge"] == "both").to_numpy()
    new_adjustments = price_adjustments(
        paid=paid,
        recomputed=payouts[is_locked],
        posted=state["adjustments"],
        old_lines=state["computed_lines"],
        new_lines=lines[line_is_locked],
        ranges=ranges,
        reason=reason,
    )
    seq = files.next_sequence(ledger_dir)
    kept_lines = state["paid_lines"]
    if not kept_lines.empty:
        kept_lines = kept_lines.merge(paid[KEY], on=KEY)
    recorded_payouts, adjustment_lines = attach_adjustments(
        unlocked=payouts[~is_locked],
        paid=paid,
        posted=state["adjustments"],
        new=new_adjustments,
        covered_reps=covered_reps,
    )
    recorded_lines = _concat(
        [
            lines[~line_is_locked].assign(locked=False),
            kept_lines.assign(locked=True) if not kept_lines.empty else kept_lines,
            adjustment_lines,
        ],
        LINE_KEY_COLUMNS,
    )
    if not (kept_lines.empty and adjustment_lines.empty):  # else: the engine's order, as is
        recorded_lines = recorded_lines.sort_values(
            ["rep_id", "period", "plan_id"], kind="stable", ignore_index=True
        )
    manifest = {
        "seq": seq,
        "recorded_at": now or files.utc_now(),
        "as_of": as_of.isoformat(),
        "plan_version": str(plan_version),
        "inputs": {str(k): files.input_checksum(v) for k, v in sorted(inputs.items())},
        "periods": sorted(set(payouts["period"])),
        "reason": str(reason),
    }
    frames = {
        "payouts": recorded_payouts,
        "lines": recorded_lines,
        "adjustments": new_adjustments,
        "recomputed": lines[line_is_locked].assign(locked=False),
    }
    run_id, folder = files.write_run(ledger_dir, manifest, frames, plan_text)
    return PayoutRun(
        run_id=run_id,
        seq=seq,
        recorded_at=str(manifest["recorded_at"]),
        as_of=as_of,
        plan_version=str(plan_version),
        inputs=dict(manifest["inputs"]),
        periods=tuple(manifest["periods"]),
        payouts=recorded_payouts,
        lines=recorded_lines,
        adjustments=_with_run_id(new_adjustments, {"run_id": run_id}),
        folder=folder,
        plan_text=plan_text,
    )


def _adjustments_of(folder: Path) -> pd.DataFrame:
    manifest = files.read_manifest(folder)
    return _with_run_id(files.read_frame(folder, "adjustments", manifest), manifest)


def _with_run_id(adjustments: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    """Stored adjustments lack ``run_id`` (the id hashes the content); add it when read."""
    return adjustments.assign(run_id=str(manifest["run_id"]))[ADJUSTMENT_COLUMNS]
