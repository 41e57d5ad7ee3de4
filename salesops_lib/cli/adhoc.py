"""Ad-hoc analysis commands: ``salesops sql`` and ``salesops tables``.

``salesops sql`` runs one read-only query over a snapshot's marts and analytics store (see
:mod:`salesops_lib.data.console`): ``$region`` and ``$as_of`` bind as parameters, the result is
printed as a table or streamed batch by batch to CSV, Markdown or Excel (stdout or a file written
atomically). ``salesops tables`` lists what can be queried and what one row of each table is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import io
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from salesops_lib.cli.app import app, handles_errors
from salesops_lib.core.errors import ParameterError

FORMATS: tuple[str, ...] = ("table", "csv", "md", "xlsx")
SUFFIX_FORMATS: dict[str, str] = {".csv": "csv", ".md": "md", ".xlsx": "xlsx", ".txt": "table"}
XLSX_MAX_ROWS = 1_048_575
"""Data rows an Excel sheet holds below its header row."""
_GRAIN_LINE = re.compile(r"^\s*[*-]\s+``(an_[a-z0-9_]+)``\s*:\s*(.+)$")


def resolve_format(fmt: str | None, output: Path | None) -> str:
    """The output format: as given, else from the output file's suffix, else a table on screen.

    Raises:
        ParameterError: For an unknown format, or a screen table asked to go to a file.
    """
    chosen = fmt or (SUFFIX_FORMATS.get(output.suffix.lower(), "csv") if output else "table")
    if chosen not in FORMATS:
        raise ParameterError(f"--format {chosen!r}: choose one of {', '.join(FORMATS)}")
    if chosen == "xlsx" and output is None:
        raise ParameterError("--format xlsx needs --output FILE.xlsx")
    return chosen


def parse_params(pairs: list[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` -> ``{"k": "v"}``; raises ParameterError for an entry without ``=``."""
    params: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param {pair!r}: write name=value")
        params[name.strip()] = value
    return params


def _plain(value: Any) -> Any:
    """A cell value as Excel/Markdown take it: Decimal -> float, naive datetimes."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _md_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, dt.date) else str(_plain(value))
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _rows(batches: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
    for batch in batches:
        columns = [column.to_pylist() for column in batch.columns]
        yield from zip(*columns, strict=True)


def write_csv(schema: Any, batches: Iterator[Any], sink: IO[bytes]) -> int:
    """Stream batches as CSV (header first, text quoted only where needed); returns the rows.

    Each Arrow batch is converted and written on its own, so memory holds one batch.
    """
    import csv

    text = io.TextIOWrapper(sink, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(schema.names)
    rows = 0
    for batch in batches:
        frame = batch.to_pandas(date_as_object=True)
        frame.to_csv(text, header=False, index=False, lineterminator="\n")
        rows += batch.num_rows
    text.flush()
    text.detach()
    return rows


def write_markdown(schema: Any, batches: Iterator[Any], sink: IO[bytes]) -> int:
    """Stream batches as a GitHub Markdown table; returns the number of rows written."""
    names = [_md_cell(name) for name in schema.names]
    sink.write(("| " + " | ".join(names) + " |\n").encode())
    sink.write(("|" + "|".join("---" for _ in names) + "|\n").encode())
    rows = 0
    for row in _rows(batches):
        sink.write(("| " + " | ".join(_md_cell(v) for v in row) + " |\n").encode())
        rows += 1
    return rows


def write_xlsx(schema: Any, batches: Iterator[Any], path: Path) -> int:
    """Stream batches into one Excel sheet (write-only mode); returns the rows written.

    Raises:
        ParameterError: If the result has more rows than a sheet holds.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("result")
    sheet.append(list(schema.names))
    rows = 0
    for row in _rows(batches):
        rows += 1
        if rows > XLSX_MAX_ROWS:
            raise ParameterError(
                f"the result has more than {XLSX_MAX_ROWS:,} rows, more than an Excel sheet "
                "holds; use --format csv"
            )
        sheet.append([_plain(v) for v in row])
    book.save(path)
    return rows


def print_table(schema: Any, batches: Iterator[Any], limit: int) -> int:
    """Print the first ``limit`` rows as a table on stdout, count the rest; returns all rows."""
    from rich.console import Console as RichConsole
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", show_lines=False)
    for name in schema.names:
        table.add_column(name, overflow="fold")
    rows = 0
    for row in _rows(batches):
        if rows < limit:
            table.add_row(*("" if v is None else str(_plain(v)) for v in row))
        rows += 1
    RichConsole(width=max(100, len(schema.names) * 14)).print(table)
    shown = min(rows, limit)
    more = (
        f"; showing the first {shown} (use --output FILE or --format csv)" if rows > limit else ""
    )
    typer.echo(f"{rows:,} row{'s' if rows != 1 else ''}{more}", err=True)
    return rows


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path``, renamed onto it only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_result(
    fmt: str, schema: Any, batches: Iterator[Any], output: Path | None, limit: int
) -> int:
    """Write a streamed result in ``fmt`` to ``output`` (or stdout); returns the rows written."""
    if fmt == "table" and output is None:
        return print_table(schema, batches, limit)
    if output is None:
        sink = sys.stdout.buffer
        rows = (write_csv if fmt == "csv" else write_markdown)(schema, batches, sink)
        sink.flush()
        return rows
    with atomic_output(output) as temp:
        if fmt == "xlsx":
            return write_xlsx(schema, batches, temp)
        with temp.open("wb") as sink:
            if fmt == "table":
                return write_markdown(schema, batches, sink)
            return (write_csv if fmt == "csv" else write_markdown)(schema, batches, sink)


def _before_columns(text: str) -> str:
    """The text up to the first ``;`` or ``": "`` outside parentheses, without a final period."""
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and (char == ";" or text.startswith(": ", index)):
            return text[:index].strip().rstrip(".")
    return text.strip().rstrip(".")


def _docstring_grains(text: str) -> dict[str, str]:
    """``* ``an_x``: one row per ...`` bullets of a docstring -> {table: grain}.

    A bullet's continuation lines are joined; the grain is the text before the first ``;`` or
    ``": "`` (what follows is a column list), cut to 140 characters.
    """
    grains: dict[str, str] = {}
    current: str | None = None
    parts: list[str] = []

    def close() -> None:
        if current is not None:
            grain = _before_columns(" ".join(parts).replace("``", ""))
            grains.setdefault(current, grain if len(grain) <= 140 else grain[:139] + "…")

    for line in text.splitlines():
        match = _GRAIN_LINE.match(line)
        if match:
            close()
            current, parts = match.group(1), [match.group(2).strip()]
        elif current is not None and line.startswith("  ") and line.strip():
            parts.append(line.strip())
        else:
            close()
            current, parts = None, []
    close()
    return grains


def analytics_grains() -> dict[str, str]:
    """What one row of each analytics table is, from the docstrings of its topic's modules.

    Topics document their tables as bullets ``* ``an_x``: one row per ...`` in the docstring of
    the build step's function or of a module of the topic's package; a table found nowhere gets
    the first line of its step function's docstring.
    """
    from salesops_lib.analytics.build import build_steps

    steps = build_steps()
    grains: dict[str, str] = {}
    for step in steps:
        module = getattr(step.compute, "__module__", "") or ""
        package = module.rpartition(".")[0] or module
        texts = [getattr(step.compute, "__doc__", None) or ""]
        texts += [
            loaded.__doc__ or ""
            for name, loaded in sorted(sys.modules.items())
            if loaded is not None and (name == package or name.startswith(package + "."))
        ]
        found: dict[str, str] = {}
        for text in texts:
            for table, grain in _docstring_grains(text).items():
                found.setdefault(table, grain)
        doc = texts[0].strip()
        first = doc.splitlines()[0].strip() if doc else f"(build step {step.name!r})"
        for table in step.tables:
            grains[table] = found.get(table, first)
    return grains


@app.command("sql")
@handles_errors
def sql_command(
    query: Annotated[
        str | None, typer.Argument(help="One SELECT statement (or use --file).", show_default=False)
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the query from a .sql file.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Snapshot date YYYY-MM-DD (default: the latest).")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="Region id bound to $region (default: 'all').")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Further $name parameter: name=value.")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="table | csv | md | xlsx (default: from --output's suffix)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the whole result to this file.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows shown by --format table on screen.")] = 50,
) -> None:
    """Run one read-only SQL query over a snapshot's marts and analytics tables.

    $region (a region id, or 'all') and $as_of (the snapshot date) bind as parameters. Writes,
    ATTACH, extensions and files outside the snapshot are refused.
    """
    from salesops_lib.data.console import open_console

    if (query is None) == (file is None):
        raise ParameterError("give a query or --file FILE.sql (exactly one)")
    if file is not None:
        if not file.is_file():
            raise ParameterError(f"--file {file}: no such file")
        query = file.read_text(encoding="utf-8")
    assert query is not None
    chosen = resolve_format(fmt, output)
    with open_console(as_of) as console:
        schema, batches = console.batches(query, region, parse_params(param))
        rows = write_result(chosen, schema, batches, output, limit)
    if output is not None:
        typer.echo(f"{rows:,} rows -> {output}", err=True)


@app.command("tables")
@handles_errors
def tables_command(
    name: Annotated[
        str | None, typer.Argument(help="Show one table's columns.", show_default=False)
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Snapshot date YYYY-MM-DD (default: the latest).")
    ] = None,
) -> None:
    """List the marts and analytics tables: what one row is, and their columns."""
    from rich.console import Console as RichConsole
    from rich.table import Table

    from salesops_lib.data.console import open_console

    grains = analytics_grains()
    with open_console(as_of) as console:
        catalogue = console.catalogue(grains)
        snapshot, built = console.snapshot.snapshot_id, console.store is not None
    if name is not None:
        chosen = [t for t in catalogue if t.name == name]
        if not chosen:
            known = ", ".join(t.name for t in catalogue)
            raise ParameterError(f"unknown table {name!r}; tables: {known}")
        catalogue = chosen
    out = RichConsole(width=120)
    table = Table(title=f"snapshot {snapshot}", show_lines=name is None, title_justify="left")
    table.add_column("table", style="bold", no_wrap=True)
    table.add_column("kind")
    table.add_column("one row is")
    table.add_column("columns", overflow="fold")
    for info in catalogue:
        sep = "\n" if name is not None else ", "
        columns = sep.join(f"{column} {kind.lower()}" for column, kind in info.columns)
        table.add_row(info.name, info.kind, info.grain, columns)
    out.print(table)
    if not built:
        typer.echo(
            f"analytics tables (an_*): the store of {snapshot} is not built for this code; "
            f"run `salesops build --as-of {snapshot}` to add them",
            err=True,
        )


@app.command("queries")
@handles_errors
def queries_command(
    as_of: Annotated[
        str | None, typer.Option(help="Snapshot date YYYY-MM-DD (default: the latest).")
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="Region id (repeatable; default: 'all' and every region)."),
    ] = None,
    queries_dir: Annotated[
        Path | None, typer.Option(help="Folder of *.sql query files (default: <project>/queries).")
    ] = None,
) -> None:
    """Render every queries/*.sql as a report page per region: reports/<as_of>/<region>/q-*.html."""
    from salesops_lib.core.config import project_root
    from salesops_lib.runs.queries import render_queries

    folder = queries_dir or project_root() / "queries"
    if not folder.is_dir():
        raise ParameterError(f"--queries-dir {folder}: no such folder")
    pages = render_queries(folder, as_of, region or None)
    for page in pages:
        typer.echo(str(page))
    typer.echo(f"{len(pages)} query page(s) written", err=True)
