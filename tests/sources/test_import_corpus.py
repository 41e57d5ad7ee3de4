"""The broken-input corpus: each file gives its documented result (import_corpus/expected.csv).

Expected values were worked out by hand from the files: amounts 100.00 + 250.50 + 49.50 + 1000.00,
dates 2024-03-04..07; rows are line numbers in the file (header = 1). Outcomes are checked
against the parquet files and ``_quarantine.json`` read directly, not through the importer.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from salesops_lib.core.errors import WorkbenchError
from salesops_lib.sources.importer import import_snapshot
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "import_corpus"
AS_OF = "2024-03-31"
CASES = list(csv.DictReader((CORPUS / "expected.csv").open(encoding="utf-8")))


def test_corpus_has_at_least_20_cases_one_file_each() -> None:
    assert len(CASES) >= 20
    for case in CASES:
        assert (CORPUS / case["case"]).is_file(), case["case"]


def _sources(case: dict[str, str], tmp_path: Path) -> list[Path]:
    if case["mapping"] != "crm.yml":
        return [CORPUS / case["case"]]
    folder = tmp_path / "crm"
    shutil.copytree(CORPUS / "crm_base", folder)
    shutil.copy(CORPUS / case["case"], folder / "sales_pipeline.csv")
    return [folder]


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_corpus_case(case: dict[str, str], tmp_path: Path) -> None:
    mapping = CORPUS / case["mapping"]
    snaps = tmp_path / "snaps"
    if case["outcome"] == "error":
        with pytest.raises(WorkbenchError) as caught:
            import_snapshot(mapping, _sources(case, tmp_path), AS_OF, snaps, force=False)
        assert case["error_contains"] in str(caught.value)
        assert case["case"] in str(caught.value) or case["mapping"] == "orders_utf8.yml"
        assert not (snaps / AS_OF).exists()
        return
    import_snapshot(mapping, _sources(case, tmp_path), AS_OF, snaps, force=False)
    folder = snaps / AS_OF
    issues = json.loads((folder / "_quarantine.json").read_text(encoding="utf-8"))["issues"]
    quarantined = {(i["file"], i["row"]) for i in issues if i["action"] == "quarantined"}
    is_crm = case["mapping"] == "crm.yml"
    kept_table = "opportunities" if is_crm else "order_lines"
    kept = pq.read_table(folder / f"{kept_table}.parquet").num_rows
    assert kept == int(case["kept_rows"])
    if case["outcome"] == "parsed":
        assert quarantined == set()
        lines = pq.read_table(folder / "order_lines.parquet").to_pylist()
        assert round(sum(line["amount"] for line in lines), 2) == float(case["total_amount"])
        dates = sorted(line["order_date"].isoformat() for line in lines)
        assert (dates[0], dates[-1]) == (case["first_date"], case["last_date"])
        for item in filter(None, case["extra"].split(";")):
            key, value = item.split("=")
            if key == "account":
                names = pq.read_table(folder / "accounts.parquet")["account_name"].to_pylist()
                assert value in names
            else:
                assert pq.read_table(folder / f"{key}.parquet").num_rows == int(value)
        return
    file = "sales_pipeline.csv" if is_crm else case["case"]
    assert quarantined == {(file, int(case["row"]))}
    hits = [i for i in issues if i["rule"] == case["rule"] and i["action"] == "quarantined"]
    assert [(i["file"], i["row"], i["column"]) for i in hits] == [
        (file, int(case["row"]), case["column"])
    ]
