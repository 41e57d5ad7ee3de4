"""Run records: a manifest per run, `salesops runs`, and skip-when-unchanged / --force."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from salesops_lib.data.snapshot import open_snapshot
from salesops_lib.runs.records import inputs_fingerprint, read_manifests, source_fingerprint
from tests.conftest import Workspace
from tests.trivial_notebooks import project_env, salesops_cli, workspace_project, write_notebook

AS_OF = "2026-11-23"
SCHEDULE = """\
jobs:
  default:
    notebooks: [01-trivial]
    regions: [na-east, dach]
    cron: "0 6 * * mon"
    parameters:
      top_n: 3
"""
BODY = "print('top', top_n, 'for', region)"


def test_fingerprint_changes_with_each_input_and_only_then(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "01-a.ipynb")
    base = inputs_fingerprint(notebook, {"region": "uki", "top_n": 3}, "sum1", "code1", "python3")
    same = inputs_fingerprint(notebook, {"top_n": 3, "region": "uki"}, "sum1", "code1", "python3")
    assert same == base  # parameter order does not matter
    changed = [
        inputs_fingerprint(notebook, {"region": "uki", "top_n": 4}, "sum1", "code1", "python3"),
        inputs_fingerprint(notebook, {"region": "uki", "top_n": 3}, "sum2", "code1", "python3"),
        inputs_fingerprint(notebook, {"region": "uki", "top_n": 3}, "sum1", "code2", "python3"),
        inputs_fingerprint(notebook, {"region": "uki", "top_n": 3}, "sum1", "code1", "other"),
    ]
    write_notebook(notebook, fail_for="uki")
    changed.append(
        inputs_fingerprint(notebook, {"region": "uki", "top_n": 3}, "sum1", "code1", "python3")
    )
    assert len({base, *changed}) == 6


def test_source_fingerprint_sees_uncommitted_edits(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sql").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sql" / "m.sql").write_text("select 1\n")
    first = source_fingerprint(package)
    (package / "notes.txt").write_text("not code")
    assert source_fingerprint(package) == first
    (package / "sql" / "m.sql").write_text("select 2\n")
    assert source_fingerprint(package) != first


def _counts(stdout: str) -> tuple[int, int, int]:
    match = re.search(
        r"(\d+) report\(s\) published, (\d+) unchanged \(skipped\), (\d+) failed", stdout
    )
    assert match, stdout
    return int(match[1]), int(match[2]), int(match[3])


@pytest.fixture(scope="module")
def project(tiny_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = workspace_project(tmp_path_factory.mktemp("records"), tiny_workspace, SCHEDULE, {})
    write_notebook(
        folder / "notebooks" / "01-trivial.ipynb", extra_parameters="top_n: int = 10\n", body=BODY
    )
    return folder


@pytest.mark.e2e
def test_unchanged_runs_are_skipped_until_inputs_change_or_forced(
    project: Path, tiny_workspace: Workspace
) -> None:
    env = project_env(project)
    day = project / "reports" / AS_OF
    html = day / "na-east" / "01-trivial.html"

    first = salesops_cli(env, "run")
    assert first.returncode == 0, first.stderr[-2000:]
    assert _counts(first.stdout) == (2, 0, 0)
    assert "top 3 for na-east" in html.read_text()
    stamp = html.stat().st_mtime_ns

    second = salesops_cli(env, "run")
    assert _counts(second.stdout) == (0, 2, 0)
    assert html.stat().st_mtime_ns == stamp

    changed = salesops_cli(env, "run", "--param", "top_n=5", "--region", "na-east")
    assert _counts(changed.stdout) == (1, 0, 0)
    assert "top 5 for na-east" in html.read_text()

    forced = salesops_cli(env, "run", "--region", "dach", "--force")
    assert _counts(forced.stdout) == (1, 0, 0)

    write_notebook(
        project / "notebooks" / "01-trivial.ipynb",
        extra_parameters="top_n: int = 10\n",
        body=BODY + "\nprint('edited')",
    )
    edited = salesops_cli(env, "run")
    assert _counts(edited.stdout) == (2, 0, 0)
    assert "edited" in html.read_text()

    manifests = read_manifests(project / "reports")
    assert len(manifests) == 2 + 1 + 1 + 2  # skipped runs leave no manifest
    newest = manifests[0]
    assert newest["status"] == "ok" and newest["job"] == "default"
    assert newest["parameters"]["top_n"] == 3 and newest["as_of"] == AS_OF
    for key in ("snapshot", "code_version", "package_versions", "started_at", "ended_at",
                "duration_s", "error", "inputs_fingerprint", "outputs"):  # fmt: skip
        assert key in newest, key
    snapshot = open_snapshot(tiny_workspace.snapshots, AS_OF)
    assert newest["snapshot"] == {"id": AS_OF, "checksum": snapshot.checksum}


@pytest.mark.e2e
def test_failed_run_exits_non_zero_with_a_table_and_is_listed(project: Path) -> None:
    write_notebook(project / "notebooks" / "02-broken.ipynb", fail_for="uki")
    env = project_env(project)
    failing = salesops_cli(env, "run", "--notebook", "02-broken", "--region", "uki")
    assert failing.returncode == 1
    assert _counts(failing.stdout) == (0, 0, 1)
    assert "Failed runs" in failing.stderr and "ValueError: boom in uki" in failing.stderr
    failed_notebook = project / "reports" / AS_OF / "_failed" / "uki" / "02-broken.ipynb"
    assert failed_notebook.is_file()
    table_text = re.sub(r"[│\s]", "", failing.stderr)  # the table may fold a long path
    assert str(failed_notebook) in table_text

    listing = salesops_cli(env, "runs", "--limit", "1")
    assert listing.returncode == 0, listing.stderr
    (row,) = [line for line in listing.stdout.splitlines() if "02-broken" in line]
    assert "uki" in row and "failed" in row
    only_failed = salesops_cli(env, "runs", "--failed")
    assert "02-broken" in only_failed.stdout and "01-trivial" not in only_failed.stdout


def test_a_new_submission_changes_only_the_forecast_calls_data_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook whose metadata reads submissions depends on them: a late call re-runs it."""
    import json
    from types import SimpleNamespace

    from salesops_lib.runs import runner

    snapshots = tmp_path / "snapshots"
    monkeypatch.setattr(runner, "settings", lambda: SimpleNamespace(snapshots_dir=snapshots))
    reads, plain = tmp_path / "15-call.ipynb", tmp_path / "00-plain.ipynb"
    reads.write_text(json.dumps({"metadata": {"salesops": {"reads": ["submissions"]}}}))
    plain.write_text(json.dumps({"metadata": {}}))
    before = runner._data_checksum(reads, "abc", "2026-11-23")
    week = tmp_path / "submissions" / "2026-11-23"
    week.mkdir(parents=True)
    (week / "calls.csv").write_text("submitted_by,for_id,category,amount\nR1,R1,commit,5\n")
    after = runner._data_checksum(reads, "abc", "2026-11-23")
    assert before.startswith("abc+submissions:") and after != before
    assert runner._data_checksum(plain, "abc", "2026-11-23") == "abc"
    later_week = tmp_path / "submissions" / "2026-11-30"
    later_week.mkdir()
    (later_week / "calls.csv").write_text("submitted_by,for_id,category,amount\nR1,R1,commit,9\n")
    assert runner._data_checksum(reads, "abc", "2026-11-23") == after  # a later week: no change
