"""The segmentation report on demo data: planted behaviour groups, determinism, escaping.

One small demo (two weekly snapshots) is generated for the module and its segmentation store
built. Its ``_truth.json`` records each account's planted behaviour group (five groups).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from salesops_lib.analytics.build import build_store
from salesops_lib.analytics.segmentation.build import STEPS
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.reports import segmentation
from salesops_lib.sources.demo import generate_demo

AS_OF = "2026-11-23"
PLANTED_GROUPS = 5
REGION = "na-east"  # the largest demo region
NASTY_NAMES = ("<script>alert(1)</script> Corp", "Smith & Sons <Holdings>")


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("segmentation-demo") / "snapshots"
    generate_demo(folder, AS_OF, seed=42, scale="small", weeks=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALESOPS_CODE_VERSION", "segmentation-demo-test")
        build_store(AS_OF, snapshots_dir=folder, steps=STEPS)
        yield folder


@pytest.fixture(scope="module")
def truth(snapshots: Path) -> dict[str, str]:
    document = json.loads((snapshots / AS_OF / "_truth.json").read_text())
    return document["behaviour_groups"]["account_groups"]


def _report(snapshots: Path, region: str) -> segmentation.SegmentationReport:
    with Warehouse.open(AS_OF, snapshots_dir=snapshots) as warehouse:
        return segmentation.load_report(warehouse, region, "", 0, snapshots_dir=snapshots)


@pytest.fixture(scope="module")
def company(snapshots: Path) -> Iterator[segmentation.SegmentationReport]:
    yield _report(snapshots, "all")


@pytest.fixture(scope="module")
def region(snapshots: Path) -> segmentation.SegmentationReport:
    return _report(snapshots, REGION)


def _check_recovery(report: segmentation.SegmentationReport, truth: dict[str, str]) -> None:
    found = report.clusters
    assert found.method == "silhouette"
    assert found.k == PLANTED_GROUPS
    planted = [truth[account] for account in found.assignments["account_id"]]
    assert adjusted_rand_score(planted, found.assignments["cluster"]) >= 0.8


def test_company_clusters_recover_the_planted_groups(
    company: segmentation.SegmentationReport, truth: dict[str, str]
) -> None:
    assert len(company.clusters.assignments) > 1000
    _check_recovery(company, truth)


def test_region_clusters_recover_the_planted_groups(
    region: segmentation.SegmentationReport, truth: dict[str, str]
) -> None:
    assert len(region.clusters.assignments) >= 200  # enough accounts for five groups
    _check_recovery(region, truth)


def test_two_runs_give_identical_segments_clusters_and_text(
    snapshots: Path, region: segmentation.SegmentationReport
) -> None:
    again = _report(snapshots, REGION)
    pd.testing.assert_frame_equal(region.rfm, again.rfm)
    pd.testing.assert_frame_equal(region.clusters.assignments, again.clusters.assignments)
    assert list(region.clusters.profiles["cluster_name"]) == list(
        again.clusters.profiles["cluster_name"]
    )
    pd.testing.assert_frame_equal(region.actions, again.actions)
    assert segmentation.summary_sentences(region) == segmentation.summary_sentences(again)
    assert (
        segmentation.executive_summary(region)._repr_html_()
        == segmentation.executive_summary(again)._repr_html_()
    )


def test_report_compares_with_the_previous_snapshot(
    snapshots: Path, company: segmentation.SegmentationReport
) -> None:
    assert company.compare_to is not None and company.compare_to.isoformat() < AS_OF
    assert company.migration is not None
    # Every customer of the earlier snapshot is in a row other than "New customer".
    with Warehouse.open(company.compare_to, snapshots_dir=snapshots) as old:
        before = len(
            old.query("SELECT DISTINCT account_id FROM fct_bookings WHERE order_date <= ?",
                      [company.compare_to])
        )  # fmt: skip
    assert int(company.migration.counts.drop(index="New customer").to_numpy().sum()) == before


def test_customer_names_render_escaped(company: segmentation.SegmentationReport) -> None:
    shown = set(company.actions["account_name"]) & set(NASTY_NAMES)
    assert shown, "the demo's hostile names should reach the action lists"
    markup = segmentation.action_table(company)._repr_html_()
    for name in shown:
        assert name not in markup
        assert name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in markup
    displays = [
        segmentation.executive_summary(company),
        segmentation.top_customers_table(company),
        segmentation.migration_summary(company),
        segmentation.cluster_descriptions(company),
    ]
    for display in displays:
        assert "<script>" not in display._repr_html_()


def test_headlines_carry_the_report_numbers(
    snapshots: Path, company: segmentation.SegmentationReport
) -> None:
    values = segmentation.headline_numbers(company)
    with Warehouse.open(AS_OF, snapshots_dir=snapshots) as warehouse:
        accounts = warehouse.query("SELECT DISTINCT account_id FROM fct_bookings")
    assert values["customers"] == len(accounts)
    assert values["clusters"] == PLANTED_GROUPS
    assert values["customers_at_risk"] == len(company.save_list)
    json.dumps(values)
