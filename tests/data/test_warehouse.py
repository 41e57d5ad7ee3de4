"""The warehouse: layered views, bound region filters, catalogue-checked names, locked-down
file access, and bad snapshots rejected with the file named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from salesops_lib.core.errors import ParameterError, SnapshotError, WorkbenchError
from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import MANIFEST, open_snapshot, sha256_file
from salesops_lib.data.warehouse import Warehouse, dependency_order
from tests.conftest import ROOT
from tests.snapshot_builder import (
    TWO_REGION_AS_OF,
    TWO_REGION_TABLES,
    build_snapshot,
    build_two_region_snapshot,
)

INJECTION = "x' OR '1'='1"


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    snapshot = build_two_region_snapshot(tmp_path_factory.mktemp("wh"))
    with Warehouse(snapshot, threads=1, memory_limit="512MB") as warehouse:
        yield warehouse


# -- layers and models ------------------------------------------------------------------------


def test_models_are_listed_staging_then_intermediate_then_marts(wh: Warehouse) -> None:
    models = wh.models()
    layer = [0 if m.startswith("stg_") else 1 if m.startswith("int_") else 2 for m in models]
    assert layer == sorted(layer)
    assert {f"stg_{src}__{t}" for src, t in _sources()} <= set(models)
    marts = {m for m in models if m.startswith(("fct_", "dim_"))}
    assert marts == {
        "dim_regions",
        "dim_reps",
        "dim_accounts",
        "dim_products",
        "fct_bookings",
        "fct_bookings_monthly",
        "fct_opportunities",
        "fct_stage_changes",
        "fct_quota_attainment",
        "fct_quota_plan",
        "fct_region_targets",
    }
    assert not any(m.startswith("raw_") for m in models)


def _sources() -> list[tuple[str, str]]:
    source = {"order_lines": "erp", "products": "erp", "quotas": "plan", "region_targets": "plan"}
    return [(source.get(t, "crm"), t) for t in TABLES]


def test_only_staging_reads_raw_tables() -> None:
    paths = sorted((ROOT / "salesops_lib" / "data" / "sql").glob("*/*.sql"))
    assert {p.parent.name for p in paths} == {"staging", "intermediate", "marts"}
    for path in paths:
        reads_raw = "raw_" in path.read_text()
        assert reads_raw == (path.parent.name == "staging"), path


def test_dependency_order_puts_references_first_and_is_deterministic() -> None:
    sql = {"c": "select * from b", "b": "select * from a", "a": "select 1", "d": "select 2"}
    assert dependency_order(sql) == ["a", "b", "c", "d"]
    with pytest.raises(WorkbenchError, match="cycle: x, y"):
        dependency_order({"x": "select * from y", "y": "select * from x"})


def test_as_of_reaches_sql_from_the_snapshot(wh: Warehouse) -> None:
    meta = wh.query("SELECT as_of, snapshot_id FROM snapshot_meta")
    assert meta["as_of"].iloc[0].date() == TWO_REGION_AS_OF
    assert meta["snapshot_id"].iloc[0] == "2024-03-20"
    assert wh.as_of == TWO_REGION_AS_OF


def test_regions_returns_dim_regions(wh: Warehouse) -> None:
    assert wh.regions().to_dict(orient="records") == [
        {"region_id": "east", "region_name": "East"},
        {"region_id": "west", "region_name": "West"},
    ]


# -- region filter ----------------------------------------------------------------------------


def test_region_table_equals_filtered_whole_company_frame(wh: Warehouse) -> None:
    checked = 0
    for model in wh.models():
        if "region_id" not in wh.columns(model):
            continue
        whole = wh.table(model)
        for region in ("east", "west"):
            expected = whole[whole["region_id"] == region].reset_index(drop=True)
            # DuckDB gives a nullable Int64 only when a column holds NULLs: compare values.
            pd.testing.assert_frame_equal(
                wh.table(model, region=region), expected, check_dtype=False
            )
        checked += 1
    assert checked >= 12


def test_all_and_none_mean_whole_company(wh: Warehouse) -> None:
    pd.testing.assert_frame_equal(wh.table("fct_bookings", "all"), wh.table("fct_bookings"))
    assert len(wh.table("fct_bookings")) == 6


def test_injected_region_is_rejected_not_run(wh: Warehouse) -> None:
    with pytest.raises(ParameterError) as info:
        wh.table("fct_bookings", region=INJECTION)
    message = str(info.value)
    assert INJECTION in message and "east, west" in message


def test_region_is_bound_in_ad_hoc_sql(wh: Warehouse) -> None:
    sql = "SELECT count(*) AS n FROM fct_bookings WHERE region_id = ?"
    assert wh.query(sql, [INJECTION])["n"].iloc[0] == 0
    assert wh.query(sql, ["west"])["n"].iloc[0] == 1
    named = "SELECT count(*) AS n FROM fct_bookings WHERE region_id = $region"
    assert wh.query(named, {"region": "east"})["n"].iloc[0] == 5


def test_region_on_model_without_region_column_is_rejected(wh: Warehouse) -> None:
    with pytest.raises(ParameterError, match="dim_products has no region_id"):
        wh.table("dim_products", region="east")


# -- model and column names -------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        "fct_bookings; DROP VIEW dim_regions",
        'fct_bookings" --',
        "raw_order_lines",
        "snapshot_meta",
        "information_schema.tables",
        "FCT_BOOKINGS",
    ],
)
def test_unknown_or_injected_model_is_rejected(wh: Warehouse, model: str) -> None:
    with pytest.raises(ParameterError, match="unknown model") as info:
        wh.table(model)
    assert "fct_bookings" in str(info.value) and "dim_regions" in str(info.value)
    assert "dim_regions" in wh.models()


def test_unknown_or_injected_column_is_rejected(wh: Warehouse) -> None:
    with pytest.raises(ParameterError, match="unknown column") as info:
        wh.table("fct_bookings", columns=['amount" FROM dim_regions --'])
    assert "order_id" in str(info.value)
    with pytest.raises(ParameterError, match="'nope'"):
        wh.columns("nope")


def test_columns_selects_only_those(wh: Warehouse) -> None:
    frame = wh.table("fct_bookings", columns=["amount", "order_id"])
    assert list(frame.columns) == ["amount", "order_id"]
    assert sorted(frame["amount"]) == [30.0, 75.0, 90.0, 100.0, 150.0, 200.0]


# -- locked-down connection -------------------------------------------------------------------


def test_other_files_cannot_be_read(wh: Warehouse, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    with pytest.raises(duckdb.PermissionException):
        wh.query("SELECT * FROM read_csv(?)", [str(outside)])
    with pytest.raises(duckdb.Error, match="locked"):
        wh._con.execute("SET enable_external_access = true")


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("COPY (SELECT 1 AS x) TO '{path}' (FORMAT parquet, USE_TMP_FILE false)", "COPY"),
        ("DROP VIEW dim_regions", "DROP"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("ATTACH ':memory:' AS other", "ATTACH"),
        ("SET threads = 8", "SET"),
        ("SELECT 1; DROP VIEW dim_regions", "SELECT, DROP"),
    ],
)
def test_query_refuses_statements_that_write_or_change(
    wh: Warehouse, statement: str, kind: str
) -> None:
    target = wh.snapshot.table_path("regions").resolve()
    before = sha256_file(target)
    with pytest.raises(ParameterError, match=f"read-only SELECT statement; got {kind}$"):
        wh.query(statement.format(path=target))
    assert sha256_file(target) == before
    assert "dim_regions" in wh.models() and len(wh.table("dim_regions")) == 2


def test_query_allows_with_select_and_explain(wh: Warehouse) -> None:
    frame = wh.query("WITH b AS (SELECT * FROM fct_bookings) SELECT count(*) AS n FROM b")
    assert frame["n"].iloc[0] == 6
    assert len(wh.query("EXPLAIN SELECT * FROM dim_regions")) >= 1


def test_threads_and_memory_limit_are_applied(tmp_path: Path) -> None:
    snapshot = build_snapshot(tmp_path, "2024-03-20")
    with Warehouse(snapshot, threads=3, memory_limit="256MB") as warehouse:
        settings = warehouse.query(
            "SELECT current_setting('threads') AS t, current_setting('memory_limit') AS m"
        )
        assert int(settings["t"].iloc[0]) == 3
        assert settings["m"].iloc[0].startswith("244")  # 256 MB = 244.1 MiB


# -- opening snapshots ------------------------------------------------------------------------


def _config(tmp_path: Path, snapshots: Path, threads: int) -> Path:
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text())
    config["paths"] = {"snapshots": str(snapshots), "reports": str(tmp_path / "reports")}
    config["duckdb"] = {"threads": threads, "memory_limit": "300MB"}
    path = tmp_path / "workbench.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_open_uses_config_and_latest_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshots = tmp_path / "snapshots"
    build_snapshot(tmp_path, "2024-03-13", {"order_lines": []})
    build_snapshot(tmp_path, "2024-03-20")
    monkeypatch.setenv("SALESOPS_CONFIG", str(_config(tmp_path, snapshots, threads=1)))
    with Warehouse.open() as latest:
        assert latest.as_of.isoformat() == "2024-03-20"
        assert len(latest.table("fct_bookings")) == 1
        assert latest.query("SELECT current_setting('threads') AS t")["t"].iloc[0] == 1
    with Warehouse.open("2024-03-13") as older:
        assert len(older.table("fct_bookings")) == 0
    with Warehouse.open("2024-03-20", snapshots_dir=snapshots) as explicit:
        assert explicit.snapshot.snapshot_id == "2024-03-20"


def test_unknown_region_lists_snapshot_regions(tmp_path: Path) -> None:
    with (
        Warehouse(build_two_region_snapshot(tmp_path)) as warehouse,
        pytest.raises(ParameterError, match=r"'na-east'.*east, west"),
    ):
        warehouse.table("fct_bookings", region="na-east")


def test_close_removes_spill_folder(tmp_path: Path) -> None:
    warehouse = Warehouse(build_snapshot(tmp_path, "2024-03-20"))
    spill = warehouse._spill_dir
    assert spill.is_dir()
    warehouse.close()
    assert not spill.exists()


@pytest.fixture
def written(tmp_path: Path) -> Path:
    build_snapshot(tmp_path, "2024-03-20", TWO_REGION_TABLES)
    return tmp_path / "snapshots"


def test_truncated_parquet_is_rejected_naming_the_file(written: Path) -> None:
    path = written / "2024-03-20" / "order_lines.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(SnapshotError, match=r"order_lines\.parquet .*sha256"):
        Warehouse.open("2024-03-20", snapshots_dir=written)


def test_empty_parquet_is_rejected_naming_the_file(written: Path) -> None:
    (written / "2024-03-20" / "quotas.parquet").write_bytes(b"")
    with pytest.raises(SnapshotError, match=r"quotas\.parquet"):
        Warehouse.open("2024-03-20", snapshots_dir=written)


def test_missing_table_file_is_rejected_naming_it(written: Path) -> None:
    (written / "2024-03-20" / "reps.parquet").unlink()
    with pytest.raises(SnapshotError, match=r"reps\.parquet .*missing"):
        Warehouse.open("2024-03-20", snapshots_dir=written)


def _rewrite_manifest(folder: Path, filename: str, **changes: object) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"][filename].update(changes)
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_manifest_row_count_mismatch_is_rejected(written: Path) -> None:
    _rewrite_manifest(written / "2024-03-20", "accounts.parquet", rows=99)
    with pytest.raises(SnapshotError, match=r"accounts\.parquet has 4 rows, manifest says 99"):
        Warehouse.open("2024-03-20", snapshots_dir=written)


def test_unreadable_parquet_with_matching_checksum_is_rejected(written: Path) -> None:
    folder = written / "2024-03-20"
    (folder / "products.parquet").write_bytes(b"not parquet at all")
    _rewrite_manifest(folder, "products.parquet", sha256=sha256_file(folder / "products.parquet"))
    with pytest.raises(SnapshotError, match=r"products\.parquet is not readable parquet"):
        Warehouse.open("2024-03-20", snapshots_dir=written)


def test_missing_snapshot_date_is_rejected(written: Path) -> None:
    with pytest.raises(SnapshotError, match="no snapshot for as-of 2020-01-01"):
        Warehouse.open("2020-01-01", snapshots_dir=written)


def test_warehouse_does_not_change_the_snapshot(written: Path) -> None:
    before = {p.name: sha256_file(p) for p in (written / "2024-03-20").iterdir()}
    with Warehouse.open("2024-03-20", snapshots_dir=written) as warehouse:
        for model in warehouse.models():
            warehouse.table(model)
    after = {p.name: sha256_file(p) for p in (written / "2024-03-20").iterdir()}
    assert before == after
    open_snapshot(written, "2024-03-20")  # still verifies
