"""The overview's executive summary and chart titles: plain sentences from its numbers.

Sentences are plain text; :func:`summary_html` escapes every one (region names are untrusted).
"""

from __future__ import annotations

from salesops_lib.analytics.performance.bookings import BookingsComparison
from salesops_lib.analytics.performance.pipeline import PipelineSummary
from salesops_lib.analytics.performance.teams import AttainmentSummary
from salesops_lib.reports import narrative
from salesops_lib.reports.narrative import format_money, format_pct

FLAT_GROWTH = 0.005
"""Growth smaller than this (in either direction) is called flat."""


def _no_base(bookings: BookingsComparison) -> str:
    """Why there is no 12-month comparison, naming the real missing input."""
    if bookings.data_start is not None:
        return (
            f"the data start in {bookings.data_start:%b %Y}: no full prior 12 months "
            "to compare with"
        )
    return "no bookings in the prior 12 months to compare with"


def growth_phrase(bookings: BookingsComparison) -> str:
    """Describe 12-month bookings growth: ``Bookings up 12% on the prior 12 months``."""
    growth = bookings.growth
    if growth is None:
        return _no_base(bookings)
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
        return f"{text}; {_no_base(bookings)}."
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


def attainment_sentence(attainment: AttainmentSummary, has_quotas: bool = True) -> str:
    """One sentence on quota attainment year to date and the share of reps at/above 100%.

    Args:
        attainment: Attainment year to date.
        has_quotas: Whether the region has any quota at all (an import without a quota file
            has none: the sentence names that cause, not the calendar).
    """
    if not has_quotas:
        return "There are no quotas in this snapshot, so there is no attainment to report."
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
    has_quotas: bool = True,
) -> list[str]:
    """The executive summary as plain sentences (not escaped).

    Args:
        region_name: Display name of the region (untrusted text).
        bookings: Last 12 months against the prior 12 months.
        pipeline: The open pipeline.
        attainment: Attainment year to date.
        has_quotas: Whether the region has any quota (see :func:`attainment_sentence`).

    Returns:
        Three sentences: bookings, pipeline, attainment.
    """
    return [
        bookings_sentence(region_name, bookings),
        pipeline_sentence(pipeline),
        attainment_sentence(attainment, has_quotas),
    ]


def summary_html(
    region_name: str,
    bookings: BookingsComparison,
    pipeline: PipelineSummary,
    attainment: AttainmentSummary,
    has_quotas: bool = True,
) -> narrative.Html:
    """The executive summary as an HTML list, every sentence escaped.

    Args:
        region_name: Display name of the region (untrusted text).
        bookings: Last 12 months against the prior 12 months.
        pipeline: The open pipeline.
        attainment: Attainment year to date.
        has_quotas: Whether the region has any quota (see :func:`attainment_sentence`).

    Returns:
        ``<ul class="summary">`` with one ``<li>`` per sentence.
    """
    sentences = summary_sentences(region_name, bookings, pipeline, attainment, has_quotas)
    return narrative.bullet_list(sentences)


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
