"""``salesops submit``: stored on good input; one-line error, non-zero exit, nothing stored."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import error_lines, salesops
from tests.conftest import make_workspace
from tests.snapshot_builder import build_snapshot

REPS = [
    {"rep_id": "M1", "rep_name": "Manager One", "role": "manager", "manager_id": None},
    {"rep_id": "rep1", "rep_name": "Rep One", "role": "rep", "manager_id": "M1"},
    {"rep_id": "R2", "rep_name": "Rep Two", "role": "rep", "manager_id": None},
]


def test_submit_stores_good_calls_and_refuses_bad_ones(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    build_snapshot(tmp_path, "2026-11-23", {"reps": REPS}, snapshots_dir=workspace.snapshots)
    store = workspace.snapshots.parent / "submissions" / "2026-11-23"
    good = tmp_path / "good.csv"
    good.write_text("submitted_by,for_id,category,amount,note\nM1,M1,commit,100,<b>risky</b>\n")
    result = salesops(workspace, "submit", str(good))
    assert result.returncode == 0, result.stderr
    assert "stored 1 call(s) of M1 for week 2026-11-23" in result.stderr
    assert len(list(store.glob("*.parquet"))) == 1

    cases = {
        "unknown.csv": ("X1,X1,commit,1", "column submitted_by: unknown rep 'X1'"),
        "other.csv": ("rep1,R2,commit,1", "column for_id: rep rep1 may submit only for themself"),
    }
    for name, (row, expected) in cases.items():
        bad = tmp_path / name
        bad.write_text(f"submitted_by,for_id,category,amount\n{row}\n")
        result = salesops(workspace, "submit", str(bad))
        assert result.returncode == 2
        lines = error_lines(result)
        assert len(lines) == 1 and f"{bad}: line 2, {expected}" in lines[0], lines
    result = salesops(workspace, "submit", str(good), "--week", "2026-11-16")
    assert result.returncode == 2
    assert "week 2026-11-16: no snapshot of that date" in error_lines(result)[0]
    assert len(list(store.glob("*.parquet"))) == 1  # nothing stored by the refused calls
