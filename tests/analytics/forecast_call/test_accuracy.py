"""Accuracy of calls: error, bias, how early right, flags, record-weighted commits (by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops_lib.analytics.forecast_call.accuracy import (
    record,
    score_calls,
    weighted_commits,
)

WEEKS = pd.to_datetime(["2026-09-07", "2026-09-14", "2026-09-21", "2026-09-28"])


def _history(person: str, calls: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"person_id": person, "quarter": "2026-Q3", "week": WEEKS, "call": calls})


HISTORY = pd.concat(
    [
        _history("honest", [80.0, 115.0, 95.0, 102.0]),  # errors -20%, +15%, -5%, +2%
        _history("sandbag", [70.0, 70.0, 75.0, 75.0]),  # -30 -30 -25 -25: bias -27.5%
        _history("over", [130.0, 130.0, 125.0, 125.0]),  # +27.5% bias
        _history("zero", [10.0, 10.0, 10.0, 10.0]),  # booked nothing: not scored
    ]
)
ACTUALS = pd.DataFrame(
    {"person_id": ["honest", "sandbag", "over", "zero"], "quarter": "2026-Q3",
     "actual": [100.0, 100.0, 100.0, 0.0]}
)  # fmt: skip
ENDS = pd.Series({"2026-Q3": pd.Timestamp("2026-09-30")})


def test_error_bias_and_how_early_right() -> None:
    scores = score_calls(HISTORY, ACTUALS, ENDS).set_index("person_id")
    honest = scores.loc["honest"]
    assert honest["bias"] == pytest.approx((-0.20 + 0.15 - 0.05 + 0.02) / 4)
    assert honest["mean_abs_error"] == pytest.approx((0.20 + 0.15 + 0.05 + 0.02) / 4)
    assert honest["right_from"] == pd.Timestamp("2026-09-21")  # within 10% from then on
    assert honest["weeks_ahead"] == 1  # 9 days before the quarter's end: one whole week
    assert honest["last_call"] == 102.0 and honest["flag"] == ""
    assert scores.loc["sandbag", "bias"] == pytest.approx(-0.275)
    assert scores.loc["sandbag", "flag"] == "sandbagger"
    assert pd.isna(scores.loc["sandbag", "right_from"])
    assert scores.loc["over", "flag"] == "over-caller"
    assert "zero" not in scores.index


def test_right_requires_staying_within_the_band() -> None:
    late = _history("late", [100.0, 100.0, 130.0, 100.0])  # leaves the band in week 3
    scores = score_calls(late, ACTUALS.assign(person_id="late").head(1), ENDS)
    assert scores["right_from"].iloc[0] == pd.Timestamp("2026-09-28")


def test_weighted_commit_divides_by_one_plus_bias() -> None:
    records = record(score_calls(HISTORY, ACTUALS, ENDS))
    commits = pd.DataFrame({"person_id": ["sandbag", "over", "new"], "commit": [72.5, 127.5, 50]})
    table = weighted_commits(commits, records).set_index("person_id")
    assert table.loc["sandbag", "weighted_commit"] == pytest.approx(72.5 / 0.725)
    assert table.loc["over", "weighted_commit"] == pytest.approx(127.5 / 1.275)
    assert table.loc["new", "weighted_commit"] == 50  # no record: as called
    assert records.set_index("person_id").loc["sandbag", "flag"] == "sandbagger"
