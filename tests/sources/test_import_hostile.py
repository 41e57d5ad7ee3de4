"""The hostile-input corpus (import_corpus/hostile/expected.csv): each file, its documented result.

Every case is the four-line baseline order book (amounts 100.00 + 250.50 + 49.50 + 1000.00,
regions East and West, products Widget and Gadget, customers Acme, Bravo and Cobalt) with one
line made hostile. Expected outcomes were worked out by hand; they are checked against the
parquet files and ``_quarantine.json`` read directly, not through the importer.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from salesops_lib.core.errors import WorkbenchError
from salesops_lib.sources.importer import import_snapshot
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "import_corpus" / "hostile"
MAPPING = CORPUS / "orders.yml"
AS_OF = "2024-03-31"
CASES = list(csv.DictReader((CORPUS / "expected.csv").open(encoding="utf-8")))


def test_every_corpus_case_has_its_file() -> None:
    assert len(CASES) >= 20
    for case in CASES:
        assert (CORPUS / case["case"]).is_file(), case["case"]


def _check_tables(folder: Path, check: str) -> None:
    for item in filter(None, check.split(";")):
        key, value = item.split("=")
        if key == "account":
            names = pq.read_table(folder / "accounts.parquet")["account_name"].to_pylist()
            assert value in names
        elif key == "region_names":
            names = pq.read_table(folder / "regions.parquet")["region_name"].to_pylist()
            assert sorted(names) == sorted(value.split("|"))
        else:
            assert pq.read_table(folder / f"{key}.parquet").num_rows == int(value), key


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_hostile_case(case: dict[str, str], tmp_path: Path) -> None:
    snaps = tmp_path / "snaps"
    source = [CORPUS / case["case"]]
    if case["outcome"] == "error":
        with pytest.raises(WorkbenchError) as caught:
            import_snapshot(MAPPING, source, AS_OF, snaps, force=False)
        message = str(caught.value)
        assert case["error_contains"] in message
        assert case["case"] in message
        assert "\n" not in message
        assert not (snaps / AS_OF).exists()
        return
    import_snapshot(MAPPING, source, AS_OF, snaps, force=False)
    folder = snaps / AS_OF
    issues = json.loads((folder / "_quarantine.json").read_text(encoding="utf-8"))["issues"]
    quarantined = {(i["file"], i["row"]) for i in issues if i["action"] == "quarantined"}
    assert pq.read_table(folder / "order_lines.parquet").num_rows == int(case["kept_rows"])
    _check_tables(folder, case["check"])
    ids = pq.read_table(folder / "regions.parquet")["region_id"].to_pylist()
    assert "all" not in ids and "" not in ids
    if case["outcome"] == "parsed":
        assert quarantined == set()
        return
    hits = [i for i in issues if i["rule"] == case["rule"]]
    assert [(i["file"], i["row"], i["column"], i["action"]) for i in hits] == [
        (case["case"], int(case["row"]), case["column"], case["outcome"])
    ]
    if case["outcome"] == "quarantined":
        assert quarantined == {(case["case"], int(case["row"]))}
    else:
        assert quarantined == set()
        for table in ("accounts", "products", "regions"):
            rows = pq.read_table(folder / f"{table}.parquet").to_pylist()
            text = json.dumps(rows, default=str, ensure_ascii=False)
            for char in ("\u202e", "\u200b", "\u2066", "\u2069", "\ufeff"):
                assert char not in text, table


def test_corpus_counts_per_class() -> None:
    """The table the README quotes: cases per class (committed and generated)."""
    counts: dict[str, int] = {}
    for case in CASES:
        counts[case["class"]] = counts.get(case["class"], 0) + 1
    assert min(counts.values()) >= 3
