"""Generic formatting for executives: money, percentages, changes, and the HTML that carries text.

Report modules write their own sentences from their own numbers; this module only formats values
and wraps plain text in markup, escaping every piece with :func:`html.escape` (region, rep and
account names are untrusted CRM text). :class:`Html` lets a notebook cell display such markup.
It imports no report module.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from salesops_lib.core.text import visible_text


@dataclass(frozen=True)
class Html:
    """Markup that a notebook displays as HTML (build it only from escaped text)."""

    markup: str

    def _repr_html_(self) -> str:
        return self.markup


def format_money(value: float | None) -> str:
    """Format an amount of money for executives: ``$1.2M``, ``$456K``, ``$950``, ``n/a``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "-" if value < 0 else ""
    amount = abs(float(value))
    for limit, suffix in ((1e9, "B"), (1e6, "M")):
        if round(amount / limit, 1) >= 1:
            return f"{sign}${amount / limit:,.1f}{suffix}"
    if round(amount) >= 1000:
        return f"{sign}${amount / 1e3:,.0f}K"
    return f"{sign}${amount:,.0f}"


def format_pct(value: float | None) -> str:
    """Format a ratio as a whole percentage (``0.123`` -> ``12%``); ``None``/NaN -> ``n/a``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value * 100:,.0f}%"


def format_change(value: float | None) -> str:
    """Format a relative change with its sign (``0.25`` -> ``+25%``); ``None``/NaN -> ``n/a``."""
    text = format_pct(value)
    return text if text == "n/a" or text.startswith("-") else f"+{text}"


def paragraph(text: str) -> Html:
    """One plain-text sentence as an escaped HTML paragraph (``<p>…</p>``)."""
    return Html(f"<p>{html.escape(visible_text(text))}</p>")


def bullet_list(sentences: list[str]) -> Html:
    """Plain-text sentences as an escaped HTML list (``<ul class="summary">``)."""
    items = "".join(f"<li>{html.escape(visible_text(s))}</li>" for s in sentences)
    return Html(f'<ul class="summary">{items}</ul>')


def provenance_html(
    snapshot_id: str,
    snapshot_checksum: str,
    parameters: Mapping[str, Any],
    package_version: str,
    commit: str | None,
    run_at: dt.datetime,
    command: str,
) -> str:
    """The provenance block: what data and code produced a report, and how to reproduce it.

    Args:
        snapshot_id: The snapshot's id (its as-of date).
        snapshot_checksum: The snapshot's content checksum.
        parameters: The notebook's parameters as given.
        package_version: Version of ``salesops_lib``.
        commit: Git commit of the code, or ``None`` if unknown.
        run_at: When the report ran.
        command: The command that reproduces the report.

    Returns:
        An escaped ``<table class="provenance">``.
    """
    params = ", ".join(f"{k}={v!r}" for k, v in parameters.items())
    rows = [
        ("Snapshot", snapshot_id),
        ("Snapshot checksum (sha256)", snapshot_checksum),
        ("Parameters", params),
        ("Code version", f"salesops_lib {package_version}, commit {commit or 'unknown'}"),
        ("Run at", run_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()),
        ("Reproduce with", command),
    ]
    body = "".join(
        f"<tr><th>{html.escape(label)}</th><td><code>{html.escape(value)}</code></td></tr>"
        for label, value in rows
    )
    return f'<table class="provenance">{body}</table>'
