"""Analysts' SQL questions (``queries/*.sql``) rendered as report pages, one per region.

A query file is one read-only ``SELECT`` under a header of ``-- key: value`` comment lines::

    -- title: Bookings by product family, last 12 months
    -- description: Which product families bring the money in, month by month.
    -- parameters: region, as_of
    -- chart: line
    -- x: order_month
    -- y: bookings
    -- color: product_family
    -- money: bookings
    select ...

Keys: ``title`` and ``chart`` (``bar``, ``line`` or ``none``) are required; ``x`` and ``y`` are
required with a chart; ``description``, ``color`` (column that splits the bars or lines),
``money`` and ``percent`` (columns shown as ``$1.2M`` or ``12%``) are optional;
``parameters`` must name exactly the ``$region``/``$as_of`` parameters the SQL uses. A query that
uses ``$region`` is rendered once per region and once for the whole company (``all``); one that
does not is company-wide and rendered for ``all`` only, so a regional page holds only its
region's data.

Each page is self-contained HTML (chart embedded as PNG, escaped table, provenance with the
command that reproduces the table) written atomically to
``<reports>/<as_of>/<region>/q-<name>.html``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.core.errors import WorkbenchError
from salesops_lib.core.version import code_version
from salesops_lib.data.console import BUILT_IN_PARAMETERS, Console, check_read_only, open_console
from salesops_lib.reports import charts, narrative
from salesops_lib.runs.publish import ReportsWriteError, atomic_write_text, write_error
from salesops_lib.runs.render import page_html, sanitize_html

CHARTS: tuple[str, ...] = ("bar", "line", "none")
REQUIRED_KEYS: tuple[str, ...] = ("title", "chart")
KNOWN_KEYS: frozenset[str] = frozenset(
    {"title", "description", "parameters", "chart", "x", "y", "color", "money", "percent"}
)
PAGE_PREFIX = "q-"
"""Query pages are ``q-<name>.html`` beside the region's report notebooks."""
MAX_TABLE_ROWS = 200
"""Rows a page's table shows (the chart uses every row)."""
QUERY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_HEADER_LINE = re.compile(r"^--\s*([a-z_]+)\s*:\s*(.*?)\s*$")
_ANALYTICS_TABLE = re.compile(r"\ban_[a-z0-9_]+\b")


class QueryFileError(WorkbenchError):
    """A ``queries/*.sql`` file has a bad header or name."""


@dataclass(frozen=True)
class QuerySpec:
    """One query file, parsed.

    Attributes:
        path: The ``.sql`` file.
        name: Its stem (path-safe), used in the page name.
        title: Page title.
        description: What the question is, in words.
        parameters: The built-in parameters the SQL uses (``region``, ``as_of``).
        chart: ``bar``, ``line`` or ``none``.
        x: Column on the x axis.
        y: Column on the y axis.
        color: Column that splits bars/lines, or ``None``.
        money: Columns shown as money.
        percent: Columns shown as percentages.
        sql: The whole file (header comments included; DuckDB ignores them).
    """

    path: Path
    name: str
    title: str
    description: str
    parameters: tuple[str, ...]
    chart: str
    x: str | None
    y: str | None
    color: str | None
    money: tuple[str, ...]
    percent: tuple[str, ...]
    sql: str

    @property
    def per_region(self) -> bool:
        """Whether the query is rendered once per region (it uses ``$region``)."""
        return "region" in self.parameters


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_query(path: Path) -> QuerySpec:
    """Read and check one query file.

    Args:
        path: A ``.sql`` file with a ``-- key: value`` header.

    Returns:
        The parsed query.

    Raises:
        QueryFileError: For a bad name, an unknown, missing or invalid header key, or declared
            parameters that differ from those the SQL uses (message names file and line).
        QueryRefused: If the SQL is not one read-only statement.
    """
    text = path.read_text(encoding="utf-8")
    if not QUERY_NAME.match(path.stem):
        raise QueryFileError(f"{path}: name query files in lowercase letters, digits, - and _")
    header: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _HEADER_LINE.match(line.strip())
        if not line.lstrip().startswith("--"):
            break
        if match is None:
            continue  # a free comment line
        key, value = match.groups()
        if key not in KNOWN_KEYS:
            raise QueryFileError(
                f"{path}:{number}: unknown header key {key!r}; "
                f"keys: {', '.join(sorted(KNOWN_KEYS))}"
            )
        header[key] = value
    missing = [key for key in REQUIRED_KEYS if not header.get(key)]
    chart = header.get("chart", "")
    if chart and chart not in CHARTS:
        raise QueryFileError(f"{path}: chart {chart!r}: choose one of {', '.join(CHARTS)}")
    if chart in ("bar", "line"):
        missing += [key for key in ("x", "y") if not header.get(key)]
    if missing:
        raise QueryFileError(f"{path}: header needs {', '.join(missing)} (-- key: value lines)")
    declared = _names(header.get("parameters", ""))
    used = check_read_only(text)
    unknown = sorted(set(declared) - set(BUILT_IN_PARAMETERS))
    if unknown or set(declared) != used:
        raise QueryFileError(
            f"{path}: parameters {', '.join(declared) or '(none)'} declared, but the SQL uses "
            f"{', '.join('$' + p for p in sorted(used)) or 'none'}; a scheduled query may use "
            f"only ${' and $'.join(BUILT_IN_PARAMETERS)}"
        )
    return QuerySpec(
        path=path,
        name=path.stem,
        title=header["title"],
        description=header.get("description", ""),
        parameters=tuple(sorted(used)),
        chart=chart,
        x=header.get("x"),
        y=header.get("y"),
        color=header.get("color") or None,
        money=_names(header.get("money", "")),
        percent=_names(header.get("percent", "")),
        sql=text,
    )


def load_queries(folder: Path) -> list[QuerySpec]:
    """Every ``*.sql`` file of a folder, parsed, by name (an empty list if there is none)."""
    return [parse_query(path) for path in sorted(Path(folder).glob("*.sql"))]


def _check_columns(spec: QuerySpec, frame: pd.DataFrame) -> None:
    wanted = [c for c in (spec.x, spec.y, spec.color, *spec.money, *spec.percent) if c]
    absent = [c for c in wanted if c not in frame.columns]
    if absent:
        raise QueryFileError(
            f"{spec.path}: header names column(s) {', '.join(absent)} the result does not have; "
            f"columns: {', '.join(map(str, frame.columns))}"
        )


def query_chart_png(spec: QuerySpec, frame: pd.DataFrame, region: str) -> bytes | None:
    """The query's chart as PNG bytes (``None`` for ``chart: none`` or an empty result)."""
    if spec.chart == "none" or frame.empty:
        return None
    assert spec.x is not None and spec.y is not None
    import seaborn as sns  # here, not at import: the runner loads this module on every run
    from matplotlib.ticker import PercentFormatter

    figure, axes = charts.new_axes()
    data = frame.copy()
    data[spec.y] = pd.to_numeric(data[spec.y], errors="coerce")
    hue = spec.color
    palette = None
    if hue is not None:
        data[hue] = data[hue].astype(str)
        levels = sorted(data[hue].unique())
        palette = (
            charts.region_palette(levels)
            if hue == "region_id"
            else dict(zip(levels, charts.HOUSE_COLORS * (len(levels) // 10 + 1), strict=False))
        )
    if spec.chart == "line":
        sns.lineplot(data=data, x=spec.x, y=spec.y, hue=hue, palette=palette, marker="o", ax=axes)
    else:
        data[spec.x] = data[spec.x].astype(str)
        color = None if hue else charts.HOUSE_COLORS[0]
        sns.barplot(data=data, x=spec.x, y=spec.y, hue=hue, palette=palette, color=color, ax=axes)
        axes.set_xticks(
            axes.get_xticks(), charts.plain_labels(t.get_text() for t in axes.get_xticklabels())
        )
    if spec.y in spec.money:
        axes.yaxis.set_major_formatter(charts.money_formatter())
    elif spec.y in spec.percent:
        axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    axes.set_title(charts.plain_labels([f"{spec.title} ({region})"])[0], loc="left")
    axes.set_xlabel(spec.x)
    axes.set_ylabel(spec.y)
    if hue is not None and axes.get_legend() is not None:
        axes.legend(title=hue, fontsize=8)
    return charts.figure_png(figure)


def _table_html(spec: QuerySpec, frame: pd.DataFrame) -> str:
    shown = frame.head(MAX_TABLE_ROWS)
    for column in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[column]):
            shown = shown.assign(**{column: shown[column].dt.strftime("%Y-%m-%d")})
    table = charts.format_table(
        shown,
        money=[c for c in spec.money if c in shown.columns],
        pct=[c for c in spec.percent if c in shown.columns],
    )
    note = ""
    if len(frame) > MAX_TABLE_ROWS:
        note = (
            f"<p class='note'>First {MAX_TABLE_ROWS} of {len(frame):,} rows; the whole result: "
            "run the command under Provenance with --output FILE.</p>"
        )
    return table._repr_html_() + note


def reproduce_command(spec: QuerySpec, region: str, snapshot_id: str) -> str:
    """The command that prints this page's table again."""
    parts = ["salesops", "sql", "--file", f"queries/{spec.path.name}", "--as-of", snapshot_id]
    if spec.per_region:
        parts += ["--region", region]
    return shlex.join(parts)


def render_query_page(console: Console, spec: QuerySpec, region: str) -> str:
    """One query's page for one region: description, chart, table and provenance.

    Args:
        console: An open console over the snapshot.
        spec: The parsed query.
        region: A region id, or ``"all"``.

    Returns:
        The whole HTML page (self-contained, sanitized).

    Raises:
        QueryFileError: If the header names a column the result does not have.
        QueryRefused: If the SQL is refused.
        QueryFailed: If the SQL fails.
    """
    frame = console.sql(spec.sql, region=region)
    _check_columns(spec, frame)
    snapshot = console.snapshot
    scope = "the whole company" if region == ALL_REGIONS else f"region {region}"
    parts = [
        f"<h1>{html.escape(spec.title)}</h1>",
        f"<p>{html.escape(spec.description)}</p>" if spec.description else "",
        f"<p class='note'>{html.escape(scope)}, snapshot {snapshot.snapshot_id}; "
        f"{len(frame):,} row{'s' if len(frame) != 1 else ''}.</p>",
    ]
    png = query_chart_png(spec, frame, region)
    if png is not None:
        encoded = base64.b64encode(png).decode("ascii")
        parts.append(f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(spec.title)}">')
    parts.append(_table_html(spec, frame) if not frame.empty else "<p>No rows.</p>")
    version = code_version()
    parts += [
        "<h2>Provenance</h2>",
        narrative.provenance_html(
            snapshot_id=snapshot.snapshot_id,
            snapshot_checksum=snapshot.checksum,
            parameters={"query": spec.path.name, "region": region},
            package_version=str(version["package"]),
            commit=version["commit"],
            run_at=dt.datetime.now(dt.UTC),
            command=reproduce_command(spec, region, snapshot.snapshot_id),
        ),
    ]
    return page_html(f"{spec.title} ({region})", sanitize_html("\n".join(parts)))


def page_path(reports_dir: Path, as_of: str, region: str, spec: QuerySpec) -> Path:
    """Where a query page goes: ``<reports>/<as_of>/<region>/q-<name>.html``."""
    return Path(reports_dir) / as_of / region / f"{PAGE_PREFIX}{spec.name}.html"


def render_queries(
    queries_dir: Path,
    as_of: str | None = None,
    regions: Sequence[str] | None = None,
    snapshots_dir: Path | None = None,
    reports_dir: Path | None = None,
    on_error: Callable[[QuerySpec, str, WorkbenchError], None] | None = None,
) -> list[Path]:
    """Render every query of a folder for every region (and ``all``) of one snapshot.

    Builds the snapshot's analytics store first when a query reads an ``an_*`` table.

    Args:
        queries_dir: The folder of ``*.sql`` files (``queries/``).
        as_of: Snapshot date; ``None`` is the latest.
        regions: Region ids to render (``"all"`` included or not); default: ``all`` and every
            region of the snapshot.
        snapshots_dir: Snapshots folder; defaults to the configured one.
        reports_dir: Reports folder; defaults to the configured one.
        on_error: Called with (query, region, error) when one page fails, and the other pages
            go on (the runner's isolation); ``None`` raises the first error.

    Returns:
        The pages written, in query then region order.
    """
    specs = load_queries(queries_dir)
    if not specs:
        return []
    cfg = settings()
    if any(_ANALYTICS_TABLE.search(spec.sql) for spec in specs):
        from salesops_lib.analytics.build import build_store

        build_store(as_of, snapshots_dir)
    written: list[Path] = []
    with open_console(as_of, snapshots_dir) as console:
        snapshot_id = console.snapshot.snapshot_id
        chosen: Iterable[str] = regions or [ALL_REGIONS, *console.region_ids()]
        for spec in specs:
            for region in chosen:
                if region != ALL_REGIONS and not spec.per_region:
                    continue
                try:
                    page = render_query_page(console, spec, region)
                except WorkbenchError as exc:
                    if on_error is None:
                        raise
                    on_error(spec, region, exc)
                    continue
                path = page_path(reports_dir or cfg.reports_dir, snapshot_id, region, spec)
                try:
                    atomic_write_text(path, page)
                except OSError as exc:  # a full or read-only disk: one line, not a traceback
                    error = ReportsWriteError(write_error("the question page", exc))
                    if on_error is None:
                        raise error from None
                    on_error(spec, region, error)
                    continue
                written.append(path)
    return written


def render_run_questions(
    queries_dir: Path, as_of: str, regions: Sequence[str], reports_dir: Path
) -> tuple[list[Path], list[str]]:
    """After a job's reports: render the question pages of the run's regions, one by one.

    A failing page is reported and skipped, never fatal to the others (nor to the reports);
    the date index is rewritten afterwards so it lists the pages.

    Args:
        queries_dir: The folder of ``*.sql`` files; nothing happens if it does not exist.
        as_of: The run's snapshot date.
        regions: The regions the job ran for (``all`` included or not).
        reports_dir: The reports folder of the run.

    Returns:
        The pages written, and one line per failed page (``query (region): error``).
    """
    from salesops_lib.runs.publish import write_indexes

    if not queries_dir.is_dir():
        return [], []
    failures: list[str] = []

    def failed(spec: QuerySpec, region: str, error: WorkbenchError) -> None:
        failures.append(f"{spec.name} ({region}): {error}")

    try:
        written = render_queries(
            queries_dir, as_of, list(regions), reports_dir=reports_dir, on_error=failed
        )
    except WorkbenchError as exc:  # a broken query file: no page of any query is rendered
        return [], [f"queries: {exc}"]
    write_indexes(reports_dir, as_of)
    return written, failures
