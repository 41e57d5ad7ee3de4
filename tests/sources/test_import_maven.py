"""Acceptance: importing the Maven CRM export (data/samples/maven_crm/, shipped as found).

Known answers come from SOURCES.md and from counting the raw CSV files with the csv module.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from salesops_lib.analytics import quality
from salesops_lib.data.contracts import run_contracts
from salesops_lib.data.snapshot import open_snapshot
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.sources.importer import import_snapshot
from tests.conftest import ROOT, SAMPLES

MAVEN = SAMPLES / "maven_crm"
MAPPING = ROOT / "config" / "mappings" / "maven_crm.yml"
MAVEN_CONFIG = ROOT / "config" / "workbench.maven_crm.yml"
MAVEN_STAGES = ["Prospecting", "Engaging", "Won", "Lost"]
"""The CRM's own stages, in funnel order (its deal_stage values, SOURCES.md)."""


@pytest.fixture(scope="module", autouse=True)
def maven_workspace() -> Iterator[None]:
    """Every test here runs in the Maven workspace, whose configuration declares its stages."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALESOPS_CONFIG", str(MAVEN_CONFIG))
        yield


def _raw(name: str) -> list[dict[str, str]]:
    with (MAVEN / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    snaps = tmp_path_factory.mktemp("maven") / "snaps"
    summary = import_snapshot(MAPPING, [MAVEN], None, snaps, force=False)
    assert summary.as_of.isoformat() == "2017-12-31"
    yield summary.snapshot_dir


def _issues(folder: Path) -> list[dict[str, object]]:
    return json.loads((folder / "_quarantine.json").read_text(encoding="utf-8"))["issues"]


def test_regions_are_the_three_offices(imported: Path) -> None:
    regions = pq.read_table(imported / "regions.parquet").to_pylist()
    assert {(r["region_id"], r["region_name"]) for r in regions} == {
        ("central", "Central"),
        ("east", "East"),
        ("west", "West"),
    }


def test_snapshot_passes_every_contract(imported: Path) -> None:
    snapshot = open_snapshot(imported.parent, "2017-12-31")
    with Warehouse(snapshot) as wh:
        failed = [r for r in run_contracts(wh) if not r.passed]
    assert failed == []


def test_reps_are_agents_and_managers(imported: Path) -> None:
    teams = _raw("sales_teams.csv")
    reps = pq.read_table(imported / "reps.parquet").to_pylist()
    roles = {r["rep_name"]: r["role"] for r in reps}
    assert {n for n, role in roles.items() if role == "rep"} == {t["sales_agent"] for t in teams}
    assert {n for n, role in roles.items() if role == "manager"} == {t["manager"] for t in teams}


def test_quirks_are_found_with_exact_counts(imported: Path) -> None:
    deals, accounts = _raw("sales_pipeline.csv"), _raw("accounts.csv")
    no_account = sum(1 for d in deals if not d["account"].strip())
    gtxpro = sum(1 for d in deals if d["product"] == "GTXPro")
    typo = sum(1 for a in accounts if a["sector"] == "technolgy")
    assert (no_account, typo) == (1425, 12)  # SOURCES.md
    issues = _issues(imported)
    by_rule: dict[str, int] = {}
    for issue in issues:
        by_rule[str(issue["rule"])] = by_rule.get(str(issue["rule"]), 0) + 1
    assert by_rule["missing_account"] == no_account
    assert by_rule["product_alias"] == gtxpro > 0
    assert by_rule["category_alias"] == typo
    industries = set(pq.read_table(imported / "accounts.parquet")["industry"].to_pylist())
    assert "technolgy" not in industries and "technology" in industries
    quarantined = {(i["file"], i["row"]) for i in issues if i["action"] == "quarantined"}
    assert quarantined == set()  # every deal without an account is open: kept as pipeline
    imputed = [i for i in issues if i["rule"] == "missing_account"]
    assert {i["action"] for i in imputed} == {"imputed"}


def test_deals_without_an_account_stay_in_the_pipeline(imported: Path) -> None:
    raw = _raw("sales_pipeline.csv")
    teams = {t["sales_agent"]: t["regional_office"].lower() for t in _raw("sales_teams.csv")}
    open_raw = [d for d in raw if d["deal_stage"] in ("Prospecting", "Engaging")]
    expected: dict[str, int] = {}
    for deal in open_raw:
        region = teams[deal["sales_agent"]]
        expected[region] = expected.get(region, 0) + 1
    assert expected == {"central": 908, "east": 433, "west": 748}  # the CRM's own counts
    snapshot = open_snapshot(imported.parent, "2017-12-31")
    with Warehouse(snapshot) as wh:
        counted = wh.query(
            "select region_id, count(*) as n from fct_opportunities where not is_closed group by 1"
        )
        placeholders = wh.query(
            "select account_id, account_name, region_id from dim_accounts "
            "where account_name = '(no account)' order by 1"
        )
    assert dict(zip(counted["region_id"], counted["n"], strict=True)) == expected
    assert list(placeholders["account_id"]) == [
        f"no-account--{r}" for r in ("central", "east", "west")
    ]
    no_account = sum(1 for d in open_raw if not d["account"].strip())
    with Warehouse(snapshot) as wh:
        on_placeholder = wh.query(
            "select count(*) as n from fct_opportunities where account_id like 'no-account--%'"
        )
    assert int(on_placeholder["n"].iloc[0]) == no_account == 1425


def test_a_real_account_named_no_account_keeps_its_own_id() -> None:
    import pandas as pd

    from salesops_lib.sources.importer.ids import derive_ids

    ids = derive_ids(pd.Series(["No Account", "Acme"]), reserved=frozenset({"no-account"}))
    assert ids.iloc[0] != "no-account" and ids.iloc[0].startswith("no-account-")
    assert ids.iloc[1] == "acme"


def test_quality_report_counts_the_quirks(imported: Path) -> None:
    snapshot = open_snapshot(imported.parent, "2017-12-31")
    with Warehouse(snapshot) as wh:
        deals = quality.load_deals(wh)
    issues = quality.load_issues(snapshot)
    findings = quality.issue_findings(issues)
    records = quality.deal_records(deals, issues)
    card = quality.scorecard(records, findings, None).iloc[0]
    raw = _raw("sales_pipeline.csv")
    assert card["records"] == len(raw)
    assert card["missing_account"] == sum(1 for d in raw if not d["account"].strip())
    open_raw = [d for d in raw if d["deal_stage"] in ("Prospecting", "Engaging")]
    assert card["missing_close_date"] == sum(1 for d in open_raw if not d["close_date"])
    by_region = quality.scorecard(records, findings, "region_id")
    assert by_region["missing_account"].sum() == card["missing_account"]
    assert set(by_region["region_id"]) >= {"central", "east", "west"}
    corrected = findings[findings["check"] == "corrected"]
    assert len(corrected) == sum(1 for d in raw if d["product"] == "GTXPro") + 12


def test_won_deals_become_order_lines(imported: Path) -> None:
    won = [d for d in _raw("sales_pipeline.csv") if d["deal_stage"] == "Won"]
    lines = pq.read_table(imported / "order_lines.parquet").to_pylist()
    assert len(lines) == len(won)
    assert round(sum(x["amount"] for x in lines), 2) == sum(float(d["close_value"]) for d in won)
    assert {x["quantity"] for x in lines} == {1} and {x["discount"] for x in lines} == {0.0}


def test_reimport_gives_the_same_bytes(imported: Path, tmp_path: Path) -> None:
    again = import_snapshot(MAPPING, [MAVEN], None, tmp_path / "snaps", force=False)
    names = sorted(p.name for p in imported.iterdir())
    assert names == sorted(p.name for p in again.snapshot_dir.iterdir())
    for name in names:
        assert (imported / name).read_bytes() == (again.snapshot_dir / name).read_bytes(), name


def test_the_warehouse_shows_the_crm_own_stages(imported: Path) -> None:
    raw = _raw("sales_pipeline.csv")
    assert sorted({d["deal_stage"] for d in raw}) == sorted(MAVEN_STAGES)
    teams = {t["sales_agent"]: t["regional_office"].lower() for t in _raw("sales_teams.csv")}
    expected: dict[tuple[str, str], int] = {}
    for deal in raw:
        key = (teams[deal["sales_agent"]], deal["deal_stage"])
        expected[key] = expected.get(key, 0) + 1
    snapshot = open_snapshot(imported.parent, "2017-12-31")
    with Warehouse(snapshot) as wh:
        stages = wh.query("select * from ref_stages order by stage_order")
        counted = wh.query(
            "select region_id, stage, count(*) as n from fct_opportunities group by all"
        )
        history = wh.query("select distinct stage from fct_stage_changes order by stage")
    assert list(stages["stage"]) == MAVEN_STAGES
    assert list(stages["is_closed"]) == [False, False, True, True]
    assert list(stages["is_won"]) == [False, False, True, False]
    assert list(stages["is_lost"]) == [False, False, False, True]
    got = {(r, s): int(n) for r, s, n in counted.itertuples(index=False)}
    assert got == expected
    assert set(history["stage"]) == set(MAVEN_STAGES)  # closed deals enter Engaging first
    recorded = json.loads((imported / "_stages.json").read_text(encoding="utf-8"))
    assert [(s["name"], s["outcome"]) for s in recorded["stages"]] == [
        ("Prospecting", "open"), ("Engaging", "open"), ("Won", "won"), ("Lost", "lost")
    ]  # fmt: skip


def test_the_maven_snapshot_is_refused_by_a_workspace_with_other_stages(
    imported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from salesops_lib.data.stage_model import StageModelMismatch

    monkeypatch.setenv("SALESOPS_CONFIG", str(ROOT / "config" / "workbench.yml"))
    snapshot = open_snapshot(imported.parent, "2017-12-31")
    with pytest.raises(StageModelMismatch) as caught:
        Warehouse(snapshot)
    message = str(caught.value)
    assert "2017-12-31" in message
    assert "Prospecting, Engaging, Won (won), Lost (lost)" in message
    assert "Closed Won (won)" in message and "SALESOPS_CONFIG" in message


def test_importing_maven_under_the_default_stages_names_the_mapping_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from salesops_lib.core.errors import ConfigError

    monkeypatch.setenv("SALESOPS_CONFIG", str(ROOT / "config" / "workbench.yml"))
    lines = MAPPING.read_text(encoding="utf-8").splitlines()
    engaging = 1 + next(i for i, line in enumerate(lines) if "{source: Engaging" in line)
    with pytest.raises(ConfigError) as caught:
        import_snapshot(MAPPING, [MAVEN], None, tmp_path / "snaps", force=False)
    message = str(caught.value)
    assert f"{MAPPING}, line {engaging}" in message
    assert "'Engaging' is not a stage of the workspace's stage model" in message
    assert "allowed: Prospecting, Qualification, Proposal, Negotiation, Closed Won" in message
    assert not (tmp_path / "snaps").exists() or not any((tmp_path / "snaps").iterdir())
