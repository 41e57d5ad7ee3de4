"""Anomalous weeks: a planted dip is flagged, seasonal quarter-end spikes are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.performance import anomaly
from salesops_lib.core.errors import ParameterError

WEEKS = pd.date_range("2024-01-01", periods=104, freq="7D")  # Mondays, two years
NOISE = [0, 15, -10, 25, -20, 5, -5]
DIP_WEEK = 60


def series(region: str, dip: bool) -> pd.DataFrame:
    """1000 a week plus a small repeating wobble; the week holding each quarter's last day books
    3x (the quarter-end rush); east's week 60 drops to 200 (the planted dip)."""
    ends = anomaly.weeks_to_quarter_end(pd.Series(WEEKS))
    amount = [(1000 + NOISE[i % 7]) * (3 if ends[i] == 0 else 1) for i in range(len(WEEKS))]
    if dip:
        amount[DIP_WEEK] = 200
    return pd.DataFrame({"region_id": region, "order_week": WEEKS, "amount": amount})


def bookings() -> pd.DataFrame:
    return pd.concat([series("east", dip=True), series("west", dip=False)], ignore_index=True)


def weekly() -> pd.DataFrame:
    return anomaly.weekly_bookings(
        bookings(), first_day=WEEKS[0], last_day=WEEKS[-1] + pd.Timedelta(days=6)
    )


def test_weeks_to_quarter_end() -> None:
    weeks = pd.Series(pd.to_datetime(["2024-03-25", "2024-03-18", "2024-04-01", "2024-12-30"]))
    # A week belongs to the quarter of its Thursday:
    # Mar 25 -> Thu Mar 28, 3 days to Mar 31 -> 0; Mar 18 -> Thu Mar 21, 10 days -> 1;
    # Apr 1 -> Thu Apr 4, 87 days to Jun 30 -> 12; Dec 30 2024 -> Thu Jan 2 2025, so it is in
    # Q1 2025: 88 days to Mar 31 -> 12.
    assert list(anomaly.weeks_to_quarter_end(weeks)) == [0, 1, 12, 12]


def test_weekly_bookings_fills_missing_weeks_and_drops_partial_ones() -> None:
    frame = pd.DataFrame(
        {
            "region_id": ["east", "east", "east", "east", "west"],
            "order_date": pd.to_datetime(
                ["2024-01-05", "2024-01-09", "2024-01-10", "2024-01-23", "2024-01-24"]
            ),
            "amount": [7.0, 0.10, 0.20, 5.0, 1.0],
        }
    )
    frame["order_week"] = frame["order_date"] - pd.to_timedelta(
        frame["order_date"].dt.weekday, unit="D"
    )
    out = anomaly.weekly_bookings(frame)
    # Data run Fri Jan 5 .. Wed Jan 24: the weeks of Jan 1 and Jan 22 are partial and dropped;
    # Jan 8 and Jan 15 remain, for both regions (west has nothing in them -> 0).
    assert list(out["region_id"]) == ["east", "east", "west", "west"]
    assert list(out["order_week"]) == list(pd.to_datetime(["2024-01-08", "2024-01-15"] * 2))
    assert list(out["bookings_amount"]) == [0.30, 0.0, 0.0, 0.0]
    explicit = anomaly.weekly_bookings(frame, first_day="2024-01-01", last_day="2024-01-28")
    assert len(explicit) == 2 * 4
    with pytest.raises(ParameterError, match=r"weekly_bookings.*order_date"):
        anomaly.weekly_bookings(frame.drop(columns="order_date"))


def test_planted_dip_flagged_and_seasonal_spikes_not() -> None:
    out = anomaly.flag_anomalous_weeks(weekly())
    flagged = out[out["is_anomaly"]]
    assert list(zip(flagged["region_id"], flagged["order_week"], strict=True)) == [
        ("east", WEEKS[DIP_WEEK])
    ]
    assert flagged["direction"].tolist() == ["dip"]
    spikes = out[(out["region_id"] == "east") & (out["weeks_to_quarter_end"] == 0)]
    # Eight quarter ends, 2024-Q1 .. 2025-Q4 (the last week, Dec 22 2025, has Thursday Dec 25).
    assert len(spikes) == 8
    assert not spikes["is_anomaly"].any()
    assert (spikes["seasonal_factor"] > 2.5).all()


def test_spikes_would_be_flagged_without_the_seasonal_adjustment() -> None:
    # The test series is only meaningful if a plain robust z-score would flag the spikes.
    east = series("east", dip=True)["amount"].astype(float)
    mad = 1.4826 * np.median(np.abs(east - east.median()))
    naive = (east - east.median()) / mad
    ends = anomaly.weeks_to_quarter_end(pd.Series(WEEKS))
    assert (naive[ends == 0].abs() > 3.5).all()


def test_threshold_and_no_mutation() -> None:
    frame = weekly()
    before = frame.copy()
    out = anomaly.flag_anomalous_weeks(frame, threshold=1e9)
    pd.testing.assert_frame_equal(frame, before)
    assert not out["is_anomaly"].any()
    assert len(out) == len(frame) == 2 * 104


# --- pooled seasonality ----------------------------------------------------------------------

SHARE_WOBBLE = [1.0, 1.1, 0.9, 1.05, 0.95, 1.08, 0.92]
OTHERS = ["north", "south", "west", "central", "islands"]


def pooled_weekly() -> pd.DataFrame:
    """Six regions share one seasonal pattern (3x quarter-end weeks and a slow climb), each with
    a +-10% wobble of its own; east books a tenth of the other five together, except in week 60
    where it books a fifth of that (the planted dip). A region's dip also lowers the others'
    "rest of the company", by about 8% here: well inside their wobble."""
    ends = anomaly.weeks_to_quarter_end(pd.Series(WEEKS))
    season = [(3.0 if ends[i] == 0 else 1.0) * (1 + i / 100) for i in range(len(WEEKS))]
    rows = []
    for i, week in enumerate(WEEKS):
        others = {
            name: 2000 * season[i] * SHARE_WOBBLE[(i + k) % 7] for k, name in enumerate(OTHERS)
        }
        east = 0.1 * sum(others.values()) * SHARE_WOBBLE[(i + 5) % 7]
        if i == DIP_WEEK:
            east *= 0.2
        rows += [("east", week, east), *((name, week, v) for name, v in others.items())]
    return pd.DataFrame(rows, columns=["region_id", "order_week", "bookings_amount"])


def test_pooled_flags_the_dip_only_and_not_the_shared_quarter_end_rush() -> None:
    weekly = pooled_weekly()
    before = weekly.copy()
    scored = anomaly.flag_anomalous_weeks_pooled(weekly)
    pd.testing.assert_frame_equal(weekly, before)
    flagged = scored[scored["is_anomaly"]]
    assert list(zip(flagged["region_id"], flagged["order_week"], strict=True)) == [
        ("east", WEEKS[DIP_WEEK])
    ]
    assert flagged["direction"].tolist() == ["dip"]
    # quarter-end weeks triple bookings everywhere yet are not flagged
    ends = anomaly.weeks_to_quarter_end(scored["order_week"]) == 0
    assert not scored.loc[ends, "is_anomaly"].any()


def test_pooled_baseline_is_level_share_times_the_rest() -> None:
    scored = anomaly.flag_anomalous_weeks_pooled(pooled_weekly())
    east = scored[scored["region_id"] == "east"].reset_index(drop=True)
    weekly = pooled_weekly()
    others = weekly[weekly["region_id"] != "east"].groupby("order_week")["bookings_amount"].sum()
    assert np.allclose(east["rest_amount"], others.to_numpy())
    # the level share at the dip is the median of 26 centred shares: east is 0.1 x the rest
    # times a wobble whose median is 1.0
    assert east.loc[DIP_WEEK, "level_share"] == pytest.approx(0.1, rel=0.03)
    assert east.loc[DIP_WEEK, "baseline"] == pytest.approx(
        east.loc[DIP_WEEK, "level_share"] * others.iloc[DIP_WEEK]
    )
    # the dip books a fifth of its usual share (x its wobble, 0.92..1.1); damping c = 5% of
    # the median week lifts the ratio a little: ln((0.2 x 1.1 + 0.05) / (1 + 0.05)) < ln(0.3)
    assert east.loc[DIP_WEEK, "log_ratio"] < np.log(0.3)


def test_pooled_single_region_falls_back_to_own_seasonal_baseline() -> None:
    one = weekly()[lambda f: f["region_id"] == "east"]
    scored = anomaly.flag_anomalous_weeks_pooled(one, threshold=3.5)
    own = anomaly.flag_anomalous_weeks(one)
    assert scored["score"].tolist() == own["score"].tolist()
    assert scored.loc[scored["is_anomaly"], "order_week"].tolist() == [WEEKS[DIP_WEEK]]


def test_pooled_no_bookings_gives_nan_scores_and_bad_window_is_named() -> None:
    empty = pooled_weekly().assign(bookings_amount=0.0)
    scored = anomaly.flag_anomalous_weeks_pooled(empty)
    assert scored["score"].isna().all() and not scored["is_anomaly"].any()
    with pytest.raises(ParameterError, match="scale_window"):
        anomaly.flag_anomalous_weeks_pooled(pooled_weekly(), scale_window=0)
