"""Forecast submissions: who may submit for whom, bad files, append-only versions (hand-made)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from salesops_lib.data.submissions import (
    SubmissionError,
    latest_versions,
    load_submissions,
    read_submission,
    store_calls,
    submissions_dir_for,
    submissions_fingerprint,
)
from tests.snapshot_builder import build_snapshot

WEEK = "2026-11-23"
REPS = [
    {"rep_id": "M1", "rep_name": "Manager One", "role": "manager", "manager_id": None},
    {"rep_id": "M2", "rep_name": "Manager Two", "role": "manager", "manager_id": None},
    {"rep_id": "rep1", "rep_name": "Rep One", "role": "rep", "manager_id": "M1"},
    {"rep_id": "R2", "rep_name": "Rep Two", "role": "rep", "manager_id": "M1"},
    {"rep_id": "R3", "rep_name": "Rep Three", "role": "rep", "manager_id": "M2"},
]


@pytest.fixture()
def snapshots(tmp_path: Path) -> Path:
    build_snapshot(tmp_path, WEEK, {"reps": REPS})
    return tmp_path / "snapshots"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_CSV = (
    "submitted_by,for_id,category,amount,note\n"
    "M1,M1,commit,500000,two deals slipped\n"
    "M1,R2,commit,120000,\n"
    "M1,M1,best_case,650000,\n"
)


def test_a_manager_submits_for_the_team_and_a_team_rep(tmp_path: Path, snapshots: Path) -> None:
    calls = read_submission(_write(tmp_path, "m1.csv", GOOD_CSV), snapshots, WEEK)
    assert list(calls["for_id"]) == ["M1", "R2", "M1"]
    assert list(calls["amount"]) == [500000.0, 120000.0, 650000.0]
    assert calls["note"].iloc[0] == "two deals slipped" and calls["note"].iloc[1] is None


def test_yaml_submission_defaults_for_id_to_the_submitter(tmp_path: Path, snapshots: Path) -> None:
    text = "submitted_by: R2\ncalls:\n  - {category: commit, amount: 90000}\n"
    calls = read_submission(_write(tmp_path, "r2.yml", text), snapshots, WEEK)
    assert (calls["for_id"].iloc[0], calls["amount"].iloc[0]) == ("R2", 90000.0)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("X9,X9,commit,1,", "line 2, column submitted_by: unknown rep 'X9'"),
        ("R2,R3,commit,1,", "line 2, column for_id: rep R2 may submit only for themself"),
        ("M1,R3,commit,1,", "line 2, column for_id: R3 is not in manager M1's team"),
        ("R2,R2,upside,1,", "line 2, column category: must be one of commit, best_case"),
        ("R2,R2,commit,12k,", "line 2, column amount: must be a plain number"),
        ("R2,R2,commit,-5,", "line 2, column amount: must be between 0 and"),
        ("R2,R2,commit,1,\nR2,R2,commit,2,", "line 3, column category: repeats the call of line 2"),
    ],
)
def test_bad_rows_name_file_row_column_and_rule(
    tmp_path: Path, snapshots: Path, body: str, expected: str
) -> None:
    path = _write(tmp_path, "bad.csv", "submitted_by,for_id,category,amount,note\n" + body + "\n")
    with pytest.raises(SubmissionError) as error:
        read_submission(path, snapshots, WEEK)
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value)
    assert not submissions_dir_for(snapshots).exists()  # nothing stored


def test_a_week_without_snapshot_is_refused(tmp_path: Path, snapshots: Path) -> None:
    path = _write(tmp_path, "ok.csv", GOOD_CSV)
    with pytest.raises(SubmissionError, match="week 2026-11-16: no snapshot of that date"):
        read_submission(path, snapshots, "2026-11-16")


def test_bad_header_and_bad_yaml(tmp_path: Path, snapshots: Path) -> None:
    with pytest.raises(SubmissionError, match=r"line 1 \(header\).*missing \['amount'\]"):
        read_submission(
            _write(tmp_path, "h.csv", "submitted_by,for_id,category\n"), snapshots, WEEK
        )
    with pytest.raises(SubmissionError, match=r"y.yml: calls\[0\], column amt: unknown key"):
        read_submission(
            _write(tmp_path, "y.yml", "submitted_by: R2\ncalls: [{amt: 1}]\n"), snapshots, WEEK
        )


def test_resubmission_adds_a_version_and_the_latest_counts(tmp_path: Path, snapshots: Path) -> None:
    store = submissions_dir_for(snapshots)
    week = dt.date.fromisoformat(WEEK)
    first = read_submission(_write(tmp_path, "a.csv", GOOD_CSV), snapshots, WEEK)
    path1, written1 = store_calls(store, week, first, submitted_at="2026-11-23T09:00:00+00:00")
    again, written_again = store_calls(store, week, first, submitted_at="2026-11-23T09:30:00+00:00")
    assert written1 and not written_again and again == path1  # identical content: nothing added
    second = read_submission(
        _write(tmp_path, "b.csv", GOOD_CSV.replace("500000", "450000")), snapshots, WEEK
    )
    path2, written2 = store_calls(store, week, second, submitted_at="2026-11-23T10:00:00+00:00")
    assert written2 and path1.read_bytes() and path1 != path2
    rep = _write(
        store / WEEK, "rep1.csv", "submitted_by,for_id,category,amount\nrep1,rep1,commit,7\n"
    )
    versions = load_submissions(store, snapshots)
    assert len(versions) == 7  # 3 + 3 stored, 1 dropped by hand
    latest = latest_versions(versions)
    m1 = latest[(latest["for_id"] == "M1") & (latest["category"] == "commit")]
    assert list(m1["amount"]) == [450000.0]
    assert set(latest["submitted_by"]) == {"M1", "rep1"}
    rep.write_text("submitted_by,for_id,category,amount\nrep1,R2,commit,7\n")
    with pytest.raises(SubmissionError, match=r"rep1\.csv: line 2, column for_id"):
        load_submissions(store, snapshots)


def test_fingerprint_changes_with_a_new_submission(tmp_path: Path, snapshots: Path) -> None:
    store = submissions_dir_for(snapshots)
    week = dt.date.fromisoformat(WEEK)
    empty = submissions_fingerprint(store, week)
    calls = read_submission(_write(tmp_path, "a.csv", GOOD_CSV), snapshots, WEEK)
    store_calls(store, week, calls, submitted_at="2026-11-23T09:00:00+00:00")
    once = submissions_fingerprint(store, week)
    assert once != empty and submissions_fingerprint(store, week) == once
    assert submissions_fingerprint(store, dt.date(2026, 11, 16)) == empty  # later weeks ignored
