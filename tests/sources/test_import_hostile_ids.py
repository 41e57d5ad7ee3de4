"""Id derivation is collision-free, stable and never reserved; CRM names that normalise alike.

Known answers are worked out by hand from the rule in ``importer/ids.py``: a name whose slug
loses only case and spaces keeps the plain slug; any other name gets its slug plus a hash.
"""

from __future__ import annotations

import random
import re
import shutil
import string
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from salesops_lib.core.errors import ConfigError
from salesops_lib.sources.importer import import_snapshot, load_mapping
from salesops_lib.sources.importer.ids import MAX_ID_LENGTH, derive_ids, name_keys
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "import_corpus"
ID = re.compile(r"[a-z0-9][a-z0-9-]*")


def _ids(*names: str | None) -> list[str | None]:
    return derive_ids(pd.Series(list(names), dtype=object)).tolist()


def test_clean_names_keep_their_plain_slug() -> None:
    assert _ids("East", "Gold Plan", "east-1", "  Widget ") == [
        "east",
        "gold-plan",
        "east-1",
        "widget",
    ]


def test_names_that_normalise_alike_get_distinct_ids() -> None:
    ids = _ids("Widget", "WIDGET!", "east!!", "East", "east west", "east-west")
    assert ids[0] == "widget" and ids[3] == "east" and ids[5] == "east-west"
    assert ids[1].startswith("widget-") and ids[2].startswith("east-")
    assert ids[4].startswith("east-west-")
    assert len(set(ids)) == 6


def test_same_name_in_another_case_is_the_same_id() -> None:
    assert _ids("Widget", "widget", "WIDGET")[0:3] == ["widget"] * 3


def test_ids_are_stable_whatever_else_appears() -> None:
    alone = _ids("WIDGET!")[0]
    assert _ids("Widget", "WIDGET!")[1] == alone
    assert _ids("Widget")[0] == _ids("WIDGET!", "Widget")[1] == "widget"


def test_reserved_empty_and_blank() -> None:
    ids = _ids("ALL", "!!!", "$$$", None, "")
    assert ids[0] != "all" and ids[0].startswith("all-")
    assert ids[1:3] == ["", ""]
    assert ids[3] is None and ids[4] is None


def test_long_names_sharing_a_prefix_are_collision_free() -> None:
    prefix = "x" * 60
    names = [prefix + str(i) for i in range(500)] + [prefix]
    ids = _ids(*names)
    assert len(set(ids)) == len(names)
    assert all(len(i) <= MAX_ID_LENGTH and ID.fullmatch(i) for i in ids)


def test_random_names_are_collision_free() -> None:
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + " -_!.$éü"
    names = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(5000)]
    keys = name_keys(pd.Series(names))
    ids = derive_ids(pd.Series(names))
    pairs = pd.DataFrame({"key": keys, "id": ids}).dropna().drop_duplicates()
    pairs = pairs[pairs["id"] != ""]
    assert pairs["id"].is_unique and pairs["key"].is_unique
    assert all(len(i) <= MAX_ID_LENGTH and ID.fullmatch(i) for i in pairs["id"])


def test_mapping_region_id_all_is_refused(tmp_path: Path) -> None:
    text = (CORPUS / "crm.yml").read_text(encoding="utf-8")
    path = tmp_path / "crm.yml"
    path.write_text(text.replace("{id: central,", "{id: all,"), encoding="utf-8")
    with pytest.raises(ConfigError, match="reserved"):
        load_mapping(path)


def test_crm_products_and_agents_that_normalise_alike_stay_apart(tmp_path: Path) -> None:
    folder = tmp_path / "crm"
    shutil.copytree(CORPUS / "crm_base", folder)
    with (folder / "products.csv").open("a", encoding="utf-8") as handle:
        handle.write("ALPHA!,A,900\n")
    with (folder / "sales_teams.csv").open("a", encoding="utf-8") as handle:
        handle.write("Ann Agent!,Mia Manager,Central\n")
    pipeline = (CORPUS / "crm_ok.csv").read_text(encoding="utf-8")
    pipeline += "D5,Ann Agent!,ALPHA!,Acme,Won,2024-01-15,2024-02-10,900\n"
    (folder / "sales_pipeline.csv").write_text(pipeline, encoding="utf-8")
    snaps = tmp_path / "snaps"
    import_snapshot(CORPUS / "crm.yml", [folder], "2024-03-31", snaps, force=False)
    out = snaps / "2024-03-31"
    products = pq.read_table(out / "products.parquet").to_pandas()
    assert sorted(products["product_name"]) == ["ALPHA!", "Alpha", "Beta"]
    assert products["product_id"].is_unique
    reps = pq.read_table(out / "reps.parquet").to_pandas()
    assert {"Ann Agent", "Ann Agent!"} <= set(reps["rep_name"])
    assert reps["rep_id"].is_unique
    deals = pq.read_table(out / "opportunities.parquet").to_pandas().set_index("opportunity_id")
    by_name = dict(zip(reps["rep_name"], reps["rep_id"], strict=True))
    assert deals.loc["D5", "owner_rep_id"] == by_name["Ann Agent!"]
    assert deals.loc["D1", "owner_rep_id"] == by_name["Ann Agent"] == "ann-agent"
