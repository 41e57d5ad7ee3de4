"""Snapshot writing, listing, opening and verification (no warehouse involved)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from salesops_lib.core.errors import SnapshotError
from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import (
    MANIFEST,
    SnapshotWriter,
    list_snapshots,
    open_snapshot,
    parse_as_of,
    sha256_file,
)

REGIONS = pa.table({"region_id": ["east", "west"], "region_name": ["East", "West"]})


def _write(folder: Path, as_of: str, **kwargs: object) -> Path:
    with SnapshotWriter(
        folder, as_of, "test", created_at="2026-01-01T00:00:00+00:00", **kwargs
    ) as w:
        for name, table in TABLES.items():
            w.write_table(name, REGIONS if name == "regions" else table.schema.empty_table())
        w.write_extra("_truth.json", b"{}")
    return folder / as_of


def test_manifest_records_rows_and_checksums(tmp_path: Path) -> None:
    path = _write(tmp_path, "2026-01-05")
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["as_of"] == "2026-01-05"
    assert manifest["schema_version"] == 2
    assert manifest["files"]["regions.parquet"]["rows"] == 2
    assert manifest["files"]["order_lines.parquet"]["rows"] == 0
    for filename, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_file(path / filename)
    assert set(manifest["files"]) == {f"{t}.parquet" for t in TABLES} | {"_truth.json"}


def test_same_input_gives_identical_bytes(tmp_path: Path) -> None:
    first = _write(tmp_path / "a", "2026-01-05")
    second = _write(tmp_path / "b", "2026-01-05")
    assert (first / MANIFEST).read_bytes() == (second / MANIFEST).read_bytes()


def test_error_inside_writer_publishes_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), SnapshotWriter(tmp_path, "2026-01-05", "test") as w:
        w.write_table("regions", REGIONS)
        raise RuntimeError("generator crashed")
    assert list(tmp_path.iterdir()) == []


def test_missing_table_is_refused_and_nothing_published(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="tables not written: reps"):  # noqa: SIM117
        with SnapshotWriter(tmp_path, "2026-01-05", "test") as w:
            for name, table in TABLES.items():
                if name != "reps":
                    w.write_table(name, table.schema.empty_table())
    assert list(tmp_path.iterdir()) == []


def test_wrong_columns_are_refused(tmp_path: Path) -> None:
    with (
        pytest.raises(SnapshotError, match="regions"),
        SnapshotWriter(tmp_path, "2026-01-05", "t") as w,
    ):
        w.write_table("regions", pa.table({"id": ["x"]}))


def test_snapshots_are_immutable_unless_overwritten(tmp_path: Path) -> None:
    _write(tmp_path, "2026-01-05")
    with pytest.raises(SnapshotError, match="already exists"):
        _write(tmp_path, "2026-01-05")
    _write(tmp_path, "2026-01-05", overwrite=True)
    assert list_snapshots(tmp_path) == [parse_as_of("2026-01-05")]


def test_list_and_open_latest_ignore_temporary_folders(tmp_path: Path) -> None:
    _write(tmp_path, "2026-01-05")
    _write(tmp_path, "2026-01-12")
    (tmp_path / ".tmp-2026-01-19-abc").mkdir()
    (tmp_path / "notes").mkdir()
    assert [d.isoformat() for d in list_snapshots(tmp_path)] == ["2026-01-05", "2026-01-12"]
    assert open_snapshot(tmp_path).snapshot_id == "2026-01-12"
    assert open_snapshot(tmp_path, "2026-01-05").row_count("regions") == 2


def test_unknown_as_of_names_the_available_snapshots(tmp_path: Path) -> None:
    _write(tmp_path, "2026-01-05")
    with pytest.raises(SnapshotError, match=r"no snapshot for as-of 2026-02-02.*2026-01-05"):
        open_snapshot(tmp_path, "2026-02-02")
    with pytest.raises(SnapshotError, match="not a date; use YYYY-MM-DD"):
        open_snapshot(tmp_path, "last tuesday")
    with pytest.raises(SnapshotError, match="no snapshots"):
        open_snapshot(tmp_path / "empty")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda p: (p / "order_lines.parquet").write_bytes(b""),
            "order_lines.parquet does not match",
        ),
        (
            lambda p: (p / "reps.parquet").write_bytes((p / "reps.parquet").read_bytes()[:-20]),
            "reps.parquet does not match",
        ),
        (
            lambda p: (p / "quotas.parquet").unlink(),
            "quotas.parquet listed in _manifest.json is missing",
        ),
        (lambda p: (p / "_truth.json").write_text("{ }"), "_truth.json does not match"),
    ],
)
def test_damaged_files_are_named(tmp_path: Path, damage, message: str) -> None:
    path = _write(tmp_path, "2026-01-05")
    damage(path)
    with pytest.raises(SnapshotError, match=message) as info:
        open_snapshot(tmp_path, "2026-01-05")
    assert "snapshot 2026-01-05" in str(info.value)


def test_manifest_without_a_table_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "2026-01-05")
    manifest = json.loads((path / MANIFEST).read_text())
    del manifest["files"]["accounts.parquet"]
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match=r"table accounts missing from _manifest\.json"):
        open_snapshot(tmp_path)


def test_a_snapshot_of_an_older_schema_says_how_to_rebuild_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "2026-01-05")
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["schema_version"] = 1  # before order lines carried region and opportunity
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match=r"schema version 1, expected 2") as info:
        open_snapshot(tmp_path)
    assert "salesops demo --force" in str(info.value)
    assert "salesops import ... --force" in str(info.value)


def test_checksum_identifies_content(tmp_path: Path) -> None:
    first = _write(tmp_path / "a", "2026-01-05")
    second = _write(tmp_path / "b", "2026-01-05")
    assert open_snapshot(first.parent).checksum == open_snapshot(second.parent).checksum
    third = tmp_path / "c"
    with SnapshotWriter(third, "2026-01-05", "test") as w:
        for name, table in TABLES.items():
            w.write_table(
                name, REGIONS.slice(0, 1) if name == "regions" else table.schema.empty_table()
            )
    assert open_snapshot(third).checksum != open_snapshot(first.parent).checksum
