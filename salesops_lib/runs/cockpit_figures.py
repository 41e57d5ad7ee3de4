"""The cockpit's weekly figures: 13 weeks per scope (each region and the company), cheaply.

Reports run on the latest snapshot only, but every weekly snapshot is kept, so the figures that
come straight from the marts are computed for each of the last :data:`WEEKS` snapshots with one
DuckDB query per snapshot (:data:`WEEK_SQL`): bookings this quarter, the quarter's quota and
target, open pipeline (all, and closing this quarter) and the win rate over 91 days. A
snapshot's figures never change (snapshots are immutable), so they are cached in
``reports/.cockpit/`` under the snapshot's checksum and the query's digest. Figures only a
report computes (the quarter forecast and its range, customers at risk, the data-quality score)
come from the headlines of the reports published for that week, ``None`` where a week has none.

One row of :func:`weekly_figures` is one scope x week: ``scope`` (a region id or ``all``),
``week`` (``YYYY-MM-DD``) and one column per figure of :data:`FIGURE_COLUMNS`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.core.errors import WorkbenchError
from salesops_lib.data.snapshot import MANIFEST, Snapshot, list_snapshots, open_snapshot
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.runs.cockpit_records import record_headlines, report_dates

WEEKS = 13
"""Weeks of history each sparkline shows (the as-of week and the 12 before it)."""
CACHE_DIR = ".cockpit"
"""Folder under the reports folder holding one JSON file of mart figures per snapshot."""
UNASSIGNED = "_unassigned"

WEEK_SQL = """
with meta as (
    select as_of,
        cast(date_trunc('quarter', as_of) as date) as q_start,
        cast(date_trunc('quarter', as_of) + interval 3 month - interval 1 day as date) as q_end
    from snapshot_meta
),
bookings as (
    select coalesce(region_id, '_unassigned') as region_id, grouping(region_id) as is_total,
        sum(cast(amount as double)) as bookings_qtd
    from fct_bookings cross join meta
    where order_date between meta.q_start and meta.as_of
    group by grouping sets ((region_id), ())
),
quota as (
    select region_id, grouping(region_id) as is_total,
        sum(cast(quota_amount as double)) as quota_quarter
    from fct_quota_plan cross join meta
    where month between meta.q_start and meta.q_end
    group by grouping sets ((region_id), ())
),
target as (
    select region_id, grouping(region_id) as is_total,
        sum(cast(target_amount as double)) as target_quarter
    from fct_region_targets cross join meta
    where month between meta.q_start and meta.q_end
    group by grouping sets ((region_id), ())
),
deals as (
    select coalesce(region_id, '_unassigned') as region_id, grouping(region_id) as is_total,
        sum(cast(amount as double)) filter (where not is_closed) as open_pipeline,
        sum(cast(amount as double)) filter (
            where not is_closed and close_date between meta.q_start and meta.q_end
        ) as pipeline_quarter,
        count(*) filter (
            where is_won and close_date > meta.as_of - 91 and close_date <= meta.as_of
        ) as won_91d,
        count(*) filter (
            where is_closed and close_date > meta.as_of - 91 and close_date <= meta.as_of
        ) as closed_91d
    from fct_opportunities cross join meta
    group by grouping sets ((region_id), ())
),
scopes as (
    select region_id, 0 as is_total from dim_regions
    union all select 'all', 1
)
select
    case when scopes.is_total = 1 then 'all' else scopes.region_id end as scope,
    coalesce(bookings.bookings_qtd, 0) as bookings_qtd,
    coalesce(quota.quota_quarter, 0) as quota_quarter,
    coalesce(target.target_quarter, 0) as target_quarter,
    coalesce(deals.open_pipeline, 0) as open_pipeline,
    coalesce(deals.pipeline_quarter, 0) as pipeline_quarter,
    coalesce(deals.won_91d, 0) as won_91d,
    coalesce(deals.closed_91d, 0) as closed_91d
from scopes
left join bookings on bookings.is_total = scopes.is_total
    and (scopes.is_total = 1 or bookings.region_id = scopes.region_id)
left join quota on quota.is_total = scopes.is_total
    and (scopes.is_total = 1 or quota.region_id = scopes.region_id)
left join target on target.is_total = scopes.is_total
    and (scopes.is_total = 1 or target.region_id = scopes.region_id)
left join deals on deals.is_total = scopes.is_total
    and (scopes.is_total = 1 or deals.region_id = scopes.region_id)
order by scopes.is_total desc, scope
"""
"""One row per scope (each region of the snapshot, then ``all``) of one snapshot's marts."""

MART_COLUMNS: tuple[str, ...] = (
    "bookings_qtd", "quota_quarter", "target_quarter", "open_pipeline", "pipeline_quarter",
    "won_91d", "closed_91d",
)  # fmt: skip
HEADLINE_FIGURES: dict[str, tuple[str, str]] = {
    "quarter_forecast": ("20-forecast", "quarter_forecast"),
    "forecast_low_80": ("20-forecast", "quarter_forecast_low_80"),
    "forecast_high_80": ("20-forecast", "quarter_forecast_high_80"),
    "customers_at_risk": ("30-segmentation", "customers_at_risk"),
    "quality_score": ("00-data-quality", "quality_score"),
}
"""Figure -> (report topic, headline key) for the figures only a report computes."""
FIGURE_COLUMNS: tuple[str, ...] = (
    *MART_COLUMNS, "attainment_quota", "attainment_target", "coverage", "win_rate",
    *HEADLINE_FIGURES,
)  # fmt: skip

_SQL_DIGEST = hashlib.sha256(WEEK_SQL.encode()).hexdigest()[:12]
_MEMORY: dict[tuple[str, str], list[dict[str, Any]]] = {}


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return float(numerator) / float(denominator)


def derived_figures(row: Mapping[str, Any]) -> dict[str, float | None]:
    """The ratios of one scope x week from its mart sums.

    * ``attainment_quota`` / ``attainment_target``: bookings this quarter / the quarter's quota
      (target); ``None`` when the quota (target) is 0;
    * ``coverage``: open pipeline closing this quarter / the quota still to book
      (quota - bookings, ``None`` once the quota is met);
    * ``win_rate``: deals won / deals closed in the 91 days to the as-of date.
    """
    bookings = row.get("bookings_qtd")
    quota = row.get("quota_quarter")
    to_book = None if quota is None or bookings is None else quota - bookings
    return {
        "attainment_quota": _ratio(bookings, quota),
        "attainment_target": _ratio(bookings, row.get("target_quarter")),
        "coverage": _ratio(row.get("pipeline_quarter"), to_book),
        "win_rate": _ratio(row.get("won_91d"), row.get("closed_91d")),
    }


def _cache_path(reports_dir: Path, week: str, checksum: str) -> Path:
    return reports_dir / CACHE_DIR / f"{week}-{checksum[:16]}-{_SQL_DIGEST}.json"


def _write_cache(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(rows, stream, sort_keys=True)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _snapshot_checksum(folder: Path, week: str) -> str:
    """The snapshot's checksum from its manifest (read only: the files are verified on a miss)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return Snapshot(folder, dt.date.fromisoformat(week), manifest).checksum
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return open_snapshot(folder.parent, week, verify=False).checksum  # its clear error


def snapshot_mart_figures(
    snapshots_dir: Path, week: str, reports_dir: Path | None = None
) -> list[dict[str, Any]]:
    """The mart figures of one snapshot: one dict per scope (columns of :data:`MART_COLUMNS`).

    Args:
        snapshots_dir: The snapshots folder.
        week: The snapshot's as-of date.
        reports_dir: Where to cache the result (``None``: in this process only).

    Returns:
        One dict per scope (``scope`` and the mart sums), regions first, then ``all``.

    Raises:
        SnapshotError: If the snapshot is missing or does not match its manifest.
    """
    checksum = _snapshot_checksum(Path(snapshots_dir) / week, week)
    key = (str(Path(snapshots_dir).resolve() / week), checksum)
    cache = None if reports_dir is None else _cache_path(reports_dir, week, checksum)
    if key in _MEMORY:
        if cache is not None and not cache.is_file():
            _write_cache(cache, _MEMORY[key])
        return _MEMORY[key]
    if cache is not None and cache.is_file():
        with contextlib.suppress(OSError, ValueError):
            rows = json.loads(cache.read_text(encoding="utf-8"))
            _MEMORY[key] = rows
            return rows
    snapshot = open_snapshot(snapshots_dir, week, verify=True)
    with Warehouse(snapshot, threads=1, memory_limit="1GB") as warehouse:
        frame = warehouse.query(WEEK_SQL)
    rows = [
        {"scope": str(r["scope"]), **{c: float(r[c]) for c in MART_COLUMNS}}
        for r in frame.to_dict("records")
    ]
    if cache is not None:
        _write_cache(cache, rows)
    _MEMORY[key] = rows
    return rows


def figure_weeks(snapshots_dir: Path | None, reports_dir: Path, as_of: str) -> list[str]:
    """The weeks the sparklines show: the last :data:`WEEKS` snapshot dates up to ``as_of``.

    Without snapshots (a reports folder of another workspace, say) the report dates are used.
    """
    dates: list[str] = []
    if snapshots_dir is not None:
        with contextlib.suppress(WorkbenchError, OSError):
            dates = [d.isoformat() for d in list_snapshots(snapshots_dir)]
    if as_of not in dates:
        dates = sorted(set(report_dates(reports_dir)) | {as_of})
    return [d for d in dates if d <= as_of][-WEEKS:]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def weekly_figures(
    reports_dir: Path, as_of: str, snapshots_dir: Path | None, scopes: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Every figure for every scope and week (the cockpit's tiles and sparklines).

    Args:
        reports_dir: The reports folder (published headlines per week; the cache).
        as_of: The cockpit's as-of date.
        snapshots_dir: The snapshots folder (``None``: headline figures only).
        scopes: Region ids to show (``all`` is always added first).

    Returns:
        The frame (one row per scope x week, oldest week first; ``None``/NaN where a week has
        no figure) and the notes on weeks whose snapshot could not be read.
    """
    weeks = figure_weeks(snapshots_dir, reports_dir, as_of)
    wanted = [ALL_REGIONS, *[s for s in scopes if s != ALL_REGIONS]]
    notes: list[str] = []
    rows: list[dict[str, Any]] = []
    for week in weeks:
        marts: dict[str, dict[str, Any]] = {}
        if snapshots_dir is not None:
            try:
                marts = {
                    r["scope"]: r for r in snapshot_mart_figures(snapshots_dir, week, reports_dir)
                }
            except WorkbenchError as exc:
                notes.append(f"week {week}: {exc}")
        headlines = record_headlines(reports_dir / week)
        for scope in wanted:
            row: dict[str, Any] = {"scope": scope, "week": week}
            row.update({c: marts.get(scope, {}).get(c) for c in MART_COLUMNS})
            row.update(derived_figures(row) if scope in marts else {})
            for figure, (topic, key) in HEADLINE_FIGURES.items():
                row[figure] = _number(headlines.get((scope, topic), {}).get(key))
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["scope", "week", *FIGURE_COLUMNS])
    return frame.astype({c: "float64" for c in FIGURE_COLUMNS}), notes


def week_over_week(frame: pd.DataFrame) -> pd.DataFrame:
    """Each scope's latest week with the change of every figure since the week before.

    Args:
        frame: :func:`weekly_figures`'s frame.

    Returns:
        One row per scope (in order of first appearance): ``scope``, ``week``,
        ``previous_week`` and per figure ``<figure>`` and ``<figure>_change`` (NaN when either
        week has no value, or there is no earlier week). A new frame; the input is not changed.
    """
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for row in frame.sort_values("week", kind="stable").to_dict("records"):
        by_scope.setdefault(str(row["scope"]), []).append(row)
    rows = []
    for scope, weeks in by_scope.items():
        latest = weeks[-1]
        before = weeks[-2] if len(weeks) > 1 else None
        row: dict[str, Any] = {"scope": scope, "week": latest["week"]}
        row["previous_week"] = None if before is None else before["week"]
        for column in FIGURE_COLUMNS:
            row[column] = latest.get(column)
            row[f"{column}_change"] = (
                float("nan") if before is None else latest.get(column) - before.get(column)
            )
        rows.append(row)
    columns = ["scope", "week", *FIGURE_COLUMNS, "previous_week"]
    columns += [f"{c}_change" for c in FIGURE_COLUMNS]
    return pd.DataFrame(rows, columns=columns)
