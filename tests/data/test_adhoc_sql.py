"""Ad-hoc SQL: ``salesops sql`` / ``salesops tables`` and the read-only console under them.

Known answers come from the snapshot's parquet files read with pyarrow (not through DuckDB); the
read-only guarantees are checked through the command line a user would type.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from salesops_lib.cli.adhoc import _docstring_grains, analytics_grains
from salesops_lib.core.config import load_settings
from salesops_lib.core.errors import ParameterError
from salesops_lib.data.console import Console, QueryFailed, QueryRefused, check_read_only
from salesops_lib.data.snapshot import list_snapshots, open_snapshot
from salesops_lib.data.store import write_store
from tests.cli.in_process import CliResult, run_cli
from tests.conftest import Workspace, make_workspace

REGION = "dach"
BY_REGION = (
    "select region_id, count(*) as lines, sum(amount) as bookings from fct_bookings "
    "where $region = 'all' or region_id = $region group by region_id order by region_id"
)


def salesops(workspace: Workspace, *args: str) -> CliResult:
    """Run the CLI against ``workspace`` (in this process: the same app and arguments)."""
    return run_cli(workspace.env(), *args)


def latest(workspace: Workspace) -> Path:
    return workspace.snapshots / list_snapshots(workspace.snapshots)[-1].isoformat()


def bookings_by_region(snapshot: Path) -> dict[str, tuple[int, float]]:
    """Lines and amount per rep region, from the raw parquet files (independent of DuckDB)."""
    lines = pq.read_table(snapshot / "order_lines.parquet", columns=["rep_id", "amount"])
    reps = pq.read_table(snapshot / "reps.parquet", columns=["rep_id", "region_id"])
    joined = lines.join(reps, "rep_id")
    grouped = joined.group_by("region_id").aggregate([("amount", "sum"), ("amount", "count")])
    return {
        row["region_id"]: (row["amount_count"], row["amount_sum"]) for row in grouped.to_pylist()
    }


@pytest.fixture()
def console(tiny_workspace: Workspace) -> Console:
    with Console.open(snapshots_dir=tiny_workspace.snapshots) as opened:
        assert isinstance(opened, Console)
        yield opened


# -- answers ----------------------------------------------------------------------------------


def test_sql_csv_matches_the_parquet_files(tiny_workspace: Workspace) -> None:
    result = salesops(tiny_workspace, "sql", BY_REGION, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = bookings_by_region(latest(tiny_workspace))
    assert {r["region_id"] for r in rows} == set(expected)
    for row in rows:
        lines, amount = expected[row["region_id"]]
        assert int(row["lines"]) == lines
        assert float(row["bookings"]) == pytest.approx(amount, abs=0.01)


def test_region_binds_as_a_parameter(tiny_workspace: Workspace) -> None:
    result = salesops(tiny_workspace, "sql", BY_REGION, "--region", REGION, "--format", "md")
    assert result.returncode == 0, result.stderr
    lines, amount = bookings_by_region(latest(tiny_workspace))[REGION]
    table = [line for line in result.stdout.splitlines() if line.startswith("|")]
    assert table[0] == "| region_id | lines | bookings |"
    assert len(table) == 3  # header, rule, one region
    cells = [c.strip() for c in table[2].strip("|").split("|")]
    assert cells[0] == REGION and int(cells[1]) == lines
    assert float(cells[2]) == pytest.approx(amount, abs=0.01)


def test_a_region_value_is_never_sql(tiny_workspace: Workspace) -> None:
    result = salesops(tiny_workspace, "sql", BY_REGION, "--region", "x' or '1'='1")
    assert result.returncode == 2
    assert "unknown region" in result.stderr


def test_as_of_picks_the_snapshot_and_binds_its_date(tiny_workspace: Workspace) -> None:
    first = list_snapshots(tiny_workspace.snapshots)[0].isoformat()
    result = salesops(
        tiny_workspace, "sql", "select $as_of as as_of, (select as_of from snapshot_meta) as meta",
        "--as-of", first, "--format", "csv",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == f"{first},{first}"


def test_file_query_to_xlsx_and_csv_files(tiny_workspace: Workspace, tmp_path: Path) -> None:
    query = tmp_path / "q.sql"
    query.write_text(
        "-- every order line of one region\nselect * from fct_bookings\n"
        "where region_id = $region order by order_id, line_number;\n"
    )
    xlsx, out_csv = tmp_path / "out" / "lines.xlsx", tmp_path / "lines.csv"
    for target in (xlsx, out_csv):
        result = salesops(tiny_workspace, "sql", "--file", str(query), "--region", REGION,
                          "--output", str(target))  # fmt: skip
        assert result.returncode == 0, result.stderr
    lines = bookings_by_region(latest(tiny_workspace))[REGION][0]
    sheet = load_workbook(xlsx, read_only=True)["result"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("order_id", "line_number")
    assert len(rows) == lines + 1
    assert {row[rows[0].index("region_id")] for row in rows[1:]} == {REGION}
    with out_csv.open() as handle:
        assert sum(1 for _ in csv.reader(handle)) == lines + 1
    assert [p.name for p in out_csv.parent.iterdir() if p.name.startswith(".")] == []


def test_extra_parameters_bind_by_name(tiny_workspace: Workspace) -> None:
    sql = "select count(*) as n from fct_bookings where product_family = $family"
    result = salesops(tiny_workspace, "sql", sql, "--param", "family=Hardware", "--format", "csv")
    assert result.returncode == 0, result.stderr
    lines = pq.read_table(latest(tiny_workspace) / "order_lines.parquet")
    products = pq.read_table(latest(tiny_workspace) / "products.parquet")
    hardware = pc.filter(products, pc.equal(products["family"], "Hardware"))["product_id"]
    expected = pc.sum(pc.is_in(lines["product_id"], value_set=hardware)).as_py()
    assert int(result.stdout.splitlines()[1]) == expected


def test_tables_lists_marts_with_their_grain(tiny_workspace: Workspace) -> None:
    result = salesops(tiny_workspace, "tables")
    assert result.returncode == 0, result.stderr
    for name, grain in [("fct_bookings", "one row per order line"),
                        ("dim_regions", "one row per sales region")]:  # fmt: skip
        assert name in result.stdout and grain in result.stdout
    one = salesops(tiny_workspace, "tables", "fct_bookings")
    assert one.returncode == 0 and "amount decimal(18,6)" in one.stdout
    assert "dim_regions" not in one.stdout


# -- read-only guarantees -----------------------------------------------------------------------

REFUSED = {
    "write": ("copy (select 1 as x) to '{tmp}/written.csv'", "COPY"),
    "attach": ("attach '{tmp}/other.duckdb' as other", "ATTACH"),
    "outside file": ("select * from read_csv('/etc/passwd')", "/etc/passwd"),
    "install": ("install httpfs", "INSTALL/LOAD"),
    "load": ("load parquet", "INSTALL/LOAD"),
    "setting": ("set enable_external_access = true", "SET"),
    "two statements": ("select 1; select 2", "exactly one statement"),
}


@pytest.mark.parametrize("case", sorted(REFUSED), ids=sorted(REFUSED))
def test_refused_with_one_clear_line(case: str, tiny_workspace: Workspace, tmp_path: Path) -> None:
    sql, named = REFUSED[case]
    result = salesops(tiny_workspace, "sql", sql.format(tmp=tmp_path))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: refused") and named in lines[0]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_duckdb_itself_refuses_behind_the_statement_check(console: Console, tmp_path: Path) -> None:
    """Second line of defence: the locked connection refuses even if a statement got through."""
    con = console._con
    for sql in (
        f"copy (select 1) to '{tmp_path}/x.csv'",
        f"attach '{tmp_path}/x.duckdb'",
        "select * from read_csv('/etc/passwd')",
        "load httpfs",
    ):
        with pytest.raises(Exception, match=r"(?i)permission|disabled"):
            con.execute(sql)
    with pytest.raises(Exception, match="locked"):
        con.execute("set enable_external_access = true")
    assert list(tmp_path.iterdir()) == []


def test_another_snapshot_is_outside_the_console(tiny_workspace: Workspace) -> None:
    first = list_snapshots(tiny_workspace.snapshots)[0]
    inside = latest(tiny_workspace) / "regions.parquet"
    outside = tiny_workspace.snapshots / first.isoformat() / "regions.parquet"
    ok = salesops(tiny_workspace, "sql", f"select count(*) from read_parquet('{inside}')")
    assert ok.returncode == 0, ok.stderr
    refused = salesops(tiny_workspace, "sql", f"select count(*) from read_parquet('{outside}')")
    assert refused.returncode == 2 and "refused" in refused.stderr


def test_statement_check_reports_parameters() -> None:
    assert check_read_only("select $region, $as_of") == {"region", "as_of"}
    with pytest.raises(QueryFailed, match="does not parse"):
        check_read_only("selec 1")
    with pytest.raises(QueryRefused, match="DROP"):
        check_read_only("drop view fct_bookings")


def test_missing_or_unused_parameters_are_errors(console: Console) -> None:
    with pytest.raises(QueryFailed, match=r"\$family"):
        console.sql("select $family")
    with pytest.raises(QueryFailed, match="never uses"):
        console.sql("select 1", params={"family": "x"})
    with pytest.raises(QueryFailed, match="--region"):
        console.sql("select $region", params={"region": "x"})
    with pytest.raises(ParameterError, match="unknown region"):
        console.sql("select $region", region="mars")


def test_unknown_table_is_one_line(console: Console) -> None:
    with pytest.raises(QueryFailed) as caught:
        console.sql("select * from no_such_mart")
    assert "\n" not in str(caught.value) and "no_such_mart" in str(caught.value)


# -- streaming ----------------------------------------------------------------------------------


def test_results_stream_in_batches(console: Console, tiny_workspace: Workspace) -> None:
    total = pq.read_metadata(latest(tiny_workspace) / "order_lines.parquet").num_rows
    schema, batches = console.batches(
        "select order_id, line_number, amount from fct_bookings", rows_per_batch=1000
    )
    sizes = [batch.num_rows for batch in batches]
    assert schema.names == ["order_id", "line_number", "amount"]
    assert sum(sizes) == total and len(sizes) >= total // 1000
    assert max(sizes) <= 1000
    table = pa.Table.from_batches(
        console.batches("select amount from fct_bookings", rows_per_batch=500)[1]
    )
    raw = pq.read_table(latest(tiny_workspace) / "order_lines.parquet", columns=["amount"])
    assert float(pc.sum(table["amount"].cast(pa.float64())).as_py()) == pytest.approx(
        pc.sum(raw["amount"]).as_py(), abs=0.05
    )


# -- analytics store tables ---------------------------------------------------------------------


@pytest.fixture()
def with_store(
    tiny_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    """A private copy of the latest tiny snapshot with a hand-made two-scope analytics store.

    The code version is pinned (for this process and the CLI it runs), so the store is found
    even while the package's source changes under the test.
    """
    monkeypatch.setenv("SALESOPS_CODE_VERSION", "adhoc-test-store")
    workspace = make_workspace(tmp_path / "ws")
    source = latest(tiny_workspace)
    shutil.copytree(source, workspace.snapshots / source.name)
    snapshot = open_snapshot(workspace.snapshots, source.name, verify=True)
    rows = pd.DataFrame(
        {"scope": ["all", "all", "dach"], "region_id": ["dach", "uki", "dach"], "value": [1, 2, 3]}
    )
    analytics = load_settings(workspace.config).analytics_dir_for(workspace.snapshots)
    write_store(analytics, snapshot, {"an_test_values": rows}, {"test": 0.0})
    return workspace


def test_store_tables_are_listed_and_queried_by_scope(with_store: Workspace) -> None:
    listed = salesops(with_store, "tables")
    assert listed.returncode == 0, listed.stderr
    assert "an_test_values" in listed.stdout and "analytics" in listed.stdout
    sql = "select region_id, value from an_test_values where scope = $region order by value"
    result = salesops(with_store, "sql", sql, "--region", "dach", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["region_id,value", "dach,3"]


def test_missing_store_table_says_how_to_build(tiny_workspace: Workspace, tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    source = latest(tiny_workspace)
    shutil.copytree(source, workspace.snapshots / source.name)
    result = salesops(workspace, "sql", "select * from an_forecast_months")
    assert result.returncode == 2
    assert "salesops build" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_grains_come_from_docstring_bullets() -> None:
    text = """Topic tables.

    * ``an_deal_rows``: one row per scope x deal (``region_id``; all for the company): amount;
      more words
    * ``an_notes``: one row per scope x note, in
      reading order.

    Other text.
    """
    assert _docstring_grains(text) == {
        "an_deal_rows": "one row per scope x deal (region_id; all for the company)",
        "an_notes": "one row per scope x note, in reading order",
    }


def test_every_store_table_documents_what_one_row_is() -> None:
    from salesops_lib.analytics.build import build_steps

    grains = analytics_grains()
    for step in build_steps():
        first = (step.compute.__doc__ or "").strip().splitlines()[:1]
        for table in step.tables:
            assert grains[table] and grains[table] not in first, (
                f"{table}: document it as '* ``{table}``: one row per ...' in a docstring of "
                f"its topic package"
            )
