"""Performance report layer: hand-made frames worked out by hand, and the tiny demo workspace
checked against independent SQL over the raw snapshot parquet."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import duckdb
import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from salesops_lib.analytics.performance import attainment, periods, pipeline, rep_trends, variance
from salesops_lib.core.errors import ParameterError
from salesops_lib.reports import narrative, performance
from salesops_lib.reports.charts import PngFigure
from salesops_lib.runs.runner import read_headlines
from tests.conftest import ROOT, Workspace

AS_OF = dt.date(2026, 11, 23)  # 12-month window: Nov 2025 .. Oct 2026; Q4 = Oct..Dec 2026
WINDOW = (pd.Timestamp("2026-10-01"), pd.Timestamp("2026-12-31"))
YEAR = tuple(f"{m:%Y-%m-%d}" for m in pd.date_range("2025-11-01", "2026-10-01", freq="MS"))
"""The 12 complete months before AS_OF."""


# --- hand-made frames ------------------------------------------------------------------------


def _qa_rows(rep: str, months: list[str], quota: float, booked: float) -> list[tuple]:
    return [(rep, f"Rep {rep}", "r1", "m1", pd.Timestamp(m), quota, booked) for m in months]


def test_leaderboard_12m_ranks_full_year_reps_only() -> None:
    year = [
        f"{y}-{m:02d}-01" for y, m in [(2025, 11), (2025, 12)] + [(2026, k) for k in range(1, 11)]
    ]
    rows = (
        _qa_rows("rA", year, 100.0, 120.0)  # 1440 / 1200 = 120%
        + _qa_rows("rA", ["2026-11-01"], 100.0, 0.0)  # as-of month: outside the window
        + _qa_rows("rB", year, 100.0, 50.0)  # 600 / 1200 = 50%
        + _qa_rows("rB", ["2025-10-01"], 100.0, 5000.0)  # 13 months back: outside
        + _qa_rows("rC", year[:-1], 100.0, 100.0)
        + _qa_rows("rC", year[-1:], 0.0, 100.0)  # a month with zero quota: not ranked
        + _qa_rows("rD", year[1:], 100.0, 300.0)  # hired a month into the window: not ranked
    )
    frame = pd.DataFrame(
        rows,
        columns=["rep_id", "rep_name", "region_id", "manager_id", "month", "quota_amount",
                 "bookings_amount"],
    )  # fmt: skip
    before = frame.copy()
    board = rep_trends.rep_leaderboard_12m(frame, AS_OF)
    pd.testing.assert_frame_equal(frame, before)
    assert board["rep_id"].tolist() == ["rA", "rB"]
    assert board["rank"].tolist() == [1, 2]
    assert board["attainment"].tolist() == [1.2, 0.5]
    assert board["quota_amount"].tolist() == [1200.0, 1200.0]
    assert board["bookings_amount"].tolist() == [1440.0, 600.0]


def test_attainment_trend_breaks_by_hand() -> None:
    year = [
        f"{y}-{m:02d}-01" for y, m in [(2025, 11), (2025, 12)] + [(2026, k) for k in range(1, 11)]
    ]
    prior, recent = year[:9], year[9:]  # recent = Aug, Sep, Oct 2026
    rows = (
        _qa_rows("drop", prior, 100.0, 100.0) + _qa_rows("drop", recent, 100.0, 40.0)  # 40%
        + _qa_rows("edge", prior, 100.0, 100.0) + _qa_rows("edge", recent, 100.0, 50.0)  # =50%
        + _qa_rows("jump", prior, 100.0, 50.0) + _qa_rows("jump", recent, 100.0, 101.0)  # 2.02x
        + _qa_rows("new", recent, 100.0, 0.0)  # no prior months: not judged
        + _qa_rows("zero", prior, 100.0, 0.0) + _qa_rows("zero", recent, 100.0, 10.0)
    )  # fmt: skip
    frame = pd.DataFrame(
        rows,
        columns=["rep_id", "rep_name", "region_id", "manager_id", "month", "quota_amount",
                 "bookings_amount"],
    )  # fmt: skip
    breaks = rep_trends.attainment_trend_breaks(frame, AS_OF)
    # "zero" goes from 0% to 10%: a jump (10% > 2 x 0%) with no finite ratio
    assert breaks["rep_id"].tolist() == ["drop", "jump", "zero"]
    assert breaks["direction"].tolist() == ["drop", "jump", "jump"]
    assert breaks["prior_attainment"].tolist() == [1.0, 0.5, 0.0]
    assert breaks["recent_attainment"].tolist() == [0.4, 1.01, 0.1]
    assert breaks["change_ratio"].iloc[0] == pytest.approx(0.4)
    assert np.isnan(breaks["change_ratio"].iloc[2])


def test_with_later_quotas_adds_the_rest_of_the_period() -> None:
    qa = pd.DataFrame(
        _qa_rows("rA", ["2026-10-01", "2026-11-01"], 100.0, 80.0),
        columns=["rep_id", "rep_name", "region_id", "manager_id", "month", "quota_amount",
                 "bookings_amount"],
    ).assign(attainment=0.8, is_complete_month=[True, False])  # fmt: skip
    plan = pd.DataFrame(
        {
            "rep_id": ["rA", "rA", "rA", "zz"],
            "region_id": "r1",
            "month": pd.to_datetime(["2026-10-01", "2026-11-01", "2026-12-01", "2026-12-01"]),
            "quota_amount": [100.0, 100.0, 150.0, 999.0],  # zz is not a known rep
        }
    )
    reps = pd.DataFrame(
        {"rep_id": ["rA"], "rep_name": ["Rep rA"], "region_id": ["r1"], "manager_id": ["m1"]}
    )
    full = attainment.with_later_quotas(qa, plan, reps)
    assert full["month"].tolist() == list(
        pd.to_datetime(["2026-10-01", "2026-11-01", "2026-12-01"])
    )
    assert full["quota_amount"].tolist() == [100.0, 100.0, 150.0]
    assert full["bookings_amount"].tolist() == [80.0, 80.0, 0.0]
    assert len(qa) == 2  # input unchanged
    # with December's quota the quarter's gap is 350 - 160 = 190, spread to 31 December
    row = attainment.attainment(full, AS_OF, "region", "qtd").iloc[0]
    assert row["gap_to_quota"] == 190.0 and row["days_left"] == 38


def _opportunities(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["opportunity_id", "is_closed", "close_date", "amount", "forecast_category"]
    )
    return frame.assign(close_date=pd.to_datetime(frame["close_date"]))


def _period_quota(booked: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-10-01", "2026-11-01", "2026-12-01", "2026-09-01"]),
            "quota_amount": [300.0, 300.0, 400.0, 5000.0],  # September: another quarter
            "bookings_amount": [booked, 0.0, 0.0, 5000.0],
        }
    )


def test_pipeline_coverage_by_forecast_category() -> None:
    opportunities = _opportunities(
        [
            ("c1", False, "2026-12-15", 100.10, "Commit"),
            ("c2", False, "2026-11-23", 50.00, "Commit"),  # due on the as-of date: counts
            ("b1", False, "2026-12-31", 200.00, "Best Case"),
            ("p1", False, "2026-12-01", 300.00, "Pipeline"),
            ("p2", False, "2027-01-01", 999.00, "Pipeline"),  # after the period
            ("p3", False, "2026-11-22", 999.00, "Pipeline"),  # overdue: not due this period
            ("w1", True, "2026-12-01", 999.00, "Closed"),  # closed
        ]
    )
    table = pipeline.pipeline_coverage(opportunities, _period_quota(400.0), AS_OF, WINDOW)
    # remaining quota = 1000 - 400 = 600
    by = table.set_index("forecast_category")
    assert by["remaining_quota"].tolist() == [600.0] * 4
    assert by["deals"].tolist() == [2, 1, 1, 4]
    assert by["pipeline_amount"].tolist() == [150.10, 200.0, 300.0, 650.10]
    assert by.loc["Commit", "coverage"] == pytest.approx(150.10 / 600)
    assert by.loc["Best Case", "cumulative_coverage"] == pytest.approx(350.10 / 600)
    assert by.loc["All open", "coverage"] == pytest.approx(650.10 / 600)


def test_pipeline_coverage_with_no_open_pipeline_and_quota_met() -> None:
    closed = _opportunities([("w1", True, "2026-12-01", 500.0, "Closed")])
    table = pipeline.pipeline_coverage(closed, _period_quota(400.0), AS_OF, WINDOW)
    assert table["pipeline_amount"].tolist() == [0.0] * 4
    assert table["coverage"].tolist() == [0.0] * 4
    met = pipeline.pipeline_coverage(closed, _period_quota(1500.0), AS_OF, WINDOW)
    assert met["remaining_quota"].tolist() == [0.0] * 4  # never negative
    assert met["coverage"].isna().all()


def test_pvm_by_family_adds_products_in_cents() -> None:
    by_product = pd.DataFrame(
        {
            "product_id": ["a", "b", "c"],
            "product_family": ["Hardware", "Hardware", "Support"],
            "amount_base": [0.10, 0.20, 5.0],
            "amount_current": [0.20, 0.20, 4.0],
            "volume_effect": [0.05, 0.0, -1.0],
            "mix_effect": [0.01, 0.0, 0.5],
            "price_effect": [0.04, 0.0, -0.5],
            "total_variance": [0.10, 0.0, -1.0],
        }
    )
    fam = variance.pvm_by_family(by_product).set_index("product_family")
    assert fam.loc["Hardware"].tolist() == [0.30, 0.40, 0.05, 0.01, 0.04, 0.10]
    assert fam.loc["Support"].tolist() == [5.0, 4.0, -1.0, 0.5, -0.5, -1.0]
    effects = fam[["volume_effect", "mix_effect", "price_effect"]].sum(axis=1)
    assert np.allclose(effects, fam["total_variance"])


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ParameterError, match="period 'week'"):
        periods.check_period("week")


# --- the tiny demo workspace -----------------------------------------------------------------


def _raw(workspace: Workspace, as_of: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    folder = workspace.snapshots / as_of
    for table in ("opportunities", "reps", "quotas", "order_lines"):
        path = str(folder / f"{table}.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
    return con


def expected_headlines(workspace: Workspace, as_of: str, region: str) -> dict[str, float]:
    """Quarter quota, quarter-to-date bookings and open pipeline straight from the raw parquet.

    Bookings are the order lines booked in the region (the line's region_id), any rep; the
    quota is that of the region's reps.

    The quota is the plan's quota for every month of the as-of quarter (the demo plans ahead,
    so December counts on 2026-11-23); bookings run from the quarter's first day to as-of.
    """
    con = _raw(workspace, as_of)
    everywhere = region == "all"
    open_amount = con.execute(
        "SELECT coalesce(sum(o.amount), 0) FROM opportunities o "
        "JOIN reps r ON o.owner_rep_id = r.rep_id "
        "WHERE o.stage NOT IN ('Closed Won', 'Closed Lost') AND (? OR r.region_id = ?)",
        [everywhere, region],
    ).fetchone()[0]
    day = dt.date.fromisoformat(as_of)
    first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    last_month = dt.date(day.year, first.month + 2, 1)
    quota = con.execute(
        "SELECT coalesce(sum(q.quota_amount), 0) FROM quotas q JOIN reps r USING (rep_id) "
        "WHERE q.month >= ? AND q.month <= ? AND (? OR r.region_id = ?)",
        [first, last_month, everywhere, region],
    ).fetchone()[0]
    booked = con.execute(  # a region's bookings: the lines booked in it, whoever sold them
        "SELECT coalesce(sum(l.amount), 0) FROM order_lines l "
        "WHERE l.order_date >= ? AND l.order_date <= ? AND (? OR l.region_id = ?)",
        [first, day, everywhere, region],
    ).fetchone()[0]
    return {"open_pipeline": open_amount, "quota_period": quota, "bookings_period": booked}


def _diagnose(workspace: Workspace, region: str) -> performance.Diagnosis:
    warehouse = performance.open_report_warehouse(region, "", snapshots_dir=workspace.snapshots)
    with warehouse:
        data = performance.load_performance(
            warehouse, region, "", "qtd", snapshots_dir=workspace.snapshots
        )
    return performance.diagnose(data)


@pytest.fixture(scope="module")
def tiny_diagnoses(tiny_workspace: Workspace) -> dict[str, performance.Diagnosis]:
    return {region: _diagnose(tiny_workspace, region) for region in ("all", "dach")}


@pytest.mark.parametrize("region", ["all", "dach"])
def test_headlines_equal_sql_over_raw_parquet(
    region: str, tiny_workspace: Workspace, tiny_diagnoses: dict[str, performance.Diagnosis]
) -> None:
    shown = performance.headline_numbers(tiny_diagnoses[region])
    expected = expected_headlines(tiny_workspace, shown["snapshot_id"], region)
    for key, value in expected.items():
        assert shown[key] == pytest.approx(float(value), abs=0.005), key
    assert shown["attainment_period"] == pytest.approx(
        float(expected["bookings_period"]) / float(expected["quota_period"]), abs=5e-5
    )
    assert shown["compare_to"] is not None and shown["compare_to"] < shown["snapshot_id"]


def test_waterfall_reconciles_and_sections_render(
    tiny_diagnoses: dict[str, performance.Diagnosis],
) -> None:
    diagnosis = tiny_diagnoses["dach"]
    assert diagnosis.reconciliation["reconciles"].all()
    bars = diagnosis.waterfall.set_index("category")["amount"]
    flows = bars.drop(["start", "end"])
    assert round((bars["start"] + flows.sum() - bars["end"]) * 100) == 0
    deal_flows = diagnosis.waterfall_deals.groupby("category")["contribution"].sum()
    for category, amount in flows.items():
        assert deal_flows.get(category, 0.0) == pytest.approx(amount, abs=0.005)
    for chart in (
        performance.attainment_chart, performance.waterfall_chart,
        performance.bottleneck_chart, performance.velocity_chart,
        performance.anomaly_chart, performance.pvm_chart,
    ):  # fmt: skip
        shown = chart(diagnosis)
        assert isinstance(shown, PngFigure | narrative.Html)
        if isinstance(shown, PngFigure):
            assert shown._repr_png_().startswith(b"\x89PNG")


def test_summary_ranked_by_money_escaped_and_cites_figures(
    tiny_diagnoses: dict[str, performance.Diagnosis],
) -> None:
    diagnosis = tiny_diagnoses["dach"]
    sentences = performance.summary_sentences(diagnosis)
    assert 3 <= len(sentences) <= 6
    stakes = [s.money_at_stake for s in sentences]
    assert stakes == sorted(stakes, reverse=True)
    for sentence in sentences:
        assert f"(see {sentence.figure})." in sentence.text
    gap = float(diagnosis.region_attainment["gap_to_quota"].iloc[0])
    attainment = [s for s in sentences if s.topic == "attainment"]
    if gap > 0 and attainment:
        assert attainment[0].money_at_stake == pytest.approx(gap)
    evil_context = dataclasses.replace(
        diagnosis.data.context, region_name="<script>alert(1)</script>"
    )
    evil = dataclasses.replace(diagnosis.data, context=evil_context)
    markup = performance.summary_html(dataclasses.replace(diagnosis, data=evil)).markup
    assert "<script>" not in markup and "&lt;script&gt;" in markup


def test_missing_tables_show_a_sentence_instead_of_failing(
    tiny_diagnoses: dict[str, performance.Diagnosis],
) -> None:
    data = tiny_diagnoses["dach"].data
    emptied = frozenset({"quotas", "opportunity_stage_history"})
    empty = dataclasses.replace(
        data,
        context=dataclasses.replace(data.context, empty_tables=emptied),
        compare_to=None,
        quota_attainment=data.quota_attainment.head(0),
        period_quotas=data.period_quotas.head(0),
        opportunities_before=data.opportunities_before.head(0),
        stage_changes=data.stage_changes.head(0),
    )
    diagnosis = performance.diagnose(empty)
    for display, needs in (
        (performance.attainment_table, "quota"),
        (performance.leaderboard_table, "quotas"),
        (performance.waterfall_table, "snapshot"),
        (performance.bottleneck_table, "stage history"),
        (performance.conversion_table, "stage history"),
        (performance.waterfall_chart, "snapshot"),
        (performance.attainment_chart, "quotas"),
    ):
        shown = display(diagnosis)
        assert isinstance(shown, narrative.Html), display.__name__
        assert needs in shown.markup, display.__name__
    assert performance.summary_sentences(diagnosis)  # what is left still gets summarized


def test_notebook_headlines_equal_sql(tiny_workspace: Workspace, tmp_path: Path) -> None:
    import papermill

    output = tmp_path / "10-performance.ipynb"
    environment = dict(os.environ)
    os.environ.update(tiny_workspace.env())
    try:
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "10-performance.ipynb"),
            str(output),
            parameters={"region": "dach", "as_of": "", "compare_to": "", "period": "qtd"},
            progress_bar=False,
            cwd=str(ROOT / "notebooks"),
        )
    finally:
        os.environ.clear()
        os.environ.update(environment)
    shown = read_headlines(nbformat.read(output, as_version=4))
    expected = expected_headlines(tiny_workspace, shown["snapshot_id"], "dach")
    for key, value in expected.items():
        assert shown[key] == pytest.approx(float(value), abs=0.005), key


def test_untrusted_names_render_as_text_in_charts(
    tiny_diagnoses: dict[str, performance.Diagnosis],
) -> None:
    diagnosis = tiny_diagnoses["dach"]
    reps = diagnosis.rep_attainment.assign(rep_name="$x^{2 <b>$", attainment=0.8)
    families = diagnosis.pvm.assign(product_family="$\\frac{1$")
    hostile = dataclasses.replace(diagnosis, rep_attainment=reps, pvm=families)
    for chart in (performance.attainment_chart, performance.pvm_chart):
        shown = chart(hostile)
        assert isinstance(shown, PngFigure), chart.__name__
        assert shown._repr_png_().startswith(b"\x89PNG")
        labels = [t.get_text() for ax in shown.figure.axes for t in ax.get_yticklabels()]
        labels += [t.get_text() for ax in shown.figure.axes for t in ax.get_xticklabels()]
        # drawn literally: the names as they are, with mathtext off for every text
        assert "$x^{2 <b>$" in labels or "$\\frac{1$" in labels, chart.__name__
        assert not any(t.get_parse_math() for t in shown.figure.findobj(Text)), chart.__name__


def test_compare_to_defaults_to_the_previous_snapshot_and_bad_dates_are_named(
    tiny_workspace: Workspace,
) -> None:
    folder = tiny_workspace.snapshots
    dates = sorted(p.name for p in folder.iterdir() if p.is_dir())
    latest = dt.date.fromisoformat(dates[-1])
    assert performance.resolve_compare_to(latest, "", folder).isoformat() == dates[-2]
    assert performance.resolve_compare_to(dt.date.fromisoformat(dates[0]), "", folder) is None
    with pytest.raises(ParameterError, match="no snapshot for that date"):
        performance.resolve_compare_to(latest, "2020-01-06", folder)
    with pytest.raises(ParameterError, match="must be before as_of"):
        performance.resolve_compare_to(latest, dates[-1], folder)
    with pytest.raises(ParameterError, match="YYYY-MM-DD"):
        performance.resolve_compare_to(latest, "last week", folder)
