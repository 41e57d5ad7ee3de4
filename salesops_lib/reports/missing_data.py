"""One sentence in place of a report section whose snapshot table is empty.

An imported snapshot may lack quotas, stage history, products or opportunities (their tables
are written empty). Report sections that need such a table show one sentence naming the data
that would enable them instead of failing or showing an empty chart.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from salesops_lib.data.snapshot import Snapshot
from salesops_lib.reports import narrative

TABLE_LABELS: dict[str, str] = {
    "order_lines": "order lines (bookings)",
    "opportunities": "opportunities",
    "opportunity_stage_history": "opportunity stage history",
    "quotas": "quotas",
    "products": "products",
    "reps": "reps",
    "accounts": "accounts",
}


def empty_tables(snapshot: Snapshot) -> frozenset[str]:
    """The snapshot's tables that have no rows.

    Args:
        snapshot: An open snapshot.

    Returns:
        Names of its empty tables.
    """
    return frozenset(
        name.removesuffix(".parquet")
        for name, entry in snapshot.manifest["files"].items()
        if name.endswith(".parquet") and int(entry["rows"]) == 0
    )


def missing_note(text: str) -> narrative.Html:
    """A section's one-sentence stand-in as escaped HTML (``<p class="missing">``).

    Args:
        text: The sentence (plain text; it is escaped).

    Returns:
        The HTML paragraph.
    """
    return narrative.Html(f'<p class="missing">{html.escape(text)}</p>')


def missing_sentence(missing: Iterable[str], enables: str) -> narrative.Html:
    """One escaped HTML sentence naming the data that would enable a section.

    Args:
        missing: Names of the empty tables the section needs.
        enables: What the section shows, e.g. ``"the quota attainment tables"``.

    Returns:
        ``<p class="missing">Loading quotas would enable ….</p>``.
    """
    labels = [TABLE_LABELS.get(name, name.replace("_", " ")) for name in sorted(missing)]
    joined = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return missing_note(f"This snapshot has no {joined}: loading them would enable {enables}.")


def section_gap(empty: frozenset[str], needs: Iterable[str], enables: str) -> narrative.Html | None:
    """The missing-data sentence for a section, or ``None`` when its tables have rows.

    Args:
        empty: The snapshot's empty tables (:func:`empty_tables`).
        needs: Tables the section needs.
        enables: What the section shows.

    Returns:
        The sentence, or ``None`` if nothing the section needs is empty.
    """
    missing = [name for name in needs if name in empty]
    return missing_sentence(missing, enables) if missing else None
