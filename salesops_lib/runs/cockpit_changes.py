"""'What changed this week': movements and flags from every report's headlines, by money at stake.

An item is either a **movement** (a headline number of a published report against the same
report's number the week before, or a change the report itself measured, such as the pipeline
change between two snapshots) or a **flag** (a headline that asks for attention: customers at
risk, deals at risk, a forecast short of target, stage bottlenecks, problem records). Each item
carries the money at stake (the size of the movement, the revenue at stake, the gap) and the
report section that explains it; items are ranked by money, largest first, then by count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.reports.narrative import format_money, format_pct
from salesops_lib.runs.cockpit_records import RecordKey, section_anchor


@dataclass(frozen=True)
class Signal:
    """One headline the cockpit watches.

    Attributes:
        topic: The report (notebook stem).
        key: The headline key.
        kind: ``move`` (compared with last week's report), ``change`` (already a change),
            ``flag`` (shown when above zero).
        label: What the number is, in words.
        unit: ``money``, ``pct`` or ``count``.
        sections: Heading ids of the section that explains it, best first.
        money_key: For a count, the headline holding the money at stake (``revenue_at_stake``).
    """

    topic: str
    key: str
    kind: str
    label: str
    unit: str
    sections: tuple[str, ...]
    money_key: str | None = None


SIGNALS: tuple[Signal, ...] = (
    Signal("20-forecast", "quarter_forecast", "move", "Quarter forecast", "money",
           ("History-and-forecast", "Executive-summary")),
    Signal("20-forecast", "quarter_gap_to_target", "flag", "Forecast short of target", "money",
           ("History-and-forecast", "Executive-summary")),
    Signal("20-forecast", "pipeline_expected", "move", "Pipeline-based expected bookings",
           "money", ("Pipeline-based-forecast-for-this-quarter",)),
    Signal("10-performance", "pipeline_change", "change", "Pipeline change in the period",
           "money", ("Pipeline-change-waterfall",)),
    Signal("10-performance", "bookings_period", "move", "Bookings in the period", "money",
           ("Attainment",)),
    Signal("10-performance", "deals_at_risk", "flag", "Deals at risk", "count",
           ("Deviations-and-risks",)),
    Signal("10-performance", "bottlenecks", "flag", "Stage bottlenecks", "count",
           ("Funnel-and-bottlenecks",)),
    Signal("00-overview", "open_pipeline", "move", "Open pipeline", "money",
           ("Pipeline-by-stage",)),
    Signal("30-segmentation", "customers_at_risk", "flag", "Customers at risk", "count",
           ("Action-lists",), money_key="revenue_at_stake"),
    Signal("00-data-quality", "problem_records", "move", "CRM records with problems", "count",
           ("Summary",)),
    Signal("00-data-quality", "quality_score", "move", "Data-quality score", "pct",
           ("Summary",)),
    Signal("15-forecast-call", "call_commit_change", "change", "Commit call since last week",
           "money", ("What-changed-since-last-week", "The-number")),
    Signal("15-forecast-call", "sandbaggers", "flag", "Submitters calling low (sandbagging)",
           "count", ("Accuracy-of-earlier-calls",)),
    Signal("15-forecast-call", "over_callers", "flag", "Submitters calling high", "count",
           ("Accuracy-of-earlier-calls",)),
    Signal("40-compensation", "comp_payout", "move", "Commission payout", "money",
           ("Payouts-against-plan",)),
    Signal("40-compensation", "comp_anomalies", "flag", "Compensation anomalies", "count",
           ("Anomalies",)),
    Signal("50-planning", "hires_by_january", "flag", "Hires needed for next year's target",
           "count", ("Capacity-and-hiring-plan",)),
)  # fmt: skip
"""Every headline the cockpit turns into items, with the section that explains each."""


@dataclass(frozen=True)
class ChangeItem:
    """One line of 'What changed this week'.

    Attributes:
        region: Region id (``all`` for the company).
        region_name: Its display name (untrusted text; escape before HTML).
        text: The sentence (plain text).
        money: The money at stake (absolute, 0 when the item has none).
        count: A count for ranking items without money.
        href: Link to the explaining section, relative to the as-of folder (``None``: none).
    """

    region: str
    region_name: str
    text: str
    money: float
    count: float
    href: str | None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _format(value: float, unit: str, signed: bool = False) -> str:
    if unit == "money":
        text = format_money(value)
    elif unit == "pct":
        text = f"{value * 100:,.1f} pts" if signed else format_pct(value)
    else:
        text = f"{round(value):,}"
    return f"+{text}" if signed and value > 0 else text


def _item_text(signal: Signal, now: float, before: float | None, money: float) -> str:
    if signal.kind == "move" and before is not None:
        shown = _format(now, signal.unit)
        return (
            f"{signal.label} {_format(now - before, signal.unit, signed=True)} "
            f"since last week, to {shown}"
        )
    if signal.kind == "change":
        return f"{signal.label}: {_format(now, signal.unit, signed=True)}"
    if signal.money_key is not None and money:
        return f"{signal.label}: {_format(now, signal.unit)}, {format_money(money)} at stake"
    return f"{signal.label}: {_format(now, signal.unit)}"


def signal_item(
    signal: Signal,
    headlines: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
) -> tuple[str, float, float] | None:
    """The (text, money, count) of one signal of one report, or ``None`` when nothing to say.

    Args:
        signal: What to look at.
        headlines: The report's headlines this week.
        previous: The same report's headlines the week before (``None``: no report then).

    Returns:
        A movement when the number changed since last week (``move``), a change the report
        measured when it is not zero (``change``), a flag when above zero (``flag``).
    """
    now = _number(headlines.get(signal.key))
    if now is None:
        return None
    if signal.kind == "move":
        before = None if previous is None else _number(previous.get(signal.key))
        if before is None or now == before:
            return None
        delta = now - before
        money = abs(delta) if signal.unit == "money" else 0.0
        count = abs(delta) * (100 if signal.unit == "pct" else 1)
        return _item_text(signal, now, before, money), money, count
    if signal.kind == "change":
        if now == 0:
            return None
        money = abs(now) if signal.unit == "money" else 0.0
        return _item_text(signal, now, None, money), money, abs(now)
    if now <= 0:
        return None
    extra = _number(headlines.get(signal.money_key)) if signal.money_key else None
    money = now if signal.unit == "money" else abs(extra or 0.0)
    return _item_text(signal, now, None, money), money, now


def change_items(
    as_of_dir: Path,
    current: Mapping[RecordKey, Mapping[str, Any]],
    previous: Mapping[RecordKey, Mapping[str, Any]],
    region_names: Mapping[str, str],
) -> list[ChangeItem]:
    """Every item of every published report, ranked by money at stake.

    Args:
        as_of_dir: ``reports/<as_of>`` (to find each report's section anchors).
        current: Headlines of this week's published reports by (region, topic).
        previous: Headlines of last week's published reports by (region, topic).
        region_names: Region id -> display name.

    Returns:
        The items, largest money first, then largest count, the company before regions, then
        by region id and text (a deterministic order).
    """
    items: list[ChangeItem] = []
    anchors: dict[tuple[str, str, tuple[str, ...]], str | None] = {}
    for signal in SIGNALS:
        for (region, topic), headlines in sorted(current.items()):
            if topic != signal.topic:
                continue
            found = signal_item(signal, headlines, previous.get((region, topic)))
            if found is None:
                continue
            text, money, count = found
            page = as_of_dir / region / f"{topic}.html"
            href = None
            if page.is_file():
                cache_key = (region, topic, signal.sections)
                if cache_key not in anchors:
                    anchors[cache_key] = section_anchor(page, signal.sections)
                anchor = anchors[cache_key]
                href = f"{region}/{topic}.html" + (f"#{anchor}" if anchor else "")
            name = region_names.get(region, region)
            items.append(ChangeItem(region, name, text, money, count, href))
    return sorted(
        items,
        key=lambda i: (-i.money, -i.count, i.region != ALL_REGIONS, i.region, i.text),
    )
