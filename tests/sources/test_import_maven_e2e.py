"""End to end: import the Maven CRM export, then `salesops run --all` publishes every report.

The expected set (4 notebooks x central/east/west/all) comes from the notebooks folder and
config/workbench.maven_crm.yml, read here independently of the runner.
"""

from __future__ import annotations

import html as html_text
import json
import os
import re
from pathlib import Path

import duckdb
import yaml

from tests.conftest import ROOT, SAMPLES
from tests.sources.corpus_e2e import salesops, write_workspace

MAVEN = SAMPLES / "maven_crm"
MAPPING = ROOT / "config" / "mappings" / "maven_crm.yml"


def _config(folder: Path) -> Path:
    maven = yaml.safe_load((ROOT / "config" / "workbench.maven_crm.yml").read_text("utf-8"))
    # the Maven offices as regions and the CRM's own stages
    return write_workspace(folder, {"regions": maven["regions"], "stages": maven["stages"]})


def test_maven_import_then_run_all_publishes_every_report(tmp_path: Path) -> None:
    env = {**os.environ, "SALESOPS_CONFIG": str(_config(tmp_path)), "SALESOPS_HOME": str(ROOT)}
    imported = salesops(["import", str(MAPPING), str(MAVEN)], env)
    assert imported.returncode == 0, imported.stderr[-2000:]
    ran = salesops(["run", "--all", "--workers", "2"], env)
    assert ran.returncode == 0, ran.stderr[-3000:]

    regions = ["central", "east", "west", "all"]
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    expected = {(region, notebook) for region in regions for notebook in notebooks}
    records = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in (tmp_path / "reports" / "_runs").glob("*.json")
    ]
    assert {(r["region"], r["notebook"]) for r in records} == expected
    assert all(r["status"] == "ok" and not r["error"] for r in records), [
        (r["region"], r["notebook"], r["error"]) for r in records if r["status"] != "ok"
    ]
    for record in records:
        html = Path(record["outputs"]["html"])
        assert html.is_file() and html.parent.name == record["region"]
        assert html.parent.parent.name == "2017-12-31"
    overview = {r["region"]: r["headlines"] for r in records if r["notebook"] == "00-overview"}
    expected_open = _open_pipeline_by_office()
    assert {r: overview[r]["open_pipeline"] for r in expected_open} == expected_open
    assert overview["all"]["open_pipeline"] == round(sum(expected_open.values()), 2)
    _reports_show_the_crm_stages(records)


def _reports_show_the_crm_stages(records: list[dict[str, object]]) -> None:
    """The overview and performance reports name Maven's stages (never the default model's)
    and count the CRM's open deals per office (908 / 433 / 748, counted from the CSV)."""
    open_deals = _open_deals_by_office()
    assert open_deals == {"central": 908, "east": 433, "west": 748}
    html = {
        (str(r["region"]), str(r["notebook"])): _visible_text(Path(r["outputs"]["html"]))  # type: ignore[index]
        for r in records
        if r["notebook"] in ("00-overview", "10-performance")
    }
    for region, count in [*open_deals.items(), ("all", sum(open_deals.values()))]:
        overview = html[(region, "00-overview")]
        assert f"across {count:,} opportunities" in overview, region
        for stage in ("Prospecting", "Engaging"):  # every open stage of the model is listed
            assert stage in overview, (region, stage)
        for text in (overview, html[(region, "10-performance")]):
            for default_only in ("Qualification", "Proposal", "Negotiation"):  # default stages
                assert default_only not in text, (region, default_only)
        assert "Engaging" in html[(region, "10-performance")], region


def _visible_text(path: Path) -> str:
    """A report page's text: tags, scripts and styles removed, entities decoded, spaces joined."""
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return " ".join(html_text.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _open_deals_by_office() -> dict[str, int]:
    """Open deals per office, from the CSV files alone."""
    sql = f"""
        select lower(t.regional_office) as region, count(*) as deals
        from read_csv_auto('{MAVEN / "sales_pipeline.csv"}') d
        join read_csv_auto('{MAVEN / "sales_teams.csv"}') t using (sales_agent)
        where d.deal_stage in ('Prospecting', 'Engaging')
        group by all
    """
    return {region: int(deals) for region, deals in duckdb.sql(sql).fetchall()}


def _open_pipeline_by_office() -> dict[str, float]:
    """Open pipeline per office from the CSV files alone: every open deal (with or without an
    account) at its product's list price (open deals have no close value; GTXPro is GTX Pro)."""
    sql = f"""
        select lower(t.regional_office) as region, round(sum(p.sales_price), 2) as amount
        from read_csv_auto('{MAVEN / "sales_pipeline.csv"}') d
        join read_csv_auto('{MAVEN / "sales_teams.csv"}') t using (sales_agent)
        join read_csv_auto('{MAVEN / "products.csv"}') p
          on p.product = replace(d.product, 'GTXPro', 'GTX Pro')
        where d.deal_stage in ('Prospecting', 'Engaging')
        group by 1
    """
    return {region: float(amount) for region, amount in duckdb.sql(sql).fetchall()}
