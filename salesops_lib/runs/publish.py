"""Publishing report runs: atomic moves into ``reports/`` and the index pages.

Layout under ``reports_dir``::

    <as_of>/<region>/<topic>.ipynb, .html, .run.json     published (last successful run)
    <as_of>/_failed/<region>/<topic>.ipynb, .run.json    last run failed (never rendered)
    <as_of>/index.html                                   regions x topics, status, headlines
    index.html                                           one link per as-of date

A run is staged in a temporary folder beside its target and moved in with :func:`os.replace`,
so a reader never sees a half-written file; a failed run never touches the published report.
The index pages are built from the run records on disk, so they show every topic ever run for
that date, not only the latest batch. Region names come from run records (CRM text) and are
escaped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import html
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.core.errors import WorkbenchError
from salesops_lib.reports.narrative import format_change, format_money, format_pct
from salesops_lib.runs.render import page_html

FAILED_DIR = "_failed"
RECORD_SUFFIX = ".run.json"
INDEX_LOCK = ".index.lock"
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")

HEADLINE_LABELS: dict[str, tuple[str, str]] = {
    "bookings_12m": ("Bookings 12m", "money"),
    "bookings_growth": ("vs prior 12m", "change"),
    "open_pipeline": ("Open pipeline", "money"),
    "attainment_ytd": ("Attainment YTD", "pct"),
    "bookings_period": ("Bookings in period", "money"),
    "attainment_period": ("Attainment in period", "pct"),
    "pipeline_change": ("Pipeline change", "money"),
    "deals_at_risk": ("Deals at risk", "count"),
    "bottlenecks": ("Stage bottlenecks", "count"),
    "customers": ("Customers", "count"),
    "customers_at_risk": ("Customers at risk", "count"),
    "revenue_at_stake": ("Revenue at stake", "money"),
    "clv_12m_total": ("CLV 12m", "money"),
    "problem_records": ("Problem records", "count"),
}
"""Headline keys shown on the index, with their label and format, in display order; a report
shows those it records."""


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


def _records(folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob(f"*/*{RECORD_SUFFIX}")):
        region = path.parent.name
        if region.startswith((".", "_")):
            continue
        try:
            found[(region, path.name.removesuffix(RECORD_SUFFIX))] = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
    return found


def _format_count(value: float) -> str:
    return f"{round(value):,}"


def headline_text(headlines: Mapping[str, Any]) -> str:
    """Format the known headline numbers for the index (``Bookings 12m $1.2M · ...``)."""
    parts = []
    for key, (label, kind) in HEADLINE_LABELS.items():
        value = headlines.get(key)
        if isinstance(value, int | float):
            formatter = {
                "money": format_money,
                "pct": format_pct,
                "change": format_change,
                "count": _format_count,
            }[kind]
            parts.append(f"{label} {formatter(value)}")
    return " · ".join(parts)


def _region_order(region: str) -> tuple[int, str]:
    return (0 if region == ALL_REGIONS else 1, region)


def _cell(
    region: str,
    topic: str,
    published: dict[str, Any] | None,
    failed: dict[str, Any] | None,
) -> str:
    link = f'<a href="{html.escape(f"{region}/{topic}.html")}">report</a>'
    if failed is not None:
        error = html.escape(str(failed.get("error") or "failed"))
        previous = f"<br>previous {link}" if published is not None else ""
        return f'<span class="status-failed">failed</span> <small>{error}</small>{previous}'
    if published is None:
        return "&ndash;"
    numbers = html.escape(headline_text(published.get("headlines") or {}))
    return f'<span class="status-ok">ok</span> {link}<br><small>{numbers}</small>'


_PAGE_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def question_pages(region_dir: Path) -> list[tuple[str, str]]:
    """The analysts' question pages (``q-*.html``) of one region folder: (file name, title)."""
    pages = []
    for path in sorted(region_dir.glob("q-*.html")) if region_dir.is_dir() else []:
        found = _PAGE_TITLE.search(path.read_text(encoding="utf-8", errors="replace")[:4096])
        title = html.unescape(found.group(1)).strip() if found else path.stem
        pages.append((path.name, title))
    return pages


def _questions_cell(as_of_dir: Path, region: str) -> str:
    links = [
        f'<a href="{html.escape(f"{region}/{name}")}">{html.escape(title)}</a>'
        for name, title in question_pages(as_of_dir / region)
    ]
    return "<br>".join(links) if links else "&ndash;"


def date_index_html(as_of_dir: Path) -> str:
    """Build the index page of one as-of folder from the run records on disk.

    Args:
        as_of_dir: ``reports/<as_of>``.

    Returns:
        The HTML page: one row per region, one column per topic, with status, links relative
        to the page, headline numbers, and escaped region names.
    """
    published = _records(as_of_dir)
    failed = _records(as_of_dir / FAILED_DIR)
    keys = set(published) | set(failed)
    with_questions = (
        {p.name for p in as_of_dir.iterdir() if p.is_dir() and question_pages(p)}
        if as_of_dir.is_dir()
        else set()
    )
    regions = sorted({region for region, _ in keys} | with_questions, key=_region_order)
    topics = sorted({topic for _, topic in keys})
    region_names: dict[str, str] = {}
    for (region, _topic), record in sorted(failed.items()) + sorted(published.items()):
        region_names[region] = str(record.get("region_name") or region)
    for region in with_questions - set(region_names):
        region_names[region] = region
    header = "".join(f"<th>{html.escape(t)}</th>" for t in topics)
    if with_questions:
        header += "<th>questions</th>"
    rows = []
    for region in regions:
        name = html.escape(region_names[region])
        cells = "".join(
            f"<td>{_cell(region, t, published.get((region, t)), failed.get((region, t)))}</td>"
            for t in topics
        )
        if with_questions:
            cells += f"<td>{_questions_cell(as_of_dir, region)}</td>"
        rows.append(f"<tr><th>{name} <small>({html.escape(region)})</small></th>{cells}</tr>")
    body = (
        f'<p><a href="../index.html">All report dates</a></p>'
        f"<table><thead><tr><th>Region</th>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return page_html(
        f"Sales reports as of {as_of_dir.name}",
        body,
        template="index.html",
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def root_index_html(reports_dir: Path) -> str:
    """Build ``reports/index.html``: one link per as-of date that has an index, newest first."""
    dates = (
        sorted(
            (p.name for p in reports_dir.iterdir() if _DATE_DIR.match(p.name) and p.is_dir()),
            reverse=True,
        )
        if reports_dir.is_dir()
        else []
    )
    items = "".join(f'<li><a href="{d}/index.html">{d}</a></li>' for d in dates)
    return page_html(
        "Sales reports",
        f"<ul>{items}</ul>" if items else "<p>No reports yet.</p>",
        template="index.html",
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


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
