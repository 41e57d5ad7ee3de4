"""``salesops plan quotas`` and ``salesops plan territories`` end to end on a small demo.

The CLI runs in a subprocess against a workspace with a small demo (two weekly snapshots); its
CSV proposals are checked against plain DuckDB SQL over the snapshot's raw parquet files.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from salesops_lib.cli import app
from salesops_lib.data.schema import TABLES
from tests.conftest import ROOT, Workspace, generated_workspace
from tests.demo_fixtures import AS_OF


def salesops(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess against ``workspace``."""
    import os

    return subprocess.run(
        [sys.executable, "-m", "salesops_lib.cli", *args],
        cwd=ROOT,
        env=os.environ | workspace.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return generated_workspace(tmp_path_factory.mktemp("plan-cli"), "small", 2)


@pytest.fixture(scope="module")
def con(workspace: Workspace) -> Iterator[duckdb.DuckDBPyConnection]:
    snapshot = workspace.snapshots / AS_OF.isoformat()
    connection = duckdb.connect()
    for name in TABLES:
        path = str(snapshot / f"{name}.parquet").replace("'", "''")
        connection.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    yield connection
    connection.close()


def _targets_2027(con: duckdb.DuckDBPyConnection, growth: float) -> dict[str, float]:
    """Independent planning targets for 2027 from the raw tables (Q1 2027 is planned)."""
    rows = con.execute(
        """WITH booked AS (
             SELECT a.region_id, date_trunc('month', o.order_date) AS month, sum(o.amount) AS b
             FROM order_lines o JOIN accounts a USING (account_id) GROUP BY ALL)
           SELECT region_id,
             (SELECT sum(target_amount) FROM region_targets t
              WHERE t.region_id = r.region_id AND year(month) = 2027)
             + (SELECT sum(b) FROM booked k WHERE k.region_id = r.region_id
                AND month BETWEEN DATE '2026-04-01' AND DATE '2026-10-01') * (1 + ?)
             + (SELECT sum(target_amount) FROM region_targets t WHERE t.region_id = r.region_id
                AND month IN (DATE '2026-11-01', DATE '2026-12-01')) * (1 + ?)
           FROM regions r""",
        [growth, growth],
    ).fetchall()
    return dict(rows)


def test_plan_quotas_writes_the_quotas_schema_adding_up_to_target(
    workspace: Workspace, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    output = tmp_path / "quotas.csv"
    result = salesops(
        workspace, "plan", "quotas", "--year", "2027", "--growth", "0.05",
        "--over-assignment", "0.2", "--method", "prior_year", "--output", str(output),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    quotas = pd.read_csv(output)
    assert list(quotas.columns) == TABLES["quotas"].schema.names
    assert set(quotas["month"]) == {f"2027-{m:02d}-01" for m in range(1, 13)}
    reps = dict(con.execute("SELECT rep_id, region_id FROM reps WHERE role = 'rep'").fetchall())
    assert set(quotas["rep_id"]) == set(reps)
    assert (quotas.groupby("rep_id").size() == 12).all()
    sums = (
        quotas.assign(region_id=quotas["rep_id"].map(reps))
        .groupby("region_id")["quota_amount"]
        .sum()
    )
    for region, target in _targets_2027(con, 0.05).items():
        assert round(sums[region], 2) == pytest.approx(round(target * 1.2, 2), abs=0.005)
    assert "x (1 + 0.2)" in result.stderr


def test_plan_quotas_for_one_region_holds_only_its_reps(
    workspace: Workspace, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    output = tmp_path / "uki.csv"
    result = salesops(
        workspace, "plan", "quotas", "--year", "2027", "--growth", "0.1", "--region", "uki",
        "--method", "even", "--output", str(output),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    quotas = pd.read_csv(output)
    uki = {
        r
        for (r,) in con.execute(
            "SELECT rep_id FROM reps WHERE region_id = 'uki' AND role = 'rep'"
        ).fetchall()
    }
    assert set(quotas["rep_id"]) == uki
    assert quotas["quota_amount"].sum() == pytest.approx(
        _targets_2027(con, 0.1)["uki"] * 1.1, abs=0.01
    )
    annual = quotas.groupby("rep_id")["quota_amount"].sum()
    assert annual.max() - annual.min() <= 0.02  # even split, to the cent


def test_plan_territories_moves_balance_the_region(
    workspace: Workspace, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    region = "na-west"  # the small demo's planted unbalanced territory is there
    output = tmp_path / "moves.csv"
    result = salesops(
        workspace, "plan", "territories", "--region", region, "--tolerance", "0.15",
        "--output", str(output),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    moves = pd.read_csv(output)
    assert list(moves.columns) == ["account_id", "region_id", "from_rep", "to_rep", "potential"]
    assert len(moves) > 0 and set(moves["region_id"]) == {region}
    potential = con.execute(
        """WITH booked AS (SELECT account_id, sum(amount) AS b FROM order_lines
                           WHERE order_date > DATE '2025-11-23' GROUP BY ALL),
           open AS (SELECT account_id, sum(amount) AS p FROM opportunities
                    WHERE stage NOT LIKE 'Closed%' GROUP BY ALL)
           SELECT a.account_id, a.owner_rep_id, coalesce(b, 0) + coalesce(p, 0) AS potential
           FROM accounts a LEFT JOIN booked USING (account_id) LEFT JOIN open USING (account_id)
           WHERE a.region_id = ?""",
        [region],
    ).df()
    owner = potential.set_index("account_id")["owner_rep_id"]
    assert (moves["from_rep"] == moves["account_id"].map(owner)).all()
    after = owner.copy()
    after[moves["account_id"].to_numpy()] = moves["to_rep"].to_numpy()
    per_rep = (
        potential.assign(rep=potential["account_id"].map(after)).groupby("rep")["potential"].sum()
    )
    reps = [
        r
        for (r,) in con.execute(
            "SELECT rep_id FROM reps WHERE region_id = ? AND role = 'rep'", [region]
        ).fetchall()
    ]
    per_rep = per_rep.reindex(reps, fill_value=0.0)
    deviation = per_rep / per_rep.mean() - 1
    assert deviation.abs().max() <= 0.15 + 1e-9
    assert "0 after" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("quotas", "--year", "2027", "--growth", "-1.5"), "target_growth"),
        (("quotas", "--year", "1990", "--growth", "0.1"), "planning_year"),
        (("quotas", "--year", "2027", "--growth", "0.1", "--method", "magic"), "method"),
        (
            ("quotas", "--year", "2027", "--growth", "0.1", "--over-assignment", "2"),
            "over_assignment",
        ),
        (("territories", "--tolerance", "0"), "tolerance"),
        (("territories", "--tolerance", "0.1", "--region", "mars"), "--region 'mars'"),
        (("territories", "--tolerance", "0.1", "--key-accounts", "ACC-X"), "key_accounts"),
        (("territories", "--tolerance", "0.1", "--as-of", "2001-01-01"), "2001-01-01"),
    ],
)
def test_bad_parameters_exit_non_zero_with_one_clear_line(
    workspace: Workspace, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    output = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app, ["plan", *args, "--output", str(output)], env=workspace.env()
    )  # in-process: the same app and handler as the command line, without the start-up
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert not output.exists()


def test_output_in_a_missing_folder_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    output = tmp_path / "nowhere" / "moves.csv"
    result = salesops(
        workspace, "plan", "territories", "--tolerance", "0.1", "--output", str(output)
    )
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
