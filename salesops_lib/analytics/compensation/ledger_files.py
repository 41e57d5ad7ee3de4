"""Files of the append-only payout ledger: period labels, run folders, lock files, checksums.

Layout of a ledger folder (``Settings.comp_ledger_dir``, ``comp_ledger/`` beside the snapshots)::

    runs/<run_id>/run.json            manifest: run id, sequence, time, as-of, plan version,
                                      inputs' checksums, periods, sha256 of every file below
    runs/<run_id>/payouts.parquet     one row per rep x plan x period, as recorded
    runs/<run_id>/lines.parquet       the statement lines (computed, locked, adjustments)
    runs/<run_id>/adjustments.parquet prior-period adjustments posted by this run
    runs/<run_id>/recomputed.parquet  the engine's own lines for locked periods (audit, reasons)
    runs/<run_id>/plans.yml           the plan book text the run used (when given)
    locks/<period>.json               one file per locked period

A run folder is written into a hidden temporary folder and renamed into place in one step; a
lock file is written to a temporary file and hard-linked to its name, which fails if the name
exists. Nothing is ever rewritten or deleted. Folder and file names come only from validated
period labels and hashes, never from data. Reading a run re-checks every file's sha256 against
its manifest, so a file changed after writing is caught.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from salesops_lib.core.errors import ContractError, ParameterError

RUNS = "runs"
LOCKS = "locks"
RUN_FILES = ("payouts", "lines", "adjustments", "recomputed")
PLAN_FILE = "plans.yml"
MANIFEST = "run.json"

_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")
_RUN_ID = re.compile(r"^(\d{6})-([0-9a-f]{16})$")
_REWRITE_RULE = "a run is never rewritten: move the folder out of the ledger and calculate again"


def period_range(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a period label ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``.

    Raises:
        ParameterError: If the label has another form.
    """
    match = _PERIOD.match(str(label))
    if match is None:
        raise ParameterError(
            f"period {label!r} is not a period label; use YYYY-MM, YYYY-Qn or YYYY"
        )
    year = int(match[1])
    if match[2]:
        start = pd.Timestamp(year, int(match[2]), 1)
        end = start + pd.offsets.MonthEnd(0)
    elif match[3]:
        start = pd.Timestamp(year, 3 * int(match[3]) - 2, 1)
        end = start + pd.offsets.QuarterEnd(0)
    else:
        start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    return start, pd.Timestamp(end)


def next_period(label: str) -> str:
    """The period of the same grain right after ``label`` (``2026-12`` -> ``2027-01``)."""
    match = _PERIOD.match(str(label))
    if match is None:
        period_range(label)  # raises the standard message
    assert match is not None
    year = int(match[1])
    if match[2]:
        month = int(match[2]) % 12 + 1
        return f"{year + (month == 1)}-{month:02d}"
    if match[3]:
        quarter = int(match[3]) % 4 + 1
        return f"{year + (quarter == 1)}-Q{quarter}"
    return str(year + 1)


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def input_checksum(value: Path | pd.DataFrame | str) -> str:
    """Checksum of one calculation input.

    Args:
        value: A file (sha256 of its bytes), a frame (sha256 of its column names and pandas'
            row hashes) or a string recorded as given (a snapshot checksum, say).
    """
    if isinstance(value, pd.DataFrame):
        digest = hashlib.sha256("\0".join(map(str, value.columns)).encode("utf-8"))
        digest.update(pd.util.hash_pandas_object(value, index=False).to_numpy().tobytes())
        return digest.hexdigest()
    if isinstance(value, Path):
        try:
            return sha256_bytes(value.read_bytes())
        except OSError as exc:
            raise ParameterError(f"{value}: cannot read input to checksum it ({exc})") from None
    return str(value)


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(
        buffer, index=False, engine="pyarrow", compression="zstd"
    )
    return buffer.getvalue()


def run_folders(ledger_dir: Path) -> list[Path]:
    """Run folders of a ledger, oldest first (by sequence, then id); foreign names are errors."""
    folder = Path(ledger_dir) / RUNS
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if path.name.startswith("."):
            continue  # an interrupted write; never part of the ledger
        if not path.is_dir() or _RUN_ID.match(path.name) is None:
            raise ContractError(
                f"payout ledger: {path}: not a run folder written by record_payout_run "
                "(move it out of the ledger)"
            )
        found.append(path)
    return sorted(found, key=lambda p: p.name)


def next_sequence(ledger_dir: Path) -> int:
    """1 + the largest run sequence in the ledger (1 for an empty ledger)."""
    folders = run_folders(ledger_dir)
    return 1 + max((int(p.name[:6]) for p in folders), default=0)


def write_run(
    ledger_dir: Path,
    manifest: dict[str, Any],
    frames: dict[str, pd.DataFrame],
    plan_text: str | None,
) -> tuple[str, Path]:
    """Write one run folder atomically; return its run id and folder.

    The run id is ``<sequence:06d>-<first 16 hex of the sha256 of the manifest>``; the manifest
    holds the sha256 of every file, so the id depends on the whole content.
    """
    payloads = {f"{name}.parquet": _parquet_bytes(frames[name]) for name in RUN_FILES}
    if plan_text is not None:
        payloads[PLAN_FILE] = plan_text.encode("utf-8")
    manifest = {**manifest, "files": {n: sha256_bytes(b) for n, b in sorted(payloads.items())}}
    body = json.dumps(manifest, sort_keys=True, indent=2).encode("utf-8")
    run_id = f"{int(manifest['seq']):06d}-{sha256_bytes(body)[:16]}"
    manifest_bytes = json.dumps({**manifest, "run_id": run_id}, sort_keys=True, indent=2)
    runs = Path(ledger_dir) / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=runs, prefix=f".{run_id}."))
    try:
        for name, data in [*payloads.items(), (MANIFEST, manifest_bytes.encode("utf-8"))]:
            with (temporary / name).open("wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        target = runs / run_id
        if target.exists():
            raise ContractError(f"payout ledger: {target} exists already; runs are never rewritten")
        os.rename(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return run_id, target


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read a run folder's manifest and check it names the folder."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(
            f"payout ledger: {folder}: unreadable {MANIFEST} ({exc}); {_REWRITE_RULE}"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("run_id") != folder.name:
        raise ContractError(
            f"payout ledger: {folder}: run_id in {MANIFEST} differs from the folder; "
            f"{_REWRITE_RULE}"
        )
    return manifest


def read_frame(folder: Path, name: str, manifest: dict[str, Any]) -> pd.DataFrame:
    """Read one parquet file of a run folder after checking its sha256 against the manifest."""
    file_name = f"{name}.parquet"
    path = folder / file_name
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    if sha256_bytes(data) != manifest.get("files", {}).get(file_name):
        raise ContractError(
            f"payout ledger: {path}: missing or changed after it was written (sha256 differs "
            f"from {MANIFEST}); {_REWRITE_RULE}"
        )
    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")


def read_plan_text(folder: Path) -> str | None:
    """The plan book text stored with a run, if any."""
    path = folder / PLAN_FILE
    return path.read_text(encoding="utf-8") if path.is_file() else None


def lock_files(ledger_dir: Path) -> list[dict[str, Any]]:
    """Every lock record, oldest first (by lock time, then period)."""
    folder = Path(ledger_dir) / LOCKS
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        label = path.name.removesuffix(".json")
        if not path.name.endswith(".json") or _PERIOD.match(label) is None:
            raise ContractError(
                f"payout ledger: {path}: not a lock file written by lock_period "
                "(move it out of the ledger)"
            )
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ContractError(f"payout ledger: {path}: unreadable lock file ({exc})") from None
        if record.get("period") != label:
            raise ContractError(f"payout ledger: {path}: period inside differs from its name")
        records.append(record)
    return sorted(records, key=lambda r: (r["locked_at"], r["period"]))


def write_lock(ledger_dir: Path, record: dict[str, Any]) -> Path:
    """Write a lock file once; an existing lock for the period is an error, never replaced."""
    folder = Path(ledger_dir) / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{record['period']}.json"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{record['period']}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(json.dumps(record, sort_keys=True, indent=2).encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, target)
        except FileExistsError:
            existing = json.loads(target.read_text(encoding="utf-8"))
            raise ParameterError(
                f"period {record['period']} is already locked (by {existing.get('by')!r} at "
                f"{existing.get('locked_at')}); a lock is permanent and later changes post as "
                "adjustments"
            ) from None
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target


@contextlib.contextmanager
def writer_lock(ledger_dir: Path) -> Iterator[None]:
    """Hold the ledger's writer lock (``.writer.lock``, an advisory ``flock``) for a block.

    Two calculations recorded at once would both price their adjustments against the same
    booked values and post them twice; the lock makes recording and locking one at a time.
    """
    folder = Path(ledger_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".writer.lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def utc_now() -> str:
    """The current UTC time as ISO text with seconds (``2026-11-29T12:00:00+00:00``)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
