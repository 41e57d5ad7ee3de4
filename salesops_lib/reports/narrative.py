"""Sentences for executives, generated from numbers, and the HTML that carries them.

The ``*_sentences`` and ``*_title`` functions return plain text; the ``*_html`` functions escape
every piece of text with :func:`html.escape` (region and account names are untrusted CRM text)
and wrap it in simple markup. :class:`Html` lets a notebook cell display such markup.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesops_lib.reports.overview import AttainmentSummary, BookingsComparison, PipelineSummary

FLAT_GROWTH = 0.005
"""Growth smaller than this (in either direction) is called flat."""


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


def growth_phrase(growth: float | None) -> str:
    """Describe 12-month bookings growth: ``Bookings up 12% on the prior 12 months``."""
    if growth is None:
        return "no bookings in the prior 12 months to compare with"
    if abs(growth) < FLAT_GROWTH:
        return "Bookings flat on the prior 12 months"
    direction = "up" if growth > 0 else "down"
    return f"Bookings {direction} {format_pct(abs(growth))} on the prior 12 months"


def bookings_sentence(region_name: str, bookings: BookingsComparison) -> str:
    """One sentence on bookings of the last 12 months against the prior 12 months."""
    window = f"{bookings.first_month:%b %Y} to {bookings.last_month:%b %Y}"
    text = (
        f"{region_name} booked {format_money(bookings.last_12m)} in the last 12 months ({window})"
    )
    if bookings.growth is None:
        return f"{text}, with no bookings in the prior 12 months to compare with."
    if abs(bookings.growth) < FLAT_GROWTH:
        change = "flat on"
    else:
        change = f"{'up' if bookings.growth > 0 else 'down'} {format_pct(abs(bookings.growth))} on"
    return f"{text}, {change} the prior 12 months ({format_money(bookings.prior_12m)})."


def pipeline_sentence(pipeline: PipelineSummary) -> str:
    """One sentence on the open pipeline and where it sits."""
    if not pipeline.open_count:
        return "There is no open pipeline."
    deals = "opportunity" if pipeline.open_count == 1 else "opportunities"
    return (
        f"Open pipeline is {format_money(pipeline.open_amount)} across "
        f"{pipeline.open_count:,} {deals}; {format_pct(pipeline.top_stage_share)} of it sits in "
        f"{pipeline.top_stage}, and {format_money(pipeline.commit_amount)} is in Commit."
    )


def attainment_sentence(attainment: AttainmentSummary) -> str:
    """One sentence on quota attainment year to date and the share of reps at/above 100%."""
    if not attainment.months:
        return "No month of this year is complete yet, so there is no year-to-date attainment."
    if attainment.attainment is None or attainment.share_at_or_above_100 is None:
        return "No quota is set for the complete months of this year."
    months = "month" if attainment.months == 1 else "months"
    return (
        f"Attainment year to date is {format_pct(attainment.attainment)} of quota "
        f"({format_money(attainment.bookings)} booked against {format_money(attainment.quota)} "
        f"over {attainment.months} complete {months}); {attainment.reps_at_or_above_100} of "
        f"{attainment.reps_with_quota} reps ({format_pct(attainment.share_at_or_above_100)}) "
        "are at or above 100%."
    )


def summary_sentences(
    region_name: str,
    bookings: BookingsComparison,
    pipeline: PipelineSummary,
    attainment: AttainmentSummary,
) -> list[str]:
    """The executive summary as plain sentences (not escaped).

    Args:
        region_name: Display name of the region (untrusted text).
        bookings: Last 12 months against the prior 12 months.
        pipeline: The open pipeline.
        attainment: Attainment year to date.

    Returns:
        Three sentences: bookings, pipeline, attainment.
    """
    return [
        bookings_sentence(region_name, bookings),
        pipeline_sentence(pipeline),
        attainment_sentence(attainment),
    ]


def summary_html(
    region_name: str,
    bookings: BookingsComparison,
    pipeline: PipelineSummary,
    attainment: AttainmentSummary,
) -> str:
    """The executive summary as an HTML list, every sentence escaped.

    Args:
        region_name: Display name of the region (untrusted text).
        bookings: Last 12 months against the prior 12 months.
        pipeline: The open pipeline.
        attainment: Attainment year to date.

    Returns:
        ``<ul class="summary">`` with one ``<li>`` per sentence.
    """
    items = "".join(
        f"<li>{html.escape(s)}</li>"
        for s in summary_sentences(region_name, bookings, pipeline, attainment)
    )
    return f'<ul class="summary">{items}</ul>'


def pipeline_title(pipeline: PipelineSummary) -> str:
    """Chart title stating where most open pipeline sits."""
    if not pipeline.open_count:
        return "No open pipeline"
    return (
        f"{format_pct(pipeline.top_stage_share)} of the {format_money(pipeline.open_amount)} "
        f"open pipeline sits in {pipeline.top_stage}"
    )


def attainment_title(attainment: AttainmentSummary) -> str:
    """Chart title stating how many reps are at or above 100% of quota year to date."""
    if not attainment.reps_with_quota:
        return "No rep has a quota year to date"
    return (
        f"{attainment.reps_at_or_above_100} of {attainment.reps_with_quota} reps "
        f"({format_pct(attainment.share_at_or_above_100)}) are at or above 100% of quota YTD"
    )


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
