"""The leadership cockpit: ``reports/<as_of>/index.html`` and ``reports/index.html``.

The as-of page shows, top to bottom: the company's headline figures (each with its change since
the previous week and a 13-week sparkline), the same figures per region, "What changed this
week" (movements and flags from every report's headlines, ranked by money at stake, each linking
to the report section that explains it), and the grid of reports (regions x topics, status,
headline numbers, question pages). The figures come from :mod:`~salesops_lib.runs.cockpit_figures`,
the items from :mod:`~salesops_lib.runs.cockpit_changes`.

The page is self-contained (inline CSS, inline SVG, no script), readable from 390 px wide up
(tiles and cards wrap, the grid scrolls inside its box), escapes every text from data (region
names, errors, titles) and is deterministic: the same reports and snapshots give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

import pandas as pd

from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.core.errors import WorkbenchError
from salesops_lib.reports.narrative import format_change, format_money, format_pct
from salesops_lib.runs.cockpit_changes import ChangeItem, change_items
from salesops_lib.runs.cockpit_figures import week_over_week, weekly_figures
from salesops_lib.runs.cockpit_records import (
    FAILED_DIR,
    question_pages,
    read_records,
    record_headlines,
    report_dates,
)
from salesops_lib.runs.render import TEMPLATES_DIR

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
    "call_commit": ("Commit call", "money"),
    "call_commit_change": ("vs last week", "money"),
    "comp_payout": ("Comp payout", "money"),
    "comp_cost_of_sales": ("Cost of sales", "pct"),
    "capacity": ("Capacity next year", "money"),
    "hires_by_january": ("Hires needed", "count"),
}
"""Headline keys shown in the grid, with their label and format, in display order; a report
shows those it records."""

FIGURES: tuple[tuple[str, str, str], ...] = (
    ("bookings_qtd", "Bookings this quarter", "money"),
    ("quarter_forecast", "Quarter forecast", "money"),
    ("open_pipeline", "Open pipeline", "money"),
    ("coverage", "Pipeline coverage", "ratio"),
    ("win_rate", "Win rate (91 days)", "pct"),
    ("customers_at_risk", "Customers at risk", "count"),
    ("quality_score", "Data-quality score", "pct"),
)
"""The cockpit's figures: column of the weekly frame, label, unit; in display order."""
QUARTER_FIGURES = frozenset({"bookings_qtd", "coverage"})
"""Figures that restart with each quarter (no week-over-week change across a quarter's start)."""
MAX_CHANGES = 15
"""Items shown under 'What changed this week'."""


def _format_count(value: float) -> str:
    return f"{round(value):,}"


def headline_text(headlines: Mapping[str, Any]) -> str:
    """Format the known headline numbers for the grid (``Bookings 12m $1.2M · ...``)."""
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


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_figure(value: float | None, unit: str) -> str:
    """One figure for display (``$1.2M``, ``46%``, ``1.15x``, ``1,234``; ``n/a`` when missing)."""
    if _missing(value):
        return "n/a"
    if unit == "money":
        return format_money(value)
    if unit == "pct":
        return format_pct(value)
    if unit == "ratio":
        return f"{value:,.2f}x"
    return _format_count(float(value))  # type: ignore[arg-type]


def format_figure_change(change: float | None, unit: str) -> str:
    """A week-over-week change with its sign (``+$1.2M``, ``+1.5 pts``, ``-0.12x``, ``+3``)."""
    if _missing(change):
        return "n/a"
    assert change is not None
    if unit == "money":
        text = format_money(change)
    elif unit == "pct":
        text = f"{change * 100:,.1f} pts"
    elif unit == "ratio":
        text = f"{change:,.2f}x"
    else:
        text = _format_count(change)
    return text if text.startswith("-") or change == 0 else f"+{text}"


def sparkline_svg(values: Sequence[float | None], label: str, width: int = 120) -> str:
    """An inline SVG line of the values (gaps where a value is missing), last point marked.

    Args:
        values: Oldest first; ``None``/NaN for a week without a value.
        label: What the line shows (plain text; escaped here), for ``aria-label`` and title.
        width: Width in px (height is a quarter of it).

    Returns:
        ``<svg class="spark" ...>``: always with a non-zero size, also when no value is known.
    """
    height = max(width // 4, 16)
    pad = 2.0
    known = [(i, float(v)) for i, v in enumerate(values) if not _missing(v)]
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    parts = [
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(label)}"><title>{html.escape(label)}</title>'
        f'<rect width="{width}" height="{height}" fill="#f4f6f8"/>'
    ]
    if known:
        low = min(v for _, v in known)
        high = max(v for _, v in known)
        span = high - low or 1.0

        def point(i: int, v: float) -> str:
            y = height - pad - (v - low) / span * (height - 2 * pad)
            if high == low:
                y = height / 2
            return f"{pad + i * step:.1f},{y:.1f}"

        runs: list[list[str]] = []
        previous = -2
        for i, v in known:
            if i != previous + 1:
                runs.append([])
            runs[-1].append(point(i, v))
            previous = i
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="#0173b2" '
                    'stroke-width="1.5"/>'
                )
        x, y = point(*known[-1]).split(",")
        parts.append(f'<circle cx="{x}" cy="{y}" r="2.2" fill="#0173b2"/>')
    parts.append("</svg>")
    return "".join(parts)


def _quarter(week: str) -> tuple[int, int]:
    date = dt.date.fromisoformat(week)
    return date.year, (date.month - 1) // 3


def _change_html(latest: Mapping[str, Any], column: str, unit: str) -> str:
    previous = latest.get("previous_week")
    if _missing(previous) or not previous:
        return '<span class="change none">no earlier week</span>'
    if column in QUARTER_FIGURES and _quarter(str(previous)) != _quarter(str(latest["week"])):
        return '<span class="change none">new quarter</span>'
    change = latest.get(f"{column}_change")
    css = "none" if _missing(change) else ("up" if change > 0 else "down" if change < 0 else "flat")
    return f'<span class="change {css}">{html.escape(format_figure_change(change, unit))}</span>'


def _sub_line(latest: Mapping[str, Any], column: str) -> str:
    if column == "bookings_qtd":
        return (
            f"{format_pct(latest.get('attainment_quota'))} of quota "
            f"{format_figure(latest.get('quota_quarter'), 'money')} · "
            f"{format_pct(latest.get('attainment_target'))} of target "
            f"{format_figure(latest.get('target_quarter'), 'money')}"
        )
    if column == "quarter_forecast":
        low, high = latest.get("forecast_low_80"), latest.get("forecast_high_80")
        if _missing(low) or _missing(high):
            return "80% range n/a"
        return f"80% range {format_money(low)} to {format_money(high)}"
    if column == "open_pipeline":
        closing = format_figure(latest.get("pipeline_quarter"), "money")
        return f"{closing} closing this quarter"
    if column == "coverage":
        return "pipeline closing this quarter / quota still to book"
    if column == "win_rate":
        return "won / closed deals"
    return ""


def _tiles_html(series: pd.DataFrame, latest: Mapping[str, Any], scope_name: str) -> str:
    tiles = []
    for column, label, unit in FIGURES:
        values = series[column].tolist()
        spark = sparkline_svg(values, f"{label}, {scope_name}, last {len(values)} weeks")
        tiles.append(
            f'<div class="tile"><p class="label">{html.escape(label)}</p>'
            f'<p class="value">{html.escape(format_figure(latest.get(column), unit))} '
            f"{_change_html(latest, column, unit)}</p>"
            f'<p class="sub">{html.escape(_sub_line(latest, column))}</p>{spark}</div>'
        )
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _region_card(region: str, name: str, series: pd.DataFrame, latest: Mapping[str, Any]) -> str:
    rows = []
    for column, label, unit in FIGURES:
        spark = sparkline_svg(series[column].tolist(), f"{label}, {name}", width=80)
        rows.append(
            f"<tr><th>{html.escape(label)}</th>"
            f"<td>{html.escape(format_figure(latest.get(column), unit))}</td>"
            f"<td>{_change_html(latest, column, unit)}</td>"
            f'<td class="spark-cell">{spark}</td></tr>'
        )
    title = f"{html.escape(name)} <small>({html.escape(region)})</small>"
    return f'<div class="region"><h3>{title}</h3><table>{"".join(rows)}</table></div>'


def figures_html(frame: pd.DataFrame, region_names: Mapping[str, str]) -> str:
    """The company tiles and one card per region, from :func:`weekly_figures`'s frame."""
    if frame.empty:
        return "<p>No figures yet.</p>"
    latest_rows = {row["scope"]: row for row in week_over_week(frame).to_dict("records")}
    weeks = sorted(frame["week"].unique())
    by_scope = {str(scope): part for scope, part in frame.sort_values("week").groupby("scope")}
    company = by_scope[ALL_REGIONS]
    parts = [
        f'<h2 id="company">Company, week of {html.escape(weeks[-1])}</h2>',
        f'<p class="note">Change since the week of {html.escape(weeks[-2])}; lines show the '
        f"last {len(weeks)} weekly snapshots; n/a where a week has no figure.</p>"
        if len(weeks) > 1
        else "",
        _tiles_html(company, latest_rows.get(ALL_REGIONS, {}), "company"),
    ]
    cards = [
        _region_card(
            scope,
            region_names.get(scope, scope),
            by_scope[scope],
            latest_rows.get(scope, {}),
        )
        for scope in sorted(set(by_scope) - {ALL_REGIONS})
    ]
    if cards:
        parts.append(f'<h2 id="regions">Regions</h2><div class="regions">{"".join(cards)}</div>')
    return "".join(parts)


def changes_html(items: Sequence[ChangeItem]) -> str:
    """The 'What changed this week' list (at most :data:`MAX_CHANGES` items)."""
    heading = '<h2 id="what-changed">What changed this week</h2>'
    if not items:
        return f"{heading}<p>No movements or flags in the published reports.</p>"
    lines = []
    for item in items[:MAX_CHANGES]:
        text = html.escape(f"{item.region_name}: {item.text}")
        if item.href is not None:
            page, _, anchor = item.href.partition("#")
            target = quote(page) + (f"#{quote(anchor, safe='')}" if anchor else "")
            text = f'<a href="{html.escape(target)}">{text}</a>'
        lines.append(f"<li>{text}</li>")
    more = len(items) - MAX_CHANGES
    tail = f'<p class="note">{more} smaller item(s) not shown.</p>' if more > 0 else ""
    return f'{heading}<ol class="changes">{"".join(lines)}</ol>{tail}'


def _cell(
    region: str, topic: str, published: dict[str, Any] | None, failed: dict[str, Any] | None
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


def _questions_cell(as_of_dir: Path, region: str) -> str:
    links = [
        f'<a href="{html.escape(f"{region}/{name}")}">{html.escape(title)}</a>'
        for name, title in question_pages(as_of_dir / region)
    ]
    return "<br>".join(links) if links else "&ndash;"


def _region_order(region: str) -> tuple[int, str]:
    return (0 if region == ALL_REGIONS else 1, region)


def grid_html(
    as_of_dir: Path,
    published: Mapping[tuple[str, str], dict[str, Any]],
    failed: Mapping[tuple[str, str], dict[str, Any]],
    region_names: Mapping[str, str],
    with_questions: set[str],
) -> str:
    """The grid of reports: one row per region, one column per topic (and question pages)."""
    keys = set(published) | set(failed)
    regions = sorted({region for region, _ in keys} | with_questions, key=_region_order)
    topics = sorted({topic for _, topic in keys})
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
    return (
        '<h2 id="reports">Reports</h2><div class="scroll">'
        f"<table><thead><tr><th>Region</th>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def default_snapshots_dir() -> Path | None:
    """The configured snapshots folder, or ``None`` when the configuration cannot be read."""
    try:
        return settings().snapshots_dir
    except WorkbenchError:
        return None


def _page(title: str, body: str) -> str:
    css = "\n".join(
        (TEMPLATES_DIR / name).read_text(encoding="utf-8") for name in ("report.css", "cockpit.css")
    )
    template = Template((TEMPLATES_DIR / "cockpit.html").read_text(encoding="utf-8"))
    return template.substitute(title=html.escape(title), css=css, body=body)


def previous_week_date(reports_dir: Path, as_of: str) -> str | None:
    """The latest as-of folder in the 7 days before ``as_of`` (last week's reports), if any."""
    week_before = (dt.date.fromisoformat(as_of) - dt.timedelta(days=7)).isoformat()
    earlier = [d for d in report_dates(reports_dir) if week_before <= d < as_of]
    return earlier[-1] if earlier else None


def date_index_html(as_of_dir: Path, snapshots_dir: Path | None = None) -> str:
    """Build the cockpit of one as-of folder from the run records and the weekly snapshots.

    Args:
        as_of_dir: ``reports/<as_of>``.
        snapshots_dir: The snapshots folder for the weekly figures; defaults to the configured
            one (:func:`default_snapshots_dir`).

    Returns:
        The HTML page: company and regional figures with week-over-week changes and 13-week
        sparklines, what changed this week, and the grid of reports (links relative to the
        page, every text from data escaped).
    """
    reports_dir = as_of_dir.parent
    as_of = as_of_dir.name
    snapshots = default_snapshots_dir() if snapshots_dir is None else snapshots_dir
    published = read_records(as_of_dir)
    failed = read_records(as_of_dir / FAILED_DIR)
    with_questions = (
        {p.name for p in as_of_dir.iterdir() if p.is_dir() and question_pages(p)}
        if as_of_dir.is_dir()
        else set()
    )
    region_names: dict[str, str] = {}
    for (region, _topic), record in sorted(failed.items()) + sorted(published.items()):
        region_names[region] = str(record.get("region_name") or region)
    for region in with_questions - set(region_names):
        region_names[region] = region
    region_names.setdefault(ALL_REGIONS, "All regions")
    frame, notes = weekly_figures(reports_dir, as_of, snapshots, sorted(region_names))
    previous = previous_week_date(reports_dir, as_of)
    items = change_items(
        as_of_dir,
        record_headlines(as_of_dir),
        record_headlines(reports_dir / previous) if previous else {},
        region_names,
    )
    finished = sorted(str(r.get("ended_at") or "") for r in [*published.values(), *failed.values()])
    footer = [
        f"Reports as published by runs up to {finished[-1]}." if finished and finished[-1] else "",
        *(f"Figures unavailable: {note}" for note in notes),
    ]
    body = (
        '<p><a href="../index.html">All report dates</a></p>'
        f"{figures_html(frame, region_names)}{changes_html(items)}"
        f"{grid_html(as_of_dir, published, failed, region_names, with_questions)}"
        + "".join(f'<p class="note">{html.escape(line)}</p>' for line in footer if line)
    )
    return _page(f"Sales cockpit as of {as_of}", body)


def root_index_html(reports_dir: Path) -> str:
    """Build ``reports/index.html``: the latest cockpit first, then every as-of date."""
    dates = sorted(report_dates(reports_dir), reverse=True)
    if not dates:
        return _page("Sales reports", "<p>No reports yet.</p>")
    latest = (
        f'<p class="latest">Latest: <a href="{dates[0]}/index.html">cockpit as of '
        f"{dates[0]}</a></p>"
    )
    items = "".join(f'<li><a href="{d}/index.html">{d}</a></li>' for d in dates)
    return _page("Sales reports", f"{latest}<h2>All report dates</h2><ul>{items}</ul>")
