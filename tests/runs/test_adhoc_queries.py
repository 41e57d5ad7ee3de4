"""``queries/*.sql``: header parsing, and each example query rendered as a page per region.

Known answers come from the snapshot's parquet files read with pandas (not through DuckDB).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from salesops_lib.data.console import QueryRefused
from salesops_lib.data.snapshot import list_snapshots
from salesops_lib.runs.queries import (
    QueryFileError,
    load_queries,
    page_path,
    parse_query,
    render_queries,
)
from tests.cli.in_process import run_cli
from tests.conftest import ROOT, Workspace

QUERIES = ROOT / "queries"
HEADER = """-- title: Lines per region
-- description: How many order lines each region booked.
-- parameters: region
-- chart: bar
-- x: region_id
-- y: lines
"""
BODY = (
    "select region_id, count(*) as lines from fct_bookings where region_id = $region group by 1\n"
)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_example_queries_parse() -> None:
    specs = {spec.name: spec for spec in load_queries(QUERIES)}
    assert len(specs) >= 2
    family = specs["bookings-by-family"]
    assert family.chart == "line" and (family.x, family.y) == ("order_month", "bookings")
    assert family.parameters == ("as_of", "region") and family.per_region
    assert specs["pushed-deals-win-rate"].percent == ("win_rate",)


def test_header_is_parsed(tmp_path: Path) -> None:
    spec = parse_query(write(tmp_path, "lines.sql", HEADER + BODY))
    assert (spec.name, spec.title, spec.chart, spec.x, spec.y) == (
        "lines",
        "Lines per region",
        "bar",
        "region_id",
        "lines",
    )
    assert spec.description == "How many order lines each region booked."
    assert spec.parameters == ("region",) and spec.color is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER.replace("-- title: Lines per region\n", "") + BODY, "header needs title"),
        (HEADER.replace("-- x: region_id\n", "") + BODY, "header needs x"),
        (HEADER.replace("chart: bar", "chart: pie") + BODY, "chart 'pie'"),
        ("-- title: t\n-- chart: none\n-- colour: red\n" + BODY, ":3: unknown header key"),
        (HEADER.replace("parameters: region", "parameters: as_of") + BODY, "uses $region"),
        (HEADER + BODY.replace("$region", "$family"), "may use only"),
    ],
    ids=["no title", "no x", "bad chart", "unknown key", "undeclared", "foreign parameter"],
)
def test_bad_header_names_file_and_reason(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(QueryFileError, match=re.escape(message)) as caught:
        parse_query(write(tmp_path, "bad.sql", text))
    assert "bad.sql" in str(caught.value)


def test_a_write_is_refused_at_parse_time(tmp_path: Path) -> None:
    text = "-- title: t\n-- chart: none\ncopy fct_bookings to 'out.csv'\n"
    with pytest.raises(QueryRefused, match="COPY"):
        parse_query(write(tmp_path, "write.sql", text))


def test_bad_file_name(tmp_path: Path) -> None:
    with pytest.raises(QueryFileError, match="name query files"):
        parse_query(write(tmp_path, "My Query.sql", HEADER + BODY))


# -- rendering ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tiny_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    reports = tmp_path_factory.mktemp("query-pages")
    render_queries(QUERIES, snapshots_dir=tiny_workspace.snapshots, reports_dir=reports)
    return reports


def snapshot_dir(workspace: Workspace) -> Path:
    return workspace.snapshots / list_snapshots(workspace.snapshots)[-1].isoformat()


def raw(workspace: Workspace, table: str) -> pd.DataFrame:
    return pd.read_parquet(snapshot_dir(workspace) / f"{table}.parquet")


class _Cells(HTMLParser):
    """Collects the text of every th/td of the first table, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_of(page: str) -> pd.DataFrame:
    """The page's result table (header row -> columns), as text."""
    start = page.index('<table class="dataframe')
    end = page.index("</table>", start)
    parser = _Cells()
    parser.feed(page[start:end])
    header, *rows = parser.rows
    return pd.DataFrame(rows, columns=header)


def test_every_region_gets_every_example_page(rendered: Path, tiny_workspace: Workspace) -> None:
    as_of = list_snapshots(tiny_workspace.snapshots)[-1].isoformat()
    regions = sorted(raw(tiny_workspace, "regions")["region_id"])
    for spec in load_queries(QUERIES):
        for region in ["all", *regions]:
            page = page_path(rendered, as_of, region, spec)
            assert page.is_file(), page
            text = page.read_text()
            assert spec.title in text and "Provenance" in text
            assert "data:image/png;base64," in text  # chart embedded
            assert "<script" not in text and 'src="http' not in text
            command = f"salesops sql --file queries/{spec.path.name} --as-of {as_of}"
            assert command in text
    assert not list(rendered.rglob(".tmp-*"))


def test_pushed_deals_page_matches_the_parquet_files(
    rendered: Path, tiny_workspace: Workspace
) -> None:
    as_of = list_snapshots(tiny_workspace.snapshots)[-1].isoformat()
    region = "dach"
    opportunities = raw(tiny_workspace, "opportunities").merge(
        raw(tiny_workspace, "reps")[["rep_id", "region_id"]],
        left_on="owner_rep_id",
        right_on="rep_id",
    )
    history = raw(tiny_workspace, "opportunity_stage_history")
    negotiated = set(history.loc[history["stage"] == "Negotiation", "opportunity_id"])
    closed = opportunities[
        opportunities["stage"].isin(["Closed Won", "Closed Lost"])
        & opportunities["opportunity_id"].isin(negotiated)
        & (opportunities["region_id"] == region)
    ]
    bucket = closed["push_count"].clip(upper=3).map(lambda n: "3+" if n >= 3 else str(n))
    expected = closed.groupby(bucket).agg(
        deals=("opportunity_id", "size"), won=("stage", lambda s: (s == "Closed Won").mean())
    )
    spec = parse_query(QUERIES / "pushed-deals-win-rate.sql")
    shown = table_of(page_path(rendered, as_of, region, spec).read_text())
    shown["pushes"] = shown["pushes"].astype(str)
    shown = shown.set_index("pushes")
    assert list(shown.index) == list(expected.index)
    assert shown["deals"].astype(int).tolist() == expected["deals"].tolist()
    percent = shown["win_rate"].str.rstrip("%").astype(float)
    assert percent.tolist() == [round(w * 100) for w in expected["won"]]


def test_regional_page_holds_only_its_region(rendered: Path, tiny_workspace: Workspace) -> None:
    as_of = list_snapshots(tiny_workspace.snapshots)[-1].isoformat()
    spec = parse_query(QUERIES / "bookings-by-family.sql")
    lines = raw(tiny_workspace, "order_lines")
    lines = lines.merge(raw(tiny_workspace, "products")[["product_id", "family"]], on="product_id")
    month = pd.to_datetime(lines["order_date"]).dt.to_period("M").dt.to_timestamp()
    this_month = pd.Timestamp(as_of).to_period("M").to_timestamp()
    window = (month >= this_month - pd.DateOffset(months=12)) & (month < this_month)
    for region in ("dach", "all"):
        mine = lines[window & ((lines["region_id"] == region) | (region == "all"))]
        cells = mine.groupby([month[mine.index], mine["family"]]).size()
        page = page_path(rendered, as_of, region, spec).read_text()
        assert f"; {len(cells)} rows." in page
        shown = table_of(page)
        assert len(shown) == len(cells)
        assert (
            shown["accounts"].astype(int).sum()
            == mine.groupby([month[mine.index], mine["family"]])["account_id"].nunique().sum()
        )


def test_queries_command_renders_one_region(tiny_workspace: Workspace, tmp_path: Path) -> None:
    config = yaml.safe_load(tiny_workspace.config.read_text())
    config["paths"]["reports"] = str(tmp_path / "reports")  # not the shared workspace's reports
    config_file = tmp_path / "workbench.yml"
    config_file.write_text(yaml.safe_dump(config))
    result = run_cli(
        tiny_workspace.env() | {"SALESOPS_CONFIG": str(config_file)}, "queries", "--region", "dach"
    )
    assert result.returncode == 0, result.stderr
    pages = [Path(line) for line in result.stdout.splitlines()]
    names = sorted(f"q-{spec.name}.html" for spec in load_queries(QUERIES) if spec.per_region)
    assert sorted(p.name for p in pages) == names
    assert {p.parent.name for p in pages} == {"dach"}
    assert all(p.is_file() and p.is_relative_to(tmp_path / "reports") for p in pages)
