"""Messages true to the cause (issue 12 item 9): each "not available" sentence names the real
missing input, and a comparison with no base is not shown as numbers."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd

from salesops_lib.analytics.performance.teams import AttainmentSummary
from salesops_lib.reports import quality
from salesops_lib.reports.base import ReportContext
from salesops_lib.reports.overview import summary as overview_summary
from salesops_lib.reports.performance.diagnosis import _pvm, pvm_missing_sentence

NO_MONTHS = AttainmentSummary(0, 0.0, 0.0, None, 0, 0, None)


def test_no_quotas_is_named_as_the_cause_not_the_calendar() -> None:
    assert overview_summary.attainment_sentence(NO_MONTHS, has_quotas=False) == (
        "There are no quotas in this snapshot, so there is no attainment to report."
    )
    assert "No month of this year is complete" in overview_summary.attainment_sentence(NO_MONTHS)


def _bookings(base: float, current: float) -> pd.DataFrame:
    rows = [("p1", "F", "base", 2, base), ("p1", "F", "current", 3, current)]
    return pd.DataFrame(
        rows, columns=["product_id", "product_family", "period_window", "quantity", "amount"]
    )


def test_no_bookings_a_year_earlier_gives_no_price_volume_mix_numbers() -> None:
    data = SimpleNamespace(bookings_by_product=_bookings(0.0, 1_000_000.0))
    assert _pvm(data).empty  # not a $1.0M "mix effect"
    sentence = pvm_missing_sentence(SimpleNamespace(data=data))
    assert sentence.startswith("No bookings on the same days a year earlier")
    with_base = SimpleNamespace(bookings_by_product=_bookings(500.0, 800.0))
    assert not _pvm(with_base).empty


def _quality_data(empty_tables: frozenset[str]) -> quality.QualityData:
    context = ReportContext(
        "all", "All regions", dt.date(2026, 1, 31), "2026-01-31", "x", ("r1",), empty_tables
    )
    scorecard = pd.DataFrame(
        [
            {
                "grain": "company",
                "group_id": "all",
                "records": 6145,
                "problem_records": 6145,
                "score": 0.0,
                "quarantined_rows": 6145,
            }
        ]
    )
    for check in quality.CHECKS:
        scorecard[check] = 0
    empty = pd.DataFrame()
    return quality.QualityData(context, scorecard, empty, empty, empty, {})


def test_an_order_book_without_deals_gets_no_deal_score() -> None:
    data = _quality_data(frozenset({"opportunities", "opportunity_stage_history"}))
    text = quality.summary(data).markup
    assert "no deals" in text and "0%" not in text
    assert quality.headline_numbers(data)["quality_score"] is None
    with_deals = quality.summary(_quality_data(frozenset())).markup
    assert "0% of 6,145 deal records" in with_deals
