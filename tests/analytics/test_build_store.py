"""The analytics store build: Dask equals local, no-op rebuilds, code versions, atomic writes,
and the warehouse's ``an_*`` views.

Small hand-made build steps (passed through ``steps=``) read the tiny demo's marts and fan out
one task per scope through ``context.executor``; the Dask builds run on a real scheduler with
two worker processes. Each fan-out task leaves a marker file naming the process that ran it, so
the tests see where the work really happened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from salesops_lib.analytics.build import BuildContext, BuildStep, build_store
from salesops_lib.core.errors import ParameterError
from salesops_lib.data.snapshot import open_snapshot
from salesops_lib.data.store import CODE_VERSION_ENV, MANIFEST
from salesops_lib.data.warehouse import Warehouse
from tests.conftest import ROOT, Workspace
from tests.trivial_notebooks import start_dask_cluster, stop_processes

CALLS: list[str] = []
"""Names of the steps computed in this process (the no-op test counts them)."""


def scope_totals(item: tuple[str, tuple[float, ...], str]) -> dict[str, object]:
    """One scope's booking summary; writes ``<markers>/<scope>.pid`` (runs on any worker)."""
    scope, amounts, markers = item
    Path(markers, f"{scope}.pid").write_text(str(os.getpid()))
    return {
        "scope": scope,
        "order_lines": len(amounts),
        "amount_total": float(sum(amounts)),
        "amount_max": max(amounts, default=0.0),
    }


def _totals_step(markers: Path) -> BuildStep:
    """``an_booking_totals``: one row per scope (``all`` and each region): bookings summary."""

    def compute(context: BuildContext) -> dict[str, pd.DataFrame]:
        CALLS.append("booking_totals")
        lines = context.warehouse.query(
            "select region_id, amount from fct_bookings order by order_id, line_number"
        )
        scopes = ["all", *sorted(lines["region_id"].unique())]
        items = [
            (
                scope,
                tuple(lines["amount"] if scope == "all" else lines.loc[lines.region_id == scope,
                                                                        "amount"]),
                str(markers),
            )
            for scope in scopes
        ]  # fmt: skip
        rows = context.executor.map(scope_totals, items)
        return {"an_booking_totals": pd.DataFrame(rows)}

    return BuildStep("booking_totals", ("an_booking_totals",), compute)


def _regions_step(context: BuildContext) -> dict[str, pd.DataFrame]:
    """``an_region_names``: one row per region: id and name (no fan-out)."""
    CALLS.append("region_names")
    return {"an_region_names": context.warehouse.table("dim_regions")}


REGIONS_STEP = BuildStep("region_names", ("an_region_names",), _regions_step)


def _steps(markers: Path) -> list[BuildStep]:
    markers.mkdir(parents=True, exist_ok=True)
    return [_totals_step(markers), REGIONS_STEP]


def _marker_pids(markers: Path) -> set[int]:
    return {int(p.read_text()) for p in markers.glob("*.pid")}


@pytest.fixture(autouse=True)
def pinned_code_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the code version (the package's sources may change while the tests run)."""
    monkeypatch.setenv(CODE_VERSION_ENV, "build-test-v1")
    CALLS.clear()


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[tuple[str, set[int]]]:
    """A real scheduler and two worker processes that can import this test module."""
    env = dict(os.environ) | {"PYTHONPATH": str(ROOT)}
    address, processes = start_dask_cluster(env, ROOT, tmp_path / "dask-logs")
    try:
        yield address, {p.pid for p in processes[1:]}
    finally:
        stop_processes(processes)


def _tables(store_folder: Path) -> dict[str, pd.DataFrame]:
    manifest = json.loads((store_folder / MANIFEST).read_text())
    return {name: pd.read_parquet(store_folder / f"{name}.parquet") for name in manifest["tables"]}


def test_dask_build_produces_the_same_tables_as_the_local_build(
    tiny_workspace: Workspace, tmp_path: Path, cluster: tuple[str, set[int]]
) -> None:
    address, worker_pids = cluster
    local = build_store(
        snapshots_dir=tiny_workspace.snapshots,
        analytics_dir=tmp_path / "local",
        steps=_steps(tmp_path / "markers-local"),
    )
    on_dask = build_store(
        snapshots_dir=tiny_workspace.snapshots,
        analytics_dir=tmp_path / "dask",
        executor="dask",
        scheduler=address,
        steps=_steps(tmp_path / "markers-dask"),
    )
    assert local.built and on_dask.built
    assert _marker_pids(tmp_path / "markers-local") == {os.getpid()}
    dask_pids = _marker_pids(tmp_path / "markers-dask")
    assert dask_pids and dask_pids <= worker_pids  # the fan-out ran on the cluster's workers

    local_tables, dask_tables = _tables(local.store.folder), _tables(on_dask.store.folder)
    assert sorted(local_tables) == sorted(dask_tables) == ["an_booking_totals", "an_region_names"]
    for name, frame in local_tables.items():
        pd.testing.assert_frame_equal(frame, dask_tables[name], check_exact=True)
    # same rows, columns and file digests
    assert local.store.manifest["tables"] == on_dask.store.manifest["tables"]

    totals = local_tables["an_booking_totals"].set_index("scope")
    snapshot = open_snapshot(tiny_workspace.snapshots)
    with Warehouse(snapshot) as wh:  # independent check of the numbers
        expected = wh.query("select region_id, count(*) n, sum(amount) s from fct_bookings "
                            "group by region_id").set_index("region_id")  # fmt: skip
    assert totals.loc["all", "order_lines"] == expected["n"].sum()
    assert totals.loc["all", "amount_total"] == pytest.approx(expected["s"].sum(), rel=1e-12)
    for region, row in expected.iterrows():
        assert totals.loc[region, "order_lines"] == row["n"]
        assert totals.loc[region, "amount_total"] == pytest.approx(row["s"], rel=1e-12)


def test_dask_build_without_an_address_runs_on_a_local_cluster(
    tiny_workspace: Workspace, tmp_path: Path
) -> None:
    result = build_store(
        snapshots_dir=tiny_workspace.snapshots,
        analytics_dir=tmp_path / "store",
        executor="dask",
        steps=_steps(tmp_path / "markers"),
    )
    assert result.built
    pids = _marker_pids(tmp_path / "markers")
    assert pids and os.getpid() not in pids  # worker processes of the cluster started for it


def test_rebuilding_an_unchanged_snapshot_is_a_noop(
    tiny_workspace: Workspace, tmp_path: Path
) -> None:
    kwargs = {"snapshots_dir": tiny_workspace.snapshots, "analytics_dir": tmp_path / "store"}
    first = build_store(steps=_steps(tmp_path / "markers"), **kwargs)
    manifest = first.store.folder / MANIFEST
    before = (manifest.stat().st_mtime_ns, manifest.read_bytes())
    assert first.built and CALLS == ["booking_totals", "region_names"]

    second = build_store(steps=_steps(tmp_path / "markers"), **kwargs)
    assert not second.built
    assert second.store.folder == first.store.folder
    assert CALLS == ["booking_totals", "region_names"]  # nothing computed again
    assert (manifest.stat().st_mtime_ns, manifest.read_bytes()) == before
    assert [p.name for p in first.store.folder.parent.iterdir()] == [first.store.folder.name]


def test_a_changed_code_version_builds_a_new_store(
    tiny_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kwargs = {"snapshots_dir": tiny_workspace.snapshots, "analytics_dir": tmp_path / "store"}
    first = build_store(steps=[REGIONS_STEP], **kwargs)
    monkeypatch.setenv(CODE_VERSION_ENV, "build-test-v2")
    second = build_store(steps=[REGIONS_STEP], **kwargs)
    assert first.built and second.built and CALLS == ["region_names", "region_names"]
    assert second.store.folder != first.store.folder
    assert second.store.manifest["code_version"] == "build-test-v2"
    assert first.store.manifest["code_version"] == "build-test-v1"
    assert (first.store.folder / MANIFEST).is_file()  # the old store is left as it was


def _failing_step(context: BuildContext) -> dict[str, pd.DataFrame]:
    raise RuntimeError("step failed on purpose")


def _unwritable_step(context: BuildContext) -> dict[str, pd.DataFrame]:
    return {"an_unwritable": pd.DataFrame({"value": [object(), 1, "text"]})}


def test_a_table_that_cannot_be_written_leaves_no_store_and_no_temporary_folder(
    tiny_workspace: Workspace, tmp_path: Path
) -> None:
    analytics = tmp_path / "store"
    with pytest.raises(Exception):  # noqa: B017 (pyarrow's own conversion error)
        build_store(
            snapshots_dir=tiny_workspace.snapshots,
            analytics_dir=analytics,
            steps=[REGIONS_STEP, BuildStep("unwritable", ("an_unwritable",), _unwritable_step)],
        )
    left = list(analytics.rglob("*")) if analytics.exists() else []
    assert all(p.is_dir() and not p.name.startswith(".tmp") for p in left), left
    assert not any(p.name == MANIFEST or p.suffix == ".parquet" for p in left), left


def test_a_step_that_raises_is_recorded_and_the_other_steps_tables_are_kept(
    tiny_workspace: Workspace, tmp_path: Path
) -> None:
    analytics = tmp_path / "store"
    result = build_store(
        snapshots_dir=tiny_workspace.snapshots,
        analytics_dir=analytics,
        steps=[BuildStep("fails", ("an_never",), _failing_step), REGIONS_STEP],
    )
    assert result.failed_steps == {"fails": "RuntimeError: step failed on purpose"}
    assert result.store.tables == ["an_region_names"]
    assert not [p for p in analytics.rglob(".tmp*")]
    snapshot = open_snapshot(tiny_workspace.snapshots)
    with Warehouse(snapshot, analytics_dir=analytics) as wh:
        assert len(wh.table("an_region_names")) == len(wh.table("dim_regions"))
        with pytest.raises(ParameterError, match="build step 'fails' failed: RuntimeError"):
            wh.table("an_never")
        with pytest.raises(ParameterError, match="build step 'fails' failed"):
            wh.query("select * from an_never")


def test_warehouse_registers_store_views_and_names_a_missing_store(
    tiny_workspace: Workspace, tmp_path: Path
) -> None:
    snapshot = open_snapshot(tiny_workspace.snapshots)
    with Warehouse(snapshot, analytics_dir=tmp_path / "empty") as wh:
        with pytest.raises(ParameterError, match="salesops build") as table_error:
            wh.table("an_region_names")
        assert snapshot.snapshot_id in str(table_error.value)
        with pytest.raises(ParameterError, match="analytics store"):
            wh.query("select count(*) from an_region_names")

    built = build_store(
        snapshots_dir=tiny_workspace.snapshots,
        analytics_dir=tmp_path / "store",
        steps=[REGIONS_STEP],
    )
    with Warehouse(snapshot, analytics_dir=tmp_path / "store") as wh:
        assert "an_region_names" in wh.models()
        viewed = wh.query("select * from an_region_names order by region_id")
        regions = wh.table("dim_regions")
    stored = built.store.read("an_region_names").sort_values("region_id", ignore_index=True)
    pd.testing.assert_frame_equal(viewed, stored)
    assert sorted(viewed["region_id"]) == sorted(regions["region_id"])
