"""Forecast submissions: reps' and managers' weekly quarter calls, validated and stored append-only.

A *submission* is a small file of calls for one *week* (a snapshot date). Each call says who
submits (``submitted_by``), for whom (``for_id``), a ``category`` (``commit``, ``best_case`` or
``most_likely``), an ``amount`` (the quarter total, money) and an optional ``note``:

* a rep submits for themself only;
* a first-line manager submits for themself (the **team override**: the team's number, with a
  note saying why) or for a rep whose ``manager_id`` is theirs.

Files (at most :data:`MAX_FILE_BYTES`):

* CSV: header ``submitted_by,for_id,category,amount,note`` (``note`` optional), one call a row;
* YAML: ``submitted_by: ID`` and ``calls:``, a list of ``{for_id, category, amount, note}``
  (``for_id`` defaults to ``submitted_by``).

Layout: ``<submissions_dir>/<week>/`` beside the snapshots folder (:func:`submissions_dir_for`).
``salesops submit`` validates a file against the week's snapshot (``reps``: rep_id, role,
manager_id) and writes it as ``<submitted_at>-<sha12>.parquet`` (temporary file, then
:func:`os.replace`); nothing is stored when any row is wrong. Files are never rewritten: a
resubmission is a newer version, and the latest version of each submitter and week counts.
CSV or YAML files dropped into a week's folder by hand are versions too (dated by their
modification time) and are validated when loaded, with the same errors.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from salesops_lib.core.errors import WorkbenchError
from salesops_lib.data.snapshot import list_snapshots, open_snapshot, read_table

CATEGORIES: tuple[str, ...] = ("commit", "best_case", "most_likely")
"""Forecast categories a call may name."""
CALL_COLUMNS: tuple[str, ...] = ("submitted_by", "for_id", "category", "amount", "note")
"""Columns of a CSV submission (``note`` optional)."""
STORED_COLUMNS: list[str] = [
    "week",
    "submitted_at",
    "version_id",
    *CALL_COLUMNS,
    "source_row",
]
"""Columns of a loaded submission version (one row per call)."""
MAX_FILE_BYTES = 1 << 20
MAX_ROWS = 10_000
MAX_AMOUNT = 1e12
MAX_NOTE = 500
DROPPED_SUFFIXES = (".csv", ".yml", ".yaml")


class SubmissionError(WorkbenchError):
    """A forecast submission is unreadable or breaks a rule (names file, row, column, rule)."""


def submissions_dir_for(snapshots_dir: Path) -> Path:
    """The submissions folder of a snapshots folder: ``submissions`` beside it."""
    return Path(snapshots_dir).parent / "submissions"


def check_week(snapshots_dir: Path, week: str | dt.date | None) -> dt.date:
    """The week (a snapshot date) a submission is for: ``week``, or the latest snapshot.

    Raises:
        SubmissionError: If the date is not ``YYYY-MM-DD`` or no snapshot has that date.
    """
    available = list_snapshots(snapshots_dir)
    if not available:
        raise SubmissionError(f"no snapshots in {snapshots_dir}: a submission needs its week's")
    if week is None or week == "":
        return available[-1]
    try:
        day = week if isinstance(week, dt.date) else dt.date.fromisoformat(str(week))
    except ValueError:
        raise SubmissionError(f"week {week!r}: not a date YYYY-MM-DD") from None
    if day not in available:
        shown = ", ".join(d.isoformat() for d in available[-5:])
        raise SubmissionError(
            f"week {day.isoformat()}: no snapshot of that date in {snapshots_dir} "
            f"(submissions are per weekly snapshot; latest: {shown})"
        )
    return day


def week_reps(snapshots_dir: Path, week: dt.date) -> pd.DataFrame:
    """The week's snapshot ``reps`` rows: ``rep_id``, ``role``, ``manager_id``."""
    snapshot = open_snapshot(snapshots_dir, week, verify=False)
    return read_table(snapshot, "reps", ["rep_id", "role", "manager_id"]).to_pandas()


def _fail(label: str, where: str, column: str | None, rule: str) -> SubmissionError:
    place = f"{label}: {where}" + (f", column {column}" if column else "")
    return SubmissionError(f"{place}: {rule}")


def read_calls(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Read a CSV or YAML submission file into ``(row label, raw call)`` pairs.

    Raises:
        SubmissionError: If the file is missing, too large, not UTF-8, or not of the shape above.
    """
    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise SubmissionError(f"{label}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SubmissionError(f"{label}: larger than {MAX_FILE_BYTES:,} bytes")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionError(f"{label}: not UTF-8 text") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_calls(label, text)
    if suffix in (".yml", ".yaml"):
        return _yaml_calls(label, text)
    raise SubmissionError(f"{label}: a submission is a .csv, .yml or .yaml file")


def _csv_calls(label: str, text: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in CALL_COLUMNS[:4] if c not in header]
    unknown = [h for h in header if h not in CALL_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise _fail(
            label,
            "line 1 (header)",
            None,
            f"columns must be {','.join(CALL_COLUMNS)} (note optional), each once; "
            f"missing {missing or 'none'}, unknown {unknown or 'none'}",
        )
    calls = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        where = f"line {reader.line_num}"
        if len(values) != len(header):
            raise _fail(label, where, None, f"{len(values)} fields, the header has {len(header)}")
        calls.append((where, dict(zip(header, values, strict=True))))
    return calls


def _yaml_calls(label: str, text: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "document"
        raise _fail(label, where, None, "not valid YAML") from None
    if not isinstance(document, dict) or not isinstance(document.get("calls"), list):
        raise _fail(label, "document", None, "expected 'submitted_by: ID' and a 'calls:' list")
    unknown = sorted(set(document) - {"submitted_by", "calls"})
    if unknown:
        raise _fail(label, "document", unknown[0], "unknown key")
    calls = []
    for i, call in enumerate(document["calls"]):
        where = f"calls[{i}]"
        if not isinstance(call, dict):
            raise _fail(label, where, None, "each call is a mapping of for_id, category, amount")
        extra = sorted(set(call) - set(CALL_COLUMNS[1:]))
        if extra:
            raise _fail(label, where, str(extra[0]), "unknown key")
        row = {"submitted_by": document.get("submitted_by"), **call}
        row.setdefault("for_id", document.get("submitted_by"))
        calls.append((where, row))
    return calls


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _amount(label: str, where: str, value: Any) -> float:
    if isinstance(value, bool):
        raise _fail(label, where, "amount", "must be a number")
    try:
        amount = float(value) if isinstance(value, int | float) else float(_text(value))
    except ValueError:
        raise _fail(label, where, "amount", "must be a plain number like 125000.50") from None
    if not math.isfinite(amount) or not 0 <= amount <= MAX_AMOUNT:
        raise _fail(label, where, "amount", f"must be between 0 and {MAX_AMOUNT:,.0f}")
    return amount


def validate_calls(
    label: str, calls: list[tuple[str, dict[str, Any]]], reps: pd.DataFrame
) -> pd.DataFrame:
    """Check every call against the week's reps and return them as rows.

    Args:
        label: The file's name, for messages.
        calls: ``(row label, raw call)`` pairs (:func:`read_calls`).
        reps: The week's ``reps`` rows (``rep_id``, ``role``, ``manager_id``).

    Returns:
        A new frame: :data:`CALL_COLUMNS` plus ``source_row``.

    Raises:
        SubmissionError: At the first broken rule (file, row, column, rule).
    """
    if not calls:
        raise SubmissionError(f"{label}: no calls")
    if len(calls) > MAX_ROWS:
        raise SubmissionError(f"{label}: more than {MAX_ROWS:,} calls")
    role = dict(zip(reps["rep_id"], reps["role"], strict=True))
    manager = dict(zip(reps["rep_id"], reps["manager_id"], strict=True))
    rows, seen = [], {}
    for where, call in calls:
        by, for_id = _text(call.get("submitted_by")), _text(call.get("for_id"))
        category, note = _text(call.get("category")), _text(call.get("note"))
        for column, person in (("submitted_by", by), ("for_id", for_id)):
            if person not in role:
                raise _fail(label, where, column, f"unknown rep {person!r} in the week's snapshot")
        if role[by] != "manager" and for_id != by:
            raise _fail(label, where, "for_id", f"rep {by} may submit only for themself")
        if role[by] == "manager" and for_id != by and manager.get(for_id) != by:
            raise _fail(label, where, "for_id", f"{for_id} is not in manager {by}'s team")
        if category not in CATEGORIES:
            raise _fail(label, where, "category", f"must be one of {', '.join(CATEGORIES)}")
        amount = _amount(label, where, call.get("amount"))
        if len(note) > MAX_NOTE:
            raise _fail(label, where, "note", f"longer than {MAX_NOTE} characters")
        key = (by, for_id, category)
        if key in seen:
            raise _fail(label, where, "category", f"repeats the call of {seen[key]}")
        seen[key] = where
        rows.append((by, for_id, category, amount, note or None, where))
    return pd.DataFrame(rows, columns=[*CALL_COLUMNS, "source_row"])


def read_submission(path: Path, snapshots_dir: Path, week: str | dt.date | None) -> pd.DataFrame:
    """Read and validate a submission file for a week (see :func:`validate_calls`)."""
    day = check_week(snapshots_dir, week)
    return validate_calls(str(path), read_calls(path), week_reps(snapshots_dir, day))


def _content_sha(calls: pd.DataFrame) -> str:
    canonical = calls[list(CALL_COLUMNS)].sort_values(list(CALL_COLUMNS[:3]))
    return hashlib.sha256(canonical.to_csv(index=False).encode()).hexdigest()


def store_calls(
    submissions_dir: Path, week: dt.date, calls: pd.DataFrame, submitted_at: str | None = None
) -> tuple[Path, bool]:
    """Append validated calls as a new version of the week (atomic; never rewrites a file).

    Args:
        submissions_dir: The submissions folder.
        week: The week (a snapshot date).
        calls: Validated rows (:func:`validate_calls`).
        submitted_at: ISO timestamp of the version; defaults to now (UTC).

    Returns:
        The version's file and whether it was written (``False``: every submitter's latest
        version already holds exactly these calls).
    """
    folder = Path(submissions_dir) / week.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    digest = _content_sha(calls)
    existing = load_week(folder, None)
    if not existing.empty:
        latest = latest_versions(existing)
        mine = latest[latest["submitted_by"].isin(set(calls["submitted_by"]))]
        same = mine["version_id"].str.endswith(digest[:12]).all()
        if same and set(mine["submitted_by"]) == set(calls["submitted_by"]):
            return folder / f"{mine['version_id'].iloc[0]}.parquet", False
    stamp = submitted_at or dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    version_id = f"{stamp.replace(':', '').replace('+', 'p')}-{digest[:12]}"
    frame = calls.assign(week=week.isoformat(), submitted_at=stamp, version_id=version_id)
    target = folder / f"{version_id}.parquet"
    if target.exists():  # the same version, stored before: never rewritten
        return target, False
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    os.close(handle)
    try:
        frame[STORED_COLUMNS].to_parquet(temporary, index=False)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target, True


def load_week(folder: Path, reps: pd.DataFrame | None) -> pd.DataFrame:
    """Every version in one week's folder (stored parquet, and dropped files when ``reps`` given).

    Raises:
        SubmissionError: If a dropped file breaks a rule.
    """
    parts = []
    for path in sorted(Path(folder).iterdir()) if Path(folder).is_dir() else []:
        if path.name.startswith((".", "_")) or not path.is_file():
            continue
        if path.suffix == ".parquet":
            parts.append(pd.read_parquet(path))
        elif path.suffix.lower() in DROPPED_SUFFIXES and reps is not None:
            calls = validate_calls(str(path), read_calls(path), reps)
            mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
            stamp = mtime.isoformat(timespec="microseconds")
            parts.append(
                calls.assign(week=Path(folder).name, submitted_at=stamp, version_id=path.name)
            )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in STORED_COLUMNS})
    return pd.concat([p[STORED_COLUMNS] for p in parts], ignore_index=True)


def load_submissions(
    submissions_dir: Path, snapshots_dir: Path, through: dt.date | None = None
) -> pd.DataFrame:
    """Every submission version of every week up to ``through`` (all versions, one row a call).

    Week folders whose date has no snapshot are refused (their calls cannot be checked).

    Returns:
        A new frame with :data:`STORED_COLUMNS`, ``week`` as a date, sorted.
    """
    root = Path(submissions_dir)
    snapshots = set(list_snapshots(snapshots_dir))
    parts = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        try:
            week = dt.date.fromisoformat(folder.name)
        except ValueError:
            continue
        if through is not None and week > through:
            continue
        if week not in snapshots:
            raise SubmissionError(f"{folder}: no snapshot of week {week.isoformat()}")
        parts.append(load_week(folder, week_reps(snapshots_dir, week)))
    if not parts:
        return load_week(root / "-", None).assign(week=pd.Series(dtype="datetime64[ns]"))
    frame = pd.concat(parts, ignore_index=True)
    frame["week"] = pd.to_datetime(frame["week"])
    frame["amount"] = frame["amount"].astype(float)
    return frame.sort_values(["week", "submitted_at", "version_id", "source_row"]).reset_index(
        drop=True
    )


def latest_versions(versions: pd.DataFrame) -> pd.DataFrame:
    """The calls that count: each submitter's latest version per week (by time, then id).

    Args:
        versions: Loaded versions (:data:`STORED_COLUMNS`).

    Returns:
        A new frame, the same columns, only the rows of each (week, submitter)'s latest version.
    """
    if versions.empty:
        return versions.copy()
    keys = versions[["week", "submitted_by", "submitted_at", "version_id"]].drop_duplicates()
    latest = (
        keys.sort_values(["submitted_at", "version_id"])
        .groupby(["week", "submitted_by"], as_index=False)
        .tail(1)
    )
    kept = versions.merge(latest, on=list(latest.columns), how="inner")
    return kept.sort_values(["week", "submitted_by", "for_id", "category"]).reset_index(drop=True)


def submissions_fingerprint(submissions_dir: Path, through: dt.date) -> str:
    """A digest of every submission file of the weeks up to ``through`` (for skip-if-unchanged).

    Stored versions are named by their content hash; files dropped by hand count with their
    size and modification time. A new or changed submission changes the digest.
    """
    digest = hashlib.sha256()
    root = Path(submissions_dir)
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not folder.is_dir() or folder.name > through.isoformat():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith((".", "_")) or not path.is_file():
                continue
            stat = path.stat()
            digest.update(f"{folder.name}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
