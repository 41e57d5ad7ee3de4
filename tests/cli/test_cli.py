"""The command line on good and bad input: clear one- or two-line errors and exit codes.

Commands run in the test process (:func:`tests.cli.in_process.run_cli`); the tests marked slow
start the real ``salesops`` console script and ``python -m salesops_lib.cli``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import SnapshotWriter, list_snapshots, open_snapshot
from tests.cli.in_process import CliResult, run_cli
from tests.conftest import ROOT, Workspace, make_workspace

CONSOLE_SCRIPT = Path(sys.executable).parent / "salesops"
"""The installed ``salesops`` command (``[project.scripts]``) beside the test interpreter."""


def salesops(workspace: Workspace, *args: str) -> CliResult:
    """Run the CLI in this process against ``workspace``."""
    return run_cli(workspace.env(), *args)


def salesops_process(
    workspace: Workspace,
    *args: str,
    command: tuple[str, ...] = (sys.executable, "-m", "salesops_lib.cli"),
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess against ``workspace`` (``python -m salesops_lib.cli``)."""
    return subprocess.run(
        [*command, *args],
        env=os.environ | workspace.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def error_lines(result: CliResult | subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture()
def copied(tiny_workspace: Workspace, tmp_path: Path) -> Workspace:
    """A private copy of the tiny workspace's latest snapshot that a test may damage."""
    workspace = make_workspace(tmp_path / "ws")
    latest = list_snapshots(tiny_workspace.snapshots)[-1].isoformat()
    shutil.copytree(tiny_workspace.snapshots / latest, workspace.snapshots / latest)
    return workspace


def test_validate_passes_on_demo_data(tiny_workspace: Workspace) -> None:
    result = salesops(tiny_workspace, "validate")
    assert result.returncode == 0, result.stderr + result.stdout
    assert " 0 failed" in result.stdout
    assert "FAIL " not in result.stdout


def test_snapshots_lists_both_weeks(tiny_workspace: Workspace) -> None:
    result = salesops(tiny_workspace, "snapshots")
    assert result.returncode == 0, result.stderr
    dates = [d.isoformat() for d in list_snapshots(tiny_workspace.snapshots)]
    assert len(dates) == 2
    for date in dates:
        assert date in result.stdout


def _latest(workspace: Workspace) -> Path:
    return workspace.snapshots / list_snapshots(workspace.snapshots)[-1].isoformat()


def test_truncated_parquet_is_named(copied: Workspace) -> None:
    path = _latest(copied) / "order_lines.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = salesops(copied, "validate")
    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) <= 2
    assert "order_lines.parquet" in lines[0] and _latest(copied).name in lines[0]


def test_empty_parquet_is_named(copied: Workspace) -> None:
    (_latest(copied) / "accounts.parquet").write_bytes(b"")
    result = salesops(copied, "validate")
    assert result.returncode == 2
    assert "accounts.parquet" in error_lines(result)[0]


def test_missing_table_is_named(copied: Workspace) -> None:
    (_latest(copied) / "opportunities.parquet").unlink()
    result = salesops(copied, "validate")
    assert result.returncode == 2
    assert "opportunities.parquet" in error_lines(result)[0]
    assert "missing" in error_lines(result)[0]


def test_contract_break_names_table_column_and_rule(copied: Workspace, tmp_path: Path) -> None:
    """A snapshot whose order line has a negative quantity fails validation, naming the rule."""
    source = open_snapshot(copied.snapshots)
    broken = make_workspace(tmp_path / "broken")
    with SnapshotWriter(broken.snapshots, source.as_of, "broken copy") as writer:
        for name in TABLES:
            table = pq.read_table(source.table_path(name))
            if name == "order_lines":
                quantities = table.column("quantity").to_pylist()
                quantities[0] = -quantities[0]
                table = table.set_column(
                    table.schema.get_field_index("quantity"),
                    "quantity",
                    pa.array(quantities, type=pa.int32()),
                )
            writer.write_table(name, table)
    result = salesops(broken, "validate", "--failing-only")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "order_lines" in result.stdout
    assert "quantity" in result.stdout
    assert "FAIL" in result.stdout


def test_unknown_region_lists_the_allowed_ones(tiny_workspace: Workspace) -> None:
    result = salesops(tiny_workspace, "run", "--region", "mars")
    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) == 1
    assert "'mars'" in lines[0] and "na-east" in lines[0] and "apac" in lines[0]


def test_as_of_without_snapshot_names_the_available_ones(tiny_workspace: Workspace) -> None:
    result = salesops(tiny_workspace, "run", "--all", "--as-of", "2020-01-06")
    assert result.returncode == 2
    lines = error_lines(result)
    assert len(lines) == 1
    assert "2020-01-06" in lines[0]
    assert list_snapshots(tiny_workspace.snapshots)[-1].isoformat() in lines[0]


def test_bad_scale_is_rejected_with_what_is_allowed(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    result = salesops(workspace, "demo", "--scale", "enormous")
    assert result.returncode == 2
    assert "enormous" in error_lines(result)[0]
    assert not workspace.snapshots.exists() or list_snapshots(workspace.snapshots) == []


def test_import_command_writes_a_valid_maven_snapshot(tmp_path: Path) -> None:
    """`salesops import` on the Maven CRM export: a validated snapshot, quarantine counted."""
    source = ROOT / "data" / "samples" / "maven_crm"
    workspace = make_workspace(tmp_path / "ws")
    maven = (ROOT / "config" / "workbench.maven_crm.yml").read_text(encoding="utf-8")
    stages = maven[maven.index("\nstages:") :]  # the CRM's own stages: the mapping targets them
    workspace.config.write_text(workspace.config.read_text(encoding="utf-8") + stages)
    result = salesops_process(
        workspace, "import", str(ROOT / "config" / "mappings" / "maven_crm.yml"), str(source)
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "1,425" in result.stdout or "1425" in result.stdout
    assert "quarantined source rows: 0" in result.stdout  # deals without an account are kept
    assert len(list_snapshots(workspace.snapshots)) == 1
    assert salesops_process(workspace, "validate").returncode == 0


def test_console_script_validates_and_exits_non_zero_naming_the_broken_file(
    tiny_workspace: Workspace, copied: Workspace
) -> None:
    """The installed ``salesops`` script: a clean run, then one error line on stderr and exit 2."""
    command = (str(CONSOLE_SCRIPT),)
    good = salesops_process(tiny_workspace, "validate", command=command)
    assert good.returncode == 0, good.stderr + good.stdout
    assert " 0 failed" in good.stdout
    (_latest(copied) / "accounts.parquet").write_bytes(b"")
    broken = salesops_process(copied, "validate", command=command)
    assert broken.returncode == 2, broken.stderr + broken.stdout
    lines = error_lines(broken)
    assert len(lines) <= 2
    assert "accounts.parquet" in lines[0]
