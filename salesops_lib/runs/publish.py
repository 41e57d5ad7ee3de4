"""Publishing report runs: atomic moves into ``reports/`` and the index pages.

Layout under ``reports_dir``::

    <as_of>/<region>/<topic>.ipynb, .html, .run.json     published (last successful run)
    <as_of>/_failed/<region>/<topic>.ipynb, .run.json    last run failed (never rendered)
    <as_of>/index.html                                   the cockpit (runs/cockpit.py)
    index.html                                           latest cockpit, every as-of date

A run is staged in a temporary folder beside its target and moved in with :func:`os.replace`,
so a reader never sees a half-written file; a failed run never touches the published report.
The index pages are built from the run records on disk, so they show every topic ever run for
that date, not only the latest batch. Region names come from run records (CRM text) and are
escaped.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from salesops_lib.core.errors import WorkbenchError
from salesops_lib.runs.attachments import published_with
from salesops_lib.runs.cockpit import HEADLINE_LABELS as HEADLINE_LABELS
from salesops_lib.runs.cockpit import date_index_html as date_index_html
from salesops_lib.runs.cockpit import headline_text as headline_text
from salesops_lib.runs.cockpit import root_index_html as root_index_html
from salesops_lib.runs.cockpit_records import FAILED_DIR as FAILED_DIR
from salesops_lib.runs.cockpit_records import RECORD_SUFFIX as RECORD_SUFFIX
from salesops_lib.runs.cockpit_records import question_pages as question_pages

INDEX_LOCK = ".index.lock"


class ReportsWriteError(WorkbenchError):
    """The reports folder cannot be written (disk full, read-only, no permission)."""

    exit_code = 1


def write_error(what: str, exc: OSError) -> str:
    """One line naming what could not be written, where, and why (``[Errno 28] ...``)."""
    where = f" {exc.filename}" if exc.filename else ""
    return f"cannot write {what}{where}: {exc.strerror or exc} (errno {exc.errno})"


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file through a temporary file in the same folder and rename it into place.

    On any error (a full disk, say) the temporary file is removed and ``path`` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)  # mkstemp makes it private; reports are meant to be read
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def check_writable(folder: Path) -> None:
    """Check that files can be created in ``folder`` (made if missing) before any run starts.

    Raises:
        ReportsWriteError: If the folder cannot be made or written (read-only, full, denied).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ReportsWriteError(write_error("to the reports folder", exc)) from None


def _replace_all(moves: list[tuple[Path, Path]], backup_dir: Path) -> None:
    """Rename each (source, target) into place; on an error put every target back as it was.

    Each existing target is first hard-linked into ``backup_dir``, so a failure part-way
    restores the earlier files and removes the new ones: the set is replaced whole or not at all.
    """
    backups: dict[Path, Path | None] = {}
    try:
        for _source, target in moves:
            backup = backup_dir / f".old-{target.name}"
            if target.exists():
                os.link(target, backup)
                backups[target] = backup
            else:
                backups[target] = None
        for source, target in moves:
            os.replace(source, target)
    except BaseException:
        for target, backup in backups.items():
            with contextlib.suppress(OSError):
                if backup is None:
                    target.unlink(missing_ok=True)
                else:
                    os.replace(backup, target)
        raise


def publish_success(staging_dir: Path, as_of_dir: Path, region: str, topic: str) -> Path:
    """Move a successful run's files into ``<as_of>/<region>/`` and clear its old failure.

    The run record and notebook move first and the HTML last, each with one atomic rename; if a
    rename fails (a full disk, say) the earlier published files are put back, so the published
    report is either the old one or the new one, never a mix.

    Args:
        staging_dir: Folder holding ``<topic>.ipynb``, ``<topic>.html`` and the run record.
        as_of_dir: ``reports/<as_of>``.
        region: Region id (path-safe).
        topic: Notebook stem such as ``00-overview``.

    Returns:
        The published HTML path.
    """
    target = as_of_dir / region
    target.mkdir(parents=True, exist_ok=True)
    names = [f"{topic}{suffix}" for suffix in (RECORD_SUFFIX, ".ipynb", ".html")]
    with published_with(staging_dir, target):  # attachments (statements, say) go in too
        _replace_all([(staging_dir / name, target / name) for name in names], staging_dir)
    for suffix in (RECORD_SUFFIX, ".ipynb"):
        (as_of_dir / FAILED_DIR / region / f"{topic}{suffix}").unlink(missing_ok=True)
    return target / f"{topic}.html"


def publish_failure(staging_dir: Path, as_of_dir: Path, region: str, topic: str) -> Path:
    """Move a failed run's executed notebook (if any) and run record into ``_failed/<region>/``.

    The published report of an earlier successful run is left as it is.

    Args:
        staging_dir: Folder holding the run record and perhaps ``<topic>.ipynb``.
        as_of_dir: ``reports/<as_of>``.
        region: Region id (path-safe).
        topic: Notebook stem.

    Returns:
        The folder the files went to.
    """
    target = as_of_dir / FAILED_DIR / region
    target.mkdir(parents=True, exist_ok=True)
    notebook = staging_dir / f"{topic}.ipynb"
    record = f"{topic}{RECORD_SUFFIX}"
    if notebook.is_file():
        _replace_all(
            [(staging_dir / record, target / record), (notebook, target / notebook.name)],
            staging_dir,
        )
    else:
        os.replace(staging_dir / record, target / record)
        (target / notebook.name).unlink(missing_ok=True)
    return target


@contextlib.contextmanager
def _index_lock(reports_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``reports/.index.lock`` (one index writer at a time)."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    with open(reports_dir / INDEX_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_indexes(reports_dir: Path, as_of: str) -> tuple[Path, Path]:
    """Write ``reports/<as_of>/index.html`` and ``reports/index.html`` atomically.

    Called after every publish, by whichever process published; a lock makes the writers take
    turns, so the last page written was built after the last publish.

    Args:
        reports_dir: The reports folder.
        as_of: The as-of date folder to index.

    Returns:
        The two index paths (date index, root index).

    Raises:
        ReportsWriteError: If an index cannot be written (the old page stays as it was).
    """
    date_index = reports_dir / as_of / "index.html"
    root_index = reports_dir / "index.html"
    try:
        with _index_lock(reports_dir):
            atomic_write_text(date_index, date_index_html(reports_dir / as_of))
            atomic_write_text(root_index, root_index_html(reports_dir))
    except OSError as exc:
        raise ReportsWriteError(write_error("the report index", exc)) from None
    return date_index, root_index
