"""The forecast call report on a tiny 13-week demo: planted callers found, numbers checked by SQL.

The demo's submissions (13 weekly calls, a closed quarter) plant a sandbagger and an over-caller
(``_truth.json``, key ``forecast_call``); the report must flag exactly them. The call, a bias and
the flow matrix are checked against plain DuckDB SQL over the raw parquet files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import papermill
import pytest

from salesops_lib.data.warehouse import Warehouse
from salesops_lib.reports import forecast_call
from tests.conftest import ROOT, Workspace, generated_workspace

AS_OF, PREVIOUS = "2026-11-23", "2026-11-16"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = generated_workspace(tmp_path_factory.mktemp("forecast-call"), "tiny", 13)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in ws.env().items():
            patch.setenv(key, value)
        yield ws


@pytest.fixture(scope="module")
def truth(workspace: Workspace) -> dict[str, Any]:
    return json.loads((workspace.snapshots / AS_OF / "_truth.json").read_text())["forecast_call"]


def _call(workspace: Workspace, region: str) -> forecast_call.ForecastCall:
    with Warehouse.open(None, snapshots_dir=workspace.snapshots) as warehouse:
        return forecast_call.analyse(forecast_call.load_forecast_call(warehouse, region))


def _region_of(workspace: Workspace, rep_id: str) -> str:
    return duckdb.sql(
        "SELECT region_id FROM read_parquet(?) WHERE rep_id = ?",
        params=[str(workspace.snapshots / AS_OF / "reps.parquet"), rep_id],
    ).fetchone()[0]


LATEST = """
    WITH v AS (SELECT * FROM read_parquet(?, filename = true)),
    latest AS (
        SELECT week, submitted_by, max(submitted_at) AS submitted_at FROM v GROUP BY ALL
    )
    SELECT v.* FROM v JOIN latest USING (week, submitted_by, submitted_at)
"""


def test_the_report_flags_exactly_the_planted_callers(
    workspace: Workspace, truth: dict[str, Any]
) -> None:
    company = forecast_call.headline_numbers(_call(workspace, "all"))
    assert company["sandbaggers"] == [truth["sandbagger"]]
    assert company["over_callers"] == [truth["over_caller"]]
    region = _region_of(workspace, truth["sandbagger"])
    regional = forecast_call.headline_numbers(_call(workspace, region))
    assert regional["sandbaggers"] == [truth["sandbagger"]]
    assert truth["over_caller"] not in regional["over_callers"]  # another region's rep


def test_numbers_match_independent_sql(workspace: Workspace, truth: dict[str, Any]) -> None:
    call = _call(workspace, "all")
    files = str(workspace.snapshots.parent / "submissions" / "*" / "*.parquet")
    con = duckdb.connect()
    managers_commit = con.sql(
        f"SELECT sum(amount) FROM ({LATEST}) WHERE week = ? AND submitted_by = for_id "
        "AND submitted_by LIKE 'MGR-%' AND category = 'commit'",
        params=[files, AS_OF],
    ).fetchone()[0]
    assert call.number["team_commit"] == pytest.approx(managers_commit)
    bias = con.sql(
        f"""
        WITH calls AS (
            SELECT week, amount FROM ({LATEST})
            WHERE for_id = $rep AND category = 'commit' AND week < '2026-10-01'
        ),
        booked AS (
            SELECT sum(amount) AS actual FROM read_parquet($lines)
            WHERE rep_id = $rep AND order_date BETWEEN '2026-07-01' AND '2026-09-30'
        )
        SELECT avg(amount / actual - 1) FROM calls, booked
        """.replace("?", "$files"),
        params={
            "files": files,
            "rep": truth["sandbagger"],
            "lines": str(workspace.snapshots / AS_OF / "order_lines.parquet"),
        },
    ).fetchone()[0]
    scored = call.scores.set_index("person_id").loc[truth["sandbagger"], "bias"]
    assert scored == pytest.approx(bias)
    assert bias < -0.2  # planted at 0.68 of the quarter's bookings


def test_flow_matrix_counts_every_deal_of_the_quarter_once(workspace: Workspace) -> None:
    call = _call(workspace, "all")
    deals = duckdb.sql(
        "SELECT count(DISTINCT opportunity_id) FROM read_parquet([?, ?]) "
        "WHERE close_date BETWEEN '2026-10-01' AND '2026-12-31'",
        params=[str(workspace.snapshots / d / "opportunities.parquet") for d in (AS_OF, PREVIOUS)],
    ).fetchone()[0]
    matrix = forecast_call.flow_table(call, "deals").frame
    assert (
        matrix.drop(columns=matrix.columns[0])
        .map(lambda s: int(s.replace(",", "")))
        .to_numpy()
        .sum()
        == deals
    )


def test_manager_notes_and_names_are_escaped(workspace: Workspace) -> None:
    html = forecast_call.overrides_table(_call(workspace, "all"))._repr_html_()
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html


def test_notebook_runs_for_a_region_and_the_company(
    workspace: Workspace, truth: dict[str, Any], tmp_path: Path
) -> None:
    region = _region_of(workspace, truth["over_caller"])
    for scope in (region, "all"):
        output = tmp_path / f"{scope}.ipynb"
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "15-forecast-call.ipynb"),
            str(output),
            parameters={"region": scope, "as_of": ""},
            kernel_name=os.environ.get("SALESOPS_KERNEL", "python3"),
            cwd=str(ROOT / "notebooks"),
            progress_bar=False,
        )
        outputs = [o for c in json.loads(output.read_text())["cells"] for o in c.get("outputs", [])]
        headlines = [
            o["data"]["application/vnd.salesops.headlines+json"]
            for o in outputs
            if "application/vnd.salesops.headlines+json" in o.get("data", {})
        ]
        assert headlines[0]["over_callers"] == [truth["over_caller"]]
        assert headlines[0]["pipeline_expected"] is not None  # the store's forecasts beside
        assert headlines[0]["statistical_forecast"] is not None
        html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
        assert "<script>x" not in html  # names and notes escaped
        if scope == "all":
            assert "&lt;script&gt;x" in html  # the first manager's note, shown escaped
        assert not any(o.get("output_type") == "error" for o in outputs)
