"""Deal risk flags on a hand-made snapshot, its history and stage stays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.performance import risk
from salesops_lib.core.errors import ParameterError

AS_OF = "2026-05-20"


def stage_changes() -> pd.DataFrame:
    """Completed Proposal stays 10, 20, ..., 100 days; a current 500-day stay (ignored);
    Qualification stays 5, 5, 5; no completed Negotiation stay."""
    rows = [("Proposal", float(d), False) for d in range(10, 101, 10)]
    rows += [("Proposal", 500.0, True), ("Qualification", 5.0, False)]
    rows += [("Qualification", 5.0, False), ("Qualification", 5.0, False)]
    rows += [("Negotiation", 700.0, True), ("Closed Won", None, True)]
    return pd.DataFrame(rows, columns=["stage", "days_in_stage", "is_current"])


def current() -> pd.DataFrame:
    """a: close date past; b: push_count 2; c: pushed twice across snapshots and cut 1000 ->
    800; d: 92 days in Proposal (> 91); e: 91 days (not >); f: closed; g: Negotiation, no
    threshold; h: pushed once, amount raised; i: 6 days in Qualification (> 5)."""
    rows = [
        ("a", "2026-05-01", 100.0, False, 0, "Proposal", 10),
        ("b", "2026-06-30", 200.0, False, 2, "Proposal", 10),
        ("c", "2026-07-01", 800.0, False, 0, "Proposal", 10),
        ("d", "2026-06-30", 300.0, False, 0, "Proposal", 92),
        ("e", "2026-06-30", 300.0, False, 0, "Proposal", 91),
        ("f", "2026-04-01", 300.0, True, 5, "Closed Lost", None),
        ("g", "2026-06-30", 300.0, False, 0, "Negotiation", 400),
        ("h", "2026-06-10", 600.0, False, 1, "Proposal", 10),
        ("i", "2026-06-30", 50.0, False, 0, "Qualification", 6),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "opportunity_id", "close_date", "amount", "is_closed", "push_count", "stage",
            "days_in_current_stage",
        ],
    )  # fmt: skip
    frame["close_date"] = pd.to_datetime(frame["close_date"])
    return frame.assign(region_id="east", owner_rep_id="r1")


def history() -> list[pd.DataFrame]:
    # c: 06-01 -> 06-15 -> (current) 07-01 = two increases; 1000 -> 1000 -> 800
    # h: 06-01 -> 05-25 -> (current) 06-10 = one increase; 500 -> 500 -> 600
    oldest = pd.DataFrame(
        {"opportunity_id": ["c", "h"], "close_date": ["2026-06-01"] * 2, "amount": [1000.0, 500.0]}
    )
    middle = pd.DataFrame(
        {
            "opportunity_id": ["c", "h"],
            "close_date": ["2026-06-15", "2026-05-25"],
            "amount": [1000.0, 500.0],
        }
    )
    return [oldest, middle]


def test_stage_thresholds_use_completed_stays() -> None:
    out = risk.stage_duration_thresholds(stage_changes()).set_index("stage")
    # 90th percentile of 10..100 by linear interpolation: position 0.9 x 9 = 8.1 -> 90 + 1 = 91
    assert out.loc["Proposal", "threshold_days"] == pytest.approx(91)
    assert out.loc["Proposal", "completed_stays"] == 10
    assert out.loc["Qualification", "threshold_days"] == 5
    assert np.isnan(out.loc["Negotiation", "threshold_days"])
    assert np.isnan(out.loc["Prospecting", "threshold_days"])


def test_flags_and_reasons() -> None:
    out = risk.deal_risk_flags(current(), stage_changes(), AS_OF, history()).set_index(
        "opportunity_id"
    )
    assert set(out.index) == {"a", "b", "c", "d", "i"}
    assert out.index[0] == "c"  # two flags come first
    assert bool(out.loc["a", "close_date_past"]) and out.loc["a", "flag_count"] == 1
    assert bool(out.loc["b", "pushed_repeatedly"]) and out.loc["b", "pushes"] == 2
    c = out.loc["c"]
    assert c["pushes"] == 2 and bool(c["pushed_repeatedly"])
    assert bool(c["amount_cut"]) and c["first_amount"] == 1000
    assert c["reasons"] == "close date pushed 2 times; amount cut from 1,000.00 to 800.00"
    assert bool(out.loc["d", "stale_in_stage"])
    assert out.loc["d", "reasons"] == (
        "92 days in Proposal, longer than 90% of completed stays (91 days)"
    )
    assert bool(out.loc["i", "stale_in_stage"])
    assert out.loc["a", "reasons"] == "close date 2026-05-01 is in the past"


def test_without_history_only_push_count_counts() -> None:
    out = risk.deal_risk_flags(current(), stage_changes(), AS_OF)
    # c has push_count 0 and no earlier snapshot: only a, b, d, i remain.
    assert set(out["opportunity_id"]) == {"a", "b", "d", "i"}
    assert not out["amount_cut"].any()


def test_min_pushes_parameter_and_no_mutation() -> None:
    opps = current()
    before = opps.copy()
    out = risk.deal_risk_flags(opps, stage_changes(), AS_OF, history(), min_pushes=1)
    pd.testing.assert_frame_equal(opps, before)
    # h (pushed once) is now flagged as well.
    assert "h" in set(out["opportunity_id"])


def test_missing_columns_named() -> None:
    with pytest.raises(ParameterError, match=r"deal_risk_flags.*push_count"):
        risk.deal_risk_flags(current().drop(columns="push_count"), stage_changes(), AS_OF)
    with pytest.raises(ParameterError, match=r"history\[1\].*amount"):
        risk.deal_risk_flags(
            current(), stage_changes(), AS_OF, [history()[0], history()[1].drop(columns="amount")]
        )
