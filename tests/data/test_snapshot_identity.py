"""Snapshot identity: a snapshot folder must hold its manifest and be the date its manifest says.

A deleted ``_manifest.json`` used to make the folder invisible, so the latest snapshot silently
became the previous week's; a folder renamed (or linked) to another date was accepted and its
reports carried the wrong date. Both are refused, naming the snapshot and the check.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from salesops_lib.core.errors import SnapshotError
from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import MANIFEST, SnapshotWriter, list_snapshots, open_snapshot

REGIONS = pa.table({"region_id": ["east"], "region_name": ["East"]})


def _write(folder: Path, as_of: str) -> Path:
    with SnapshotWriter(folder, as_of, "test", created_at="2026-01-01T00:00:00+00:00") as w:
        for name, table in TABLES.items():
            w.write_table(name, REGIONS if name == "regions" else table.schema.empty_table())
    return folder / as_of


@pytest.fixture
def two_weeks(tmp_path: Path) -> Path:
    _write(tmp_path, "2026-01-05")
    _write(tmp_path, "2026-01-12")
    return tmp_path


def test_intact_snapshots_still_list_and_open(two_weeks: Path) -> None:
    assert [d.isoformat() for d in list_snapshots(two_weeks)] == ["2026-01-05", "2026-01-12"]
    assert open_snapshot(two_weeks).snapshot_id == "2026-01-12"


@pytest.mark.parametrize("which", ["2026-01-12", "2026-01-05"], ids=["latest", "earlier"])
def test_deleted_manifest_is_refused_not_skipped(two_weeks: Path, which: str) -> None:
    (two_weeks / which / MANIFEST).unlink()
    pattern = rf"snapshot {which}: .*{MANIFEST} is missing .*check manifest_present"
    with pytest.raises(SnapshotError, match=pattern):
        open_snapshot(two_weeks)
    with pytest.raises(SnapshotError, match=pattern):
        list_snapshots(two_weeks)
    with pytest.raises(SnapshotError, match=pattern):
        open_snapshot(two_weeks, which)


def test_empty_date_folder_is_refused(two_weeks: Path) -> None:
    (two_weeks / "2026-01-19").mkdir()
    with pytest.raises(SnapshotError, match=r"snapshot 2026-01-19: .*manifest_present"):
        open_snapshot(two_weeks)


def test_renamed_folder_is_refused(two_weeks: Path) -> None:
    (two_weeks / "2026-01-12").rename(two_weeks / "2026-01-19")
    pattern = r"snapshot 2026-01-19: .*as-of 2026-01-12.*check as_of_matches_folder"
    with pytest.raises(SnapshotError, match=pattern):
        open_snapshot(two_weeks)
    with pytest.raises(SnapshotError, match=pattern):
        open_snapshot(two_weeks, "2026-01-19", verify=False)


def test_folder_linked_to_another_date_is_refused(two_weeks: Path) -> None:
    (two_weeks / "2026-01-19").symlink_to(two_weeks / "2026-01-12", target_is_directory=True)
    with pytest.raises(SnapshotError, match=r"snapshot 2026-01-19: .*as_of_matches_folder"):
        open_snapshot(two_weeks)


def test_copied_folder_with_edited_manifest_date_is_refused(two_weeks: Path) -> None:
    shutil.copytree(two_weeks / "2026-01-12", two_weeks / "2026-01-19")
    manifest = json.loads((two_weeks / "2026-01-19" / MANIFEST).read_text())
    del manifest["as_of"]
    (two_weeks / "2026-01-19" / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match=r"snapshot 2026-01-19: .*as_of_matches_folder"):
        open_snapshot(two_weeks, "2026-01-19")


def test_temporary_and_other_folders_are_still_ignored(two_weeks: Path) -> None:
    (two_weeks / ".tmp-2026-01-19-abc").mkdir()
    (two_weeks / "notes").mkdir()
    assert open_snapshot(two_weeks).snapshot_id == "2026-01-12"
