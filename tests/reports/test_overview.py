"""Overview analytics and narrative on tiny hand-made frames, answers worked out by hand."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from salesops_lib.analytics.performance import attainment, periods, pipeline
from salesops_lib.analytics.performance import bookings as bk
from salesops_lib.analytics.performance import teams as team_attainment
from salesops_lib.analytics.performance.bookings import BookingsComparison
from salesops_lib.analytics.performance.pipeline import PipelineSummary
from salesops_lib.analytics.performance.teams import AttainmentSummary
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.headlines import HEADLINES_MIMETYPE
from salesops_lib.reports import charts, narrative, overview
from salesops_lib.reports.base import ReportContext
from salesops_lib.reports.overview import charts as overview_charts
from salesops_lib.reports.overview import summary as overview_summary

AS_OF = dt.date(2026, 11, 23)  # last complete month: Oct 2026; last 12 = Nov 2025..Oct 2026


def _bookings() -> pd.DataFrame:
    rows = [
        ("r1", "2026-10-01", 100.0),  # last 12
        ("r1", "2025-11-01", 50.0),  # last 12, its first month
        ("r2", "2026-03-01", 150.0),  # last 12
        ("r1", "2025-10-01", 200.0),  # prior 12, its last month
        ("r2", "2024-11-01", 40.0),  # prior 12, its first month
        ("r1", "2026-11-01", 999.0),  # as-of month, incomplete: excluded
        ("r1", "2024-10-01", 777.0),  # before the prior window: excluded
    ]
    frame = pd.DataFrame(rows, columns=["region_id", "order_month", "bookings_amount"])
    return frame.assign(order_month=pd.to_datetime(frame["order_month"]), rep_id="x")


def _opportunities() -> pd.DataFrame:
    rows = [
        ("o1", "Prospecting", False, 100.0, "Pipeline"),
        ("o2", "Proposal", False, 300.0, "Commit"),
        ("o3", "Proposal", False, 200.0, "Best Case"),
        ("o4", "Negotiation", False, 400.0, "Commit"),
        ("o5", "Closed Won", True, 1000.0, "Closed"),
        ("o6", "Closed Lost", True, 500.0, "Omitted"),
    ]
    return pd.DataFrame(
        rows, columns=["opportunity_id", "stage", "is_closed", "amount", "forecast_category"]
    )


def _quota_attainment() -> pd.DataFrame:
    rows = [
        ("rA", "2026-01-01", 100.0, 120.0, True),
        ("rA", "2026-02-01", 100.0, 90.0, True),  # rA: 210 / 200 = 105%
        ("rA", "2025-12-01", 100.0, 0.0, True),  # last year: excluded
        ("rA", "2026-11-01", 100.0, 500.0, False),  # incomplete month: excluded
        ("rB", "2026-01-01", 100.0, 50.0, True),
        ("rB", "2026-02-01", 100.0, 50.0, True),  # rB: 100 / 200 = 50%
        ("rC", "2026-01-01", 0.0, 30.0, True),  # rC: zero quota, no attainment
        ("rD", "2026-01-01", 100.0, 100.0, True),  # rD: exactly 100%
    ]
    frame = pd.DataFrame(
        rows, columns=["rep_id", "month", "quota_amount", "bookings_amount", "is_complete_month"]
    )
    managers = {"rA": ("m1", "r1"), "rB": ("m1", "r1"), "rC": ("m2", "r2"), "rD": ("m2", "r2")}
    return frame.assign(
        month=pd.to_datetime(frame["month"]),
        rep_name=frame["rep_id"].str.upper(),
        manager_id=frame["rep_id"].map(lambda r: managers[r][0]),
        region_id=frame["rep_id"].map(lambda r: managers[r][1]),
    )


def _reps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": ["rA", "rB", "rC", "rD"],
            "region_name": ["Region One", "Region One", "<b>Two</b>", "<b>Two</b>"],
            "manager_name": ["Mia", "Mia", "Max", "Max"],
        }
    )


def test_last_complete_month_counts_the_as_of_month_only_on_its_last_day() -> None:
    assert periods.last_complete_month(AS_OF) == pd.Timestamp("2026-10-01")
    assert periods.last_complete_month(dt.date(2026, 10, 31)) == pd.Timestamp("2026-10-01")


def test_bookings_last_12_months_against_prior_12_months() -> None:
    bookings = _bookings()
    before = bookings.copy()
    result = bk.compare_bookings_12m(bookings, AS_OF)
    assert result.last_12m == 300.0  # 100 + 50 + 150
    assert result.prior_12m == 240.0  # 200 + 40
    assert result.growth == pytest.approx(0.25)
    assert (result.first_month, result.last_month) == (
        pd.Timestamp("2025-11-01"),
        pd.Timestamp("2026-10-01"),
    )
    pd.testing.assert_frame_equal(bookings, before)


def test_growth_is_none_without_prior_bookings() -> None:
    only_recent = _bookings().iloc[[0]]
    assert bk.compare_bookings_12m(only_recent, AS_OF).growth is None


def test_growth_is_none_when_the_data_start_inside_the_prior_window() -> None:
    # prior window Nov 2024 - Oct 2025; data starting Dec 2024 leave out a month of it
    late = bk.compare_bookings_12m(_bookings(), AS_OF, data_start=dt.date(2024, 12, 5))
    assert (late.last_12m, late.prior_12m) == (300.0, 240.0)
    assert late.growth is None and late.data_start == pd.Timestamp("2024-12-01")
    # data from the window's first month (or earlier) are a full base
    full = bk.compare_bookings_12m(_bookings(), AS_OF, data_start=dt.date(2024, 11, 1))
    assert full.growth == pytest.approx(0.25) and full.data_start is None
    sentence = overview_summary.bookings_sentence("R", late)
    assert sentence.endswith(
        "; the data start in Dec 2024: no full prior 12 months to compare with."
    )


def test_bookings_table_shows_no_prior_year_before_the_data_start() -> None:
    monthly = bk.monthly_bookings(_bookings(), AS_OF)
    table = bk.bookings_by_month_table(monthly, data_start=dt.date(2024, 12, 1)).set_index("month")
    assert math.isnan(table.loc["2025-11-01", "prior_year_amount"])  # Nov 2024: not in the data
    assert math.isnan(table.loc["2025-11-01", "yoy_growth"])
    assert table.loc["2026-10-01", "prior_year_amount"] == 200.0  # Oct 2025: in the data
    assert table.loc["2026-03-01", "prior_year_amount"] == 0.0  # in the data, nothing booked


def test_monthly_bookings_fills_every_region_and_month() -> None:
    monthly = bk.monthly_bookings(_bookings(), AS_OF)
    assert len(monthly) == 48  # 24 months x 2 regions
    october = monthly[monthly["month"] == pd.Timestamp("2026-10-01")]
    assert dict(zip(october["region_id"], october["bookings_amount"], strict=True)) == {
        "r1": 100.0,
        "r2": 0.0,
    }
    assert pd.Timestamp("2026-11-01") not in set(monthly["month"])


def test_bookings_table_compares_each_month_with_a_year_earlier() -> None:
    table = bk.bookings_by_month_table(bk.monthly_bookings(_bookings(), AS_OF))
    assert len(table) == 12
    by_month = table.set_index("month")
    assert by_month.loc["2026-10-01", "prior_year_amount"] == 200.0
    assert by_month.loc["2026-10-01", "yoy_growth"] == pytest.approx(-0.5)  # 100 vs 200
    assert by_month.loc["2025-11-01", "yoy_growth"] == pytest.approx(0.25)  # 50 vs 40
    assert math.isnan(by_month.loc["2026-03-01", "yoy_growth"])  # 150 vs nothing


def test_pipeline_by_stage_counts_open_deals_only() -> None:
    by_stage = pipeline.pipeline_by_stage(_opportunities()).set_index("stage")
    assert list(by_stage.index) == ["Prospecting", "Qualification", "Proposal", "Negotiation"]
    assert list(by_stage["opportunities"]) == [1, 0, 2, 1]
    assert list(by_stage["amount"]) == [100.0, 0.0, 500.0, 400.0]
    assert list(by_stage["share_of_amount"]) == pytest.approx([0.1, 0.0, 0.5, 0.4])


def test_pipeline_by_stage_and_forecast_category() -> None:
    pivot = pipeline.pipeline_by_stage_and_category(_opportunities()).set_index("stage")
    assert list(pivot.columns) == ["Pipeline", "Best Case", "Commit", "Total"]
    assert pivot.loc["Proposal"].tolist() == [0.0, 200.0, 300.0, 500.0]
    assert pivot.loc["Negotiation"].tolist() == [0.0, 0.0, 400.0, 400.0]
    assert pivot["Total"].sum() == 1000.0


def test_pipeline_summary() -> None:
    summary = pipeline.summarize_pipeline(_opportunities())
    assert summary == PipelineSummary(
        open_amount=1000.0,
        open_count=4,
        top_stage="Proposal",
        top_stage_share=0.5,
        commit_amount=700.0,
    )


def test_rep_attainment_ytd_uses_complete_months_of_the_year() -> None:
    rep_ytd = attainment.attainment_ytd(_quota_attainment(), AS_OF).set_index("rep_id")
    assert rep_ytd.loc["rA", ["quota_ytd", "bookings_ytd"]].tolist() == [200.0, 210.0]
    assert rep_ytd.loc["rA", "attainment"] == pytest.approx(1.05)
    assert rep_ytd.loc["rB", "attainment"] == pytest.approx(0.5)
    assert math.isnan(rep_ytd.loc["rC", "attainment"])  # zero quota
    assert rep_ytd.loc["rD", "attainment"] == pytest.approx(1.0)


def test_attainment_summary_with_a_zero_quota_rep() -> None:
    rep_ytd = attainment.attainment_ytd(_quota_attainment(), AS_OF)
    summary = team_attainment.summarize_attainment(rep_ytd)
    assert summary.quota == 500.0  # 200 + 200 + 0 + 100
    assert summary.bookings == 440.0  # 210 + 100 + 30 + 100
    assert summary.attainment == pytest.approx(0.88)
    assert (summary.reps_with_quota, summary.reps_at_or_above_100) == (3, 2)  # rA and rD
    assert summary.share_at_or_above_100 == pytest.approx(2 / 3)
    assert summary.months == 2


def test_attainment_by_manager() -> None:
    rep_ytd = attainment.attainment_ytd(_quota_attainment(), AS_OF)
    teams = team_attainment.attainment_by_manager(rep_ytd, _reps()).set_index("manager_name")
    assert teams.loc["Mia", ["reps", "quota_ytd", "bookings_ytd"]].tolist() == [2, 400.0, 310.0]
    assert teams.loc["Mia", "attainment"] == pytest.approx(0.775)
    assert teams.loc["Max", "attainment"] == pytest.approx(1.3)  # 130 / 100
    assert teams.loc["Max", "reps_at_or_above_100"] == 1  # rD; rC has no quota
    assert teams.loc["Max", "region_name"] == "<b>Two</b>"


def test_formatted_table_escapes_untrusted_names_when_displayed() -> None:
    rep_ytd = attainment.attainment_ytd(_quota_attainment(), AS_OF)
    teams = team_attainment.attainment_by_manager(rep_ytd, _reps())
    shown = charts.format_table(teams, money=["quota_ytd"], pct=["attainment"])
    markup = shown._repr_html_()
    assert "&lt;b&gt;Two&lt;/b&gt;" in markup
    assert "<b>Two</b>" not in markup
    assert "$400" in markup and "78%" in markup  # Mia: quota 400, attainment 77.5%
    assert list(teams["quota_ytd"]) == [400.0, 100.0]  # the input is not changed


def test_attainment_by_region_rolls_up_teams() -> None:
    rep_ytd = attainment.attainment_ytd(_quota_attainment(), AS_OF)
    regions = team_attainment.attainment_by_region(
        team_attainment.attainment_by_manager(rep_ytd, _reps())
    )
    assert list(regions["region_id"]) == ["r1", "r2"]
    assert regions.loc[1, ["reps", "quota_ytd", "bookings_ytd"]].tolist() == [2, 100.0, 130.0]
    assert regions.loc[0, "attainment"] == pytest.approx(310 / 400)


def test_region_palette_is_keyed_by_region_id_and_order_free() -> None:
    palette = charts.region_palette(["uki", "apac", "dach"])
    assert palette == charts.region_palette(["dach", "uki", "apac"])
    assert palette["apac"] == charts.HOUSE_COLORS[0]
    assert palette["uki"] == charts.HOUSE_COLORS[2]


def test_money_and_percent_formats() -> None:
    assert narrative.format_money(950) == "$950"
    assert narrative.format_money(456_000) == "$456K"
    assert narrative.format_money(999_999) == "$1.0M"
    assert narrative.format_money(-2_300_000) == "-$2.3M"
    assert narrative.format_pct(0.123) == "12%"
    assert narrative.format_pct(None) == "n/a"
    assert narrative.format_change(0.25) == "+25%"
    assert narrative.format_change(-0.64) == "-64%"
    assert narrative.format_change(float("nan")) == "n/a"


BOOKINGS = BookingsComparison(
    last_12m=1_260_000,
    prior_12m=1_000_000,
    growth=0.26,
    first_month=pd.Timestamp("2025-11-01"),
    last_month=pd.Timestamp("2026-10-01"),
)
PIPELINE = PipelineSummary(
    open_amount=2_400_000,
    open_count=37,
    top_stage="Proposal",
    top_stage_share=0.42,
    commit_amount=650_000,
)
ATTAINMENT = AttainmentSummary(
    months=10,
    quota=5_000_000,
    bookings=4_860_000,
    attainment=0.972,
    reps_with_quota=10,
    reps_at_or_above_100=4,
    share_at_or_above_100=0.4,
)


def test_summary_sentences_from_hand_made_numbers() -> None:
    sentences = overview_summary.summary_sentences(
        "North America East", BOOKINGS, PIPELINE, ATTAINMENT
    )
    assert sentences == [
        "North America East booked $1.3M in the last 12 months (Nov 2025 to Oct 2026), "
        "up 26% on the prior 12 months ($1.0M).",
        "Open pipeline is $2.4M across 37 opportunities; 42% of it sits in Proposal, "
        "and $650K is in Commit.",
        "Attainment year to date is 97% of quota ($4.9M booked against $5.0M over 10 complete "
        "months); 4 of 10 reps (40%) are at or above 100%.",
    ]


def test_summary_sentences_for_decline_and_empty_pipeline() -> None:
    down = BookingsComparison(800.0, 1000.0, -0.2, BOOKINGS.first_month, BOOKINGS.last_month)
    empty = PipelineSummary(0.0, 0, None, 0.0, 0.0)
    sentences = overview_summary.summary_sentences("R", down, empty, ATTAINMENT)
    assert sentences[0].endswith("down 20% on the prior 12 months ($1K).")
    assert sentences[1] == "There is no open pipeline."


def test_summary_html_escapes_the_region_name() -> None:
    markup = overview_summary.summary_html(
        "<script>alert(1)</script>", BOOKINGS, PIPELINE, ATTAINMENT
    ).markup
    assert "<script>" not in markup
    assert markup.startswith('<ul class="summary"><li>&lt;script&gt;alert(1)&lt;/script&gt; booked')
    assert markup.count("<li>") == 3


def test_provenance_html_escapes_parameters() -> None:
    markup = narrative.provenance_html(
        snapshot_id="2026-11-23",
        snapshot_checksum="abc123",
        parameters={"region": "<img src=x>", "as_of": ""},
        package_version="0.1.0",
        commit=None,
        run_at=dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC),
        command="salesops run --region x",
    )
    assert "<img" not in markup and "&lt;img src=x&gt;" in markup
    assert "abc123" in markup and "commit unknown" in markup and "2026-11-23 12:00:00 UTC" in markup


def test_parameters_without_a_snapshot_name_what_is_allowed(tmp_path) -> None:
    with pytest.raises(ParameterError, match="no snapshots in"):
        overview.open_report_warehouse("all", "", snapshots_dir=tmp_path)
    (tmp_path / "2026-11-16").mkdir()
    (tmp_path / "2026-11-16" / "_manifest.json").write_text("{}")
    with pytest.raises(ParameterError, match=r"as_of '2026-01-05'.*available: 2026-11-16"):
        overview.open_report_warehouse("all", "2026-01-05", snapshots_dir=tmp_path)


def test_chart_titles_are_literal_text_even_with_dollar_signs() -> None:
    monthly = bk.monthly_bookings(_bookings(), AS_OF)
    title = r"Region $\notacommand{$ up"  # invalid mathtext: must be drawn as plain text
    chart = charts.PngFigure(
        overview_charts.monthly_bookings_chart(monthly, {"r1": "#000000"}, title)
    )
    assert chart._repr_png_().startswith(b"\x89PNG")
    assert repr(chart) == f"<chart: {title}>"


def _data(region_name: str) -> overview.OverviewData:
    reps = _reps().assign(region_id=["r1", "r1", "r2", "r2"])
    context = ReportContext(
        region="all",
        region_name=region_name,
        as_of=AS_OF,
        snapshot_id="2026-11-23",
        snapshot_checksum="c0ffee",
        region_ids=("r1", "r2"),
    )
    return overview.OverviewData(
        context=context,
        bookings_monthly=_bookings(),
        opportunities=_opportunities(),
        quota_attainment=_quota_attainment(),
        reps=reps,
    )


def test_headline_numbers_for_the_index() -> None:
    numbers = overview.headline_numbers(_data("Company"))
    assert numbers["bookings_12m"] == 300.0
    assert numbers["bookings_growth"] == 0.25
    assert numbers["open_pipeline"] == 1000.0
    assert numbers["attainment_ytd"] == 0.88
    assert numbers["share_reps_at_or_above_100"] == 0.6667
    assert (numbers["snapshot_id"], numbers["snapshot_checksum"]) == ("2026-11-23", "c0ffee")
    bundle = overview.headlines(_data("Company"))._repr_mimebundle_()
    assert bundle[HEADLINES_MIMETYPE] == numbers


def test_report_summary_escapes_a_hostile_region_name() -> None:
    markup = overview.executive_summary(_data("<script>alert(1)</script>"))._repr_html_()
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; booked $300 in the last 12 months" in markup
    assert "Open pipeline is $1K across 4 opportunities; 50% of it sits in Proposal" in markup
