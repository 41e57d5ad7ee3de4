"""Parsing units, mapping errors with line numbers, and the module entry point."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from salesops_lib.core.errors import ConfigError, SnapshotError
from salesops_lib.sources.importer import import_snapshot
from salesops_lib.sources.importer.mapping import load_mapping
from salesops_lib.sources.importer.parsing import parse_dates, parse_numbers
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "import_corpus"


def test_numbers_with_separators_and_bad_values() -> None:
    values = pd.Series(["1,234.50", " 7 ", "$12", "12,5", None, "abc", "-3.25"])
    out = parse_numbers(values, decimal=".", thousands=",")
    assert out["value"].tolist()[:3] == [1234.5, 7.0, 12.0]
    assert out["value"].iloc[6] == -3.25
    assert out["bad"].tolist() == [False, False, False, True, False, True, False]
    assert pd.isna(out["value"].iloc[4])  # blank stays missing, not bad


def test_european_numbers() -> None:
    out = parse_numbers(pd.Series(["1.234,50", "0,5"]), decimal=",", thousands=".")
    assert out["value"].tolist() == [1234.5, 0.5]


def test_excel_serials_in_both_date_systems() -> None:
    # 2024-03-04 is 45355 days after 1899-12-30 and 43893 days after 1904-01-01.
    assert parse_dates(pd.Series(["45355"]), excel_dates=1900)["value"].iloc[0] == pd.Timestamp(
        "2024-03-04"
    )
    assert parse_dates(pd.Series(["43893"]), excel_dates=1904)["value"].iloc[0] == pd.Timestamp(
        "2024-03-04"
    )
    assert parse_dates(pd.Series(["45355"]))["bad"].iloc[0]  # serials only when declared


def test_day_first_and_bad_dates() -> None:
    out = parse_dates(pd.Series(["04/03/2024", "2024-13-45", None]), dayfirst=True)
    assert out["value"].iloc[0] == pd.Timestamp("2024-03-04")
    assert out["bad"].tolist() == [False, True, False]


def test_mapping_error_names_file_and_line(tmp_path: Path) -> None:
    text = (
        (CORPUS / "crm.yml")
        .read_text(encoding="utf-8")
        .replace("stage: Closed Won}", "stage: Won!}")
    )
    path = tmp_path / "bad.yml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "Won!" in t)
    with pytest.raises(ConfigError, match=rf"bad.yml, line {line}: stages.2.stage"):
        load_mapping(path)


def test_module_entry_point(tmp_path: Path) -> None:
    env = {**os.environ, "SALESOPS_HOME": str(ROOT)}
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "salesops_lib.sources.importer",
            str(CORPUS / "orders.yml"),
            str(CORPUS / "negative_amount.csv"),
            "--as-of",
            "2024-03-31",
            "--snapshots",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "quarantined:negative_amount: 1" in ok.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "salesops_lib.sources.importer",
            str(CORPUS / "orders.yml"),
            str(CORPUS / "missing_column.csv"),
            "--snapshots",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 2
    assert "missing_column.csv: required column 'Amount'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_stage_rules_take_effect_from_their_date(tmp_path: Path) -> None:
    text = (
        (CORPUS / "crm.yml")
        .read_text(encoding="utf-8")
        .replace(
            "  - {source: Engaging, stage: Qualification}\n",
            "  - {source: Engaging, stage: Qualification}\n"
            "  - {source: Engaging, stage: Proposal, effective_from: 2024-03-01}\n",
        )
    )
    path = tmp_path / "dated.yml"
    path.write_text(text, encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.stage_map(dt.date(2024, 2, 29))["engaging"] == "Qualification"
    assert mapping.stage_map(dt.date(2024, 3, 1))["engaging"] == "Proposal"


def test_existing_snapshot_needs_force(tmp_path: Path) -> None:
    source = [CORPUS / "ok_utf8.csv"]
    import_snapshot(CORPUS / "orders.yml", source, "2024-03-31", tmp_path, force=False)
    with pytest.raises(SnapshotError, match="already exists"):
        import_snapshot(CORPUS / "orders.yml", source, "2024-03-31", tmp_path, force=False)
    other = [CORPUS / "negative_amount.csv"]
    summary = import_snapshot(CORPUS / "orders.yml", other, "2024-03-31", tmp_path, force=True)
    assert summary.table_rows["order_lines"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["2024-03-31"]
