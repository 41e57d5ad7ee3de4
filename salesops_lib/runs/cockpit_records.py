"""What the cockpit reads from the reports folder: run records, question pages, section anchors.

The reports folder layout (``<as_of>/<region>/<topic>.run.json`` beside each published report,
``<as_of>/_failed/...`` for failures) is defined here, below :mod:`salesops_lib.runs.publish`,
so the page builders can read it without importing the module that calls them.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

FAILED_DIR = "_failed"
RECORD_SUFFIX = ".run.json"
DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
"""Name of an as-of folder under the reports folder."""

_PAGE_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_HEADING_ID = re.compile(rb'<h[1-6] id="([^"]+)"')

RecordKey = tuple[str, str]
"""(region id, topic) of one run record."""


def read_records(folder: Path) -> dict[RecordKey, dict[str, Any]]:
    """The run records of one as-of folder (or its ``_failed`` folder), by (region, topic).

    Args:
        folder: ``reports/<as_of>`` or ``reports/<as_of>/_failed``.

    Returns:
        The parsed records; unreadable files and folders starting with ``.`` or ``_`` are left
        out.
    """
    found: dict[RecordKey, dict[str, Any]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob(f"*/*{RECORD_SUFFIX}")):
        region = path.parent.name
        if region.startswith((".", "_")):
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(record, dict):
            found[(region, path.name.removesuffix(RECORD_SUFFIX))] = record
    return found


def record_headlines(as_of_dir: Path) -> dict[RecordKey, dict[str, Any]]:
    """The headlines of every published report of one as-of folder, by (region, topic)."""
    return {
        key: record.get("headlines") or {}
        for key, record in read_records(as_of_dir).items()
        if isinstance(record.get("headlines") or {}, dict)
    }


def report_dates(reports_dir: Path) -> list[str]:
    """The as-of folders of the reports folder (``YYYY-MM-DD``), oldest first."""
    if not reports_dir.is_dir():
        return []
    return sorted(p.name for p in reports_dir.iterdir() if DATE_DIR.match(p.name) and p.is_dir())


def question_pages(region_dir: Path) -> list[tuple[str, str]]:
    """The analysts' question pages (``q-*.html``) of one region folder: (file name, title)."""
    pages = []
    for path in sorted(region_dir.glob("q-*.html")) if region_dir.is_dir() else []:
        found = _PAGE_TITLE.search(path.read_text(encoding="utf-8", errors="replace")[:4096])
        title = html.unescape(found.group(1)).strip() if found else path.stem
        pages.append((path.name, title))
    return pages


def section_ids(page: Path) -> list[str]:
    """The ids of a report page's headings (nbconvert gives each markdown heading one).

    Args:
        page: A published report's HTML.

    Returns:
        The ids in page order (HTML-unescaped); empty when the page cannot be read.
    """
    try:
        data = page.read_bytes()
    except OSError:
        return []
    return [
        html.unescape(m.group(1).decode("utf-8", "replace")) for m in _HEADING_ID.finditer(data)
    ]


def section_anchor(page: Path, preferred: tuple[str, ...]) -> str | None:
    """The id of the first heading of ``preferred`` the page has, else its first section's.

    Args:
        page: A published report's HTML.
        preferred: Heading ids to look for, best first (``"Pipeline-change-waterfall"``).

    Returns:
        An id present in the page, or ``None`` when the page has no heading with an id.
    """
    ids = section_ids(page)
    for wanted in preferred:
        if wanted in ids:
            return wanted
    return ids[1] if len(ids) > 1 else (ids[0] if ids else None)
