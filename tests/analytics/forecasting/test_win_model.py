"""Win model on hand-made frames: windows, labels, features, baseline, Brier, fallbacks."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold

from salesops_lib.analytics.forecasting import win_probability as wm

AS_OF = dt.date(2026, 11, 23)
CUTOFF = dt.date(2026, 10, 12)


def opp(
    opportunity_id: str,
    stage: str = "Negotiation",
    close_date: str = "2026-12-01",
    amount: float = 999.0,
    push_count: int = 0,
    created_date: str = "2026-08-01",
    days_in_stage: float | None = 10.0,
    age_days: float = 50.0,
    region_id: str = "r1",
) -> dict[str, object]:
    """One fct_opportunities row (only the columns the win model reads)."""
    closed = stage.startswith("Closed")
    category = {"Closed Won": "Closed", "Closed Lost": "Omitted", "Negotiation": "Commit"}
    return {
        "opportunity_id": opportunity_id,
        "region_id": region_id,
        "created_date": pd.Timestamp(created_date),
        "stage": stage,
        "is_closed": closed,
        "is_won": stage == "Closed Won",
        "amount": amount,
        "close_date": pd.Timestamp(close_date),
        "forecast_category": category.get(stage, "Pipeline"),
        "push_count": push_count,
        "days_in_current_stage": None if closed else days_in_stage,
        "age_days": age_days,
    }


def frame(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=wm.OPPORTUNITY_COLUMNS)


def test_quarter_bounds_and_horizon() -> None:
    assert wm.quarter_bounds(AS_OF) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert wm.horizon_days(AS_OF) == 38  # Nov 24..30 (7) + December (31)
    assert wm.horizon_days(dt.date(2026, 1, 1)) == 89  # Jan 2..31 (30) + Feb (28) + Mar (31)
    assert wm.horizon_days(dt.date(2026, 3, 31)) == 0
    assert wm.quarter_bounds(dt.date(2024, 2, 29)) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))


def test_snapshot_examples_features_and_labels_by_hand() -> None:
    then = frame(
        opp("A", "Negotiation", "2026-10-30", amount=999.0, push_count=1),
        opp("B", "Proposal", "2026-12-15", days_in_stage=4.0, age_days=20.0),
        opp("C", "Closed Lost", "2026-10-01"),
        opp("D", "Prospecting", "2026-09-01"),
    )
    now = frame(
        opp("A", "Closed Won", "2026-11-02"),  # 21 days after the cut-off: inside 38
        opp("B", "Closed Won", "2026-11-20"),  # 39 days after: outside
        opp("C", "Closed Lost", "2026-10-01"),
    )
    examples = wm.snapshot_examples({CUTOFF: then}, now, horizon=38).set_index("opportunity_id")
    assert list(examples.index) == ["A", "B", "D"]  # C was closed on the cut-off date
    assert examples["won"].to_dict() == {"A": 1.0, "B": 0.0, "D": 0.0}  # D is gone: not won
    assert examples.loc["A", "days_to_close"] == 18.0
    assert examples.loc["A", "close_in_window"] == 1.0
    assert examples.loc["B", "days_to_close"] == 64.0
    assert examples.loc["B", "close_in_window"] == 0.0
    assert examples.loc["D", "days_to_close"] == -41.0  # overdue close dates stay negative
    assert examples.loc["A", "log_amount"] == pytest.approx(math.log(1000.0))
    assert examples.loc["A", "push_count"] == 1.0
    assert examples.loc["B", "days_in_stage"] == 4.0
    assert examples.loc["B", "age_days"] == 20.0
    assert examples.loc["A", "forecast_category"] == "Commit"


def test_days_to_close_is_clipped() -> None:
    deals = frame(opp("A", close_date="2028-01-01"), opp("B", close_date="2025-01-01"))
    features = wm.deal_features(deals, CUTOFF, 38)
    assert features["days_to_close"].tolist() == [365.0, -60.0]


def test_stage_rates_and_lookup() -> None:
    examples = pd.DataFrame(
        {
            "stage": ["Proposal", "Proposal", "Proposal", "Negotiation", "Negotiation"],
            "won": [1.0, 0.0, 0.0, 1.0, 1.0],
        }
    )
    rates = wm.stage_rates(examples)
    assert rates["stage"].tolist() == ["Proposal", "Negotiation"]  # funnel order
    assert rates["win_rate"].tolist() == pytest.approx([1 / 3, 1.0])
    looked_up = wm.stage_only_probability(rates, pd.Series(["Negotiation", "Prospecting"]), 0.5)
    assert looked_up.tolist() == [1.0, 0.5]  # unseen stage: the overall rate


def test_out_of_fold_stage_baseline_uses_only_the_other_folds() -> None:
    rng = np.random.default_rng(1)
    n = 60
    examples = pd.DataFrame(
        {
            "opportunity_id": [f"O{i // 2}" for i in range(n)],  # each deal twice
            "stage": rng.choice(["Proposal", "Negotiation"], n),
            "forecast_category": "Pipeline",
            "days_in_stage": rng.integers(0, 30, n).astype(float),
            "won": (rng.random(n) < 0.4).astype(float),
        }
    )
    oof = wm.out_of_fold(examples, ("stage", "days_in_stage"), n_splits=3)
    groups = examples["opportunity_id"]
    for train, test in GroupKFold(n_splits=3).split(examples, groups=groups):
        rates = examples.iloc[train].groupby("stage")["won"].mean()
        expected = examples["stage"].iloc[test].map(rates).to_numpy()
        assert oof["p_stage"].iloc[test].to_numpy() == pytest.approx(expected)
        assert not set(groups.iloc[train]) & set(groups.iloc[test])


def test_reliability_table_by_hand() -> None:
    table = wm.reliability_table(np.array([0, 1, 0, 1]), np.array([0.05, 0.05, 0.15, 0.95]))
    assert table["bin_lower"].tolist() == pytest.approx([0.0, 0.1, 0.9])
    assert table["mean_predicted"].tolist() == pytest.approx([0.05, 0.15, 0.95])
    assert table["observed_rate"].tolist() == pytest.approx([0.5, 0.0, 1.0])
    assert table["examples"].tolist() == [2, 1, 1]


def test_empirical_slips_by_hand() -> None:
    current = frame(
        opp("A", "Closed Won", push_count=0),
        opp("B", "Closed Lost", push_count=0),
        opp("C", "Closed Won", push_count=1),
        opp("D", "Closed Lost", push_count=1),
        opp("E", "Closed Lost", push_count=1),
        opp("F", "Closed Lost", push_count=1),
        opp("G", "Closed Won", push_count=4),  # counts as 3+
        opp("H", "Closed Lost", push_count=0),  # never reached Negotiation: left out
        opp("I", "Negotiation", push_count=0),  # still open: left out
    )
    reached = [c for c in "ABCDEFGI"]
    changes = pd.DataFrame({"opportunity_id": reached, "stage": "Negotiation"})
    table = wm.empirical_slips(current, changes)
    assert table["push_count"].tolist() == [0, 1, 2, 3]
    assert table["closed"].tolist() == [2, 4, 0, 1]
    assert table["won"].tolist() == [1, 1, 0, 1]
    assert table["win_rate"].iloc[:2].tolist() == [0.5, 0.25]
    assert table["ratio_to_previous"].iloc[1] == 0.5
    # Two usable push counts (0 and 1): the fitted ratio is exactly 0.25 / 0.5.
    assert wm.empirical_ratio_per_push(table) == pytest.approx(0.5)


def synthetic_inputs(n_snapshots: int, seed: int = 7) -> wm.WinModelInputs:
    """Deals in Negotiation whose chance to close won in the window is 0.6 x 0.5 ** pushes."""
    rng = np.random.default_rng(seed)
    history = {}
    outcome_rows = []
    for s in range(n_snapshots):
        cutoff = dt.date(2026, 10, 12) - dt.timedelta(days=7 * s)
        rows = []
        for i in range(150):
            pushes = int(rng.integers(0, 3))
            won = rng.random() < 0.6 * 0.5**pushes
            oid = f"S{s}-{i:03d}"
            rows.append(opp(oid, "Negotiation", "2026-12-01", push_count=pushes))
            close = pd.Timestamp(cutoff) + pd.Timedelta(days=10 if won else 60)
            outcome_rows.append(opp(oid, "Closed Won", str(close.date())))
        history[cutoff] = frame(*rows)
    today = [opp(f"T{p}", "Negotiation", "2026-12-01", push_count=p) for p in range(3)]
    current = frame(*outcome_rows, *today)
    changes = pd.DataFrame(
        {
            "opportunity_id": current["opportunity_id"],
            "sequence": 1,
            "stage": "Negotiation",
            "entered_date": pd.Timestamp("2026-08-01"),
        }
    )
    return wm.WinModelInputs(AS_OF, current, history, changes)


def test_model_beats_stage_only_when_pushes_matter() -> None:
    result = wm.fit_win_model(synthetic_inputs(3))
    assert result.method == wm.METHOD_SNAPSHOTS
    assert result.n_examples == 450
    assert result.n_deals == 450
    assert result.brier_model < result.brier_stage_only
    # Every example is in Negotiation: the stage-only baseline is the overall rate, whose
    # Brier score is about r(1 - r); the model's is about mean p(1 - p) of the true chances.
    assert result.odds_ratio_per_push < 1.0
    slip = result.slip_effect["mean_probability"].tolist()
    assert slip == sorted(slip, reverse=True)
    p = result.predictions.set_index("opportunity_id")["probability"]
    assert p["T0"] > p["T1"] > p["T2"]
    assert len(result.reliability) > 0
    assert result.reliability["examples"].sum() == 450


def test_same_inputs_give_the_same_numbers() -> None:
    first = wm.fit_win_model(synthetic_inputs(3))
    second = wm.fit_win_model(synthetic_inputs(3))
    assert first.brier_model == second.brier_model
    pd.testing.assert_frame_equal(first.predictions, second.predictions)


def stage_history_inputs(history_snapshots: int) -> wm.WinModelInputs:
    """Deals whose stage history alone tells the story (no earlier snapshots)."""
    rng = np.random.default_rng(3)
    rows, changes = [], []
    for i in range(400):
        created = pd.Timestamp("2026-01-05") + pd.Timedelta(days=int(rng.integers(0, 250)))
        negotiation = created + pd.Timedelta(days=int(rng.integers(5, 40)))
        won = rng.random() < 0.5
        closed = negotiation + pd.Timedelta(days=int(rng.integers(5, 40)))
        oid = f"H{i:03d}"
        if closed > pd.Timestamp(AS_OF):
            stage, close = "Negotiation", closed
        else:
            stage, close = ("Closed Won" if won else "Closed Lost"), closed
        rows.append(
            opp(oid, stage, str(close.date()), created_date=str(created.date()), push_count=0)
        )
        changes.append((oid, 1, "Proposal", created))
        if negotiation <= pd.Timestamp(AS_OF):
            changes.append((oid, 2, "Negotiation", negotiation))
        if stage.startswith("Closed"):
            changes.append((oid, 3, stage, closed))
    current = frame(*rows)
    stage_changes = pd.DataFrame(changes, columns=wm.STAGE_CHANGE_COLUMNS)
    history = {CUTOFF: current.head(0)} if history_snapshots else {}
    return wm.WinModelInputs(AS_OF, current, history, stage_changes)


def test_reconstructed_examples_by_hand() -> None:
    current = frame(
        opp("A", "Closed Won", "2026-10-20", created_date="2026-09-01"),
        opp("B", "Proposal", "2026-12-20", created_date="2026-10-10"),
    )
    changes = pd.DataFrame(
        [
            ("A", 1, "Proposal", pd.Timestamp("2026-09-01")),
            ("A", 2, "Negotiation", pd.Timestamp("2026-10-01")),
            ("A", 3, "Closed Won", pd.Timestamp("2026-10-20")),
            ("B", 1, "Proposal", pd.Timestamp("2026-10-10")),
        ],
        columns=wm.STAGE_CHANGE_COLUMNS,
    )
    examples = wm.reconstructed_examples(current, changes, AS_OF, horizon=38, weeks=2)
    # Cut-offs: 2026-10-16 (as_of - 38) and 2026-10-09; B exists only at the first.
    examples = examples.set_index(["cutoff", "opportunity_id"])
    first, second = pd.Timestamp("2026-10-16"), pd.Timestamp("2026-10-09")
    assert list(examples.index) == [(first, "A"), (first, "B"), (second, "A")]
    assert examples["stage"].tolist() == ["Negotiation", "Proposal", "Negotiation"]
    assert examples["days_in_stage"].tolist() == [15.0, 6.0, 8.0]
    assert examples["age_days"].tolist() == [45.0, 6.0, 38.0]
    assert examples["won"].tolist() == [1.0, 0.0, 1.0]  # A won 4 and 11 days later


def test_fallback_to_stage_history_with_one_snapshot() -> None:
    result = wm.fit_win_model(stage_history_inputs(history_snapshots=1))
    assert result.method == wm.METHOD_RECONSTRUCTED
    assert result.features == wm.RECONSTRUCTED_FEATURES
    assert "push count" in result.method_note.lower()
    assert "cannot be rebuilt" in result.method_note
    assert result.n_examples >= wm.MIN_EXAMPLES
    assert math.isnan(result.odds_ratio_per_push)
    assert result.slip_effect.empty
    assert result.predictions["probability"].between(0, 1).all()
    assert not math.isnan(result.brier_model)


def test_no_history_gives_blank_probabilities_and_a_note() -> None:
    current = frame(opp("A", "Negotiation"), opp("B", "Proposal"))
    changes = pd.DataFrame(columns=wm.STAGE_CHANGE_COLUMNS)
    result = wm.fit_win_model(wm.WinModelInputs(AS_OF, current, {}, changes))
    assert result.method == wm.METHOD_NONE
    assert "Not enough history" in result.method_note
    assert result.predictions["probability"].isna().all()
    assert len(result.predictions) == 2
    assert result.n_examples == 0


def test_thin_history_falls_back_to_stage_rates() -> None:
    current = frame(
        opp("A", "Closed Won", "2026-10-20", created_date="2026-10-01"),
        opp("B", "Closed Lost", "2026-10-25", created_date="2026-10-05"),
        opp("C", "Negotiation", "2026-12-10", created_date="2026-11-01"),
    )
    changes = pd.DataFrame(
        [
            ("A", 1, "Negotiation", pd.Timestamp("2026-10-01")),
            ("A", 2, "Closed Won", pd.Timestamp("2026-10-20")),
            ("B", 1, "Negotiation", pd.Timestamp("2026-10-05")),
            ("B", 2, "Closed Lost", pd.Timestamp("2026-10-25")),
            ("C", 1, "Negotiation", pd.Timestamp("2026-11-01")),
        ],
        columns=wm.STAGE_CHANGE_COLUMNS,
    )
    result = wm.fit_win_model(wm.WinModelInputs(AS_OF, current, {}, changes))
    # Cut-offs 10-16 (A won, B not), 10-09 (A won, B not), 10-02 (A won; B not created yet).
    assert result.method == wm.METHOD_STAGE_ONLY
    assert result.n_examples == 5
    assert result.predictions["opportunity_id"].tolist() == ["C"]
    assert result.predictions["probability"].tolist() == pytest.approx([3 / 5])
    assert "Not enough history for a model" in result.method_note
