"""Backtest, model choice and forecasts on hand-made monthly series with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.forecasting.models import Backtest, backtest, check_series, forecast
from salesops_lib.core.errors import ParameterError

HORIZON = 6
PATTERN = np.array([10, 12, 15, 20, 18, 14, 11, 9, 13, 17, 25, 30], dtype=float)


def _frame(series_id: str, values: np.ndarray, start: str = "2022-01-01") -> pd.DataFrame:
    months = pd.date_range(start, periods=len(values), freq="MS")
    return pd.DataFrame({"unique_id": series_id, "ds": months, "y": values.astype(float)})


def _series() -> pd.DataFrame:
    t = np.arange(48)
    # Year one sits 5 higher, so the seasonal naive scale is not zero; later years repeat exactly.
    repeating = np.tile(PATTERN, 4) + np.where(t < 12, 5.0, 0.0)
    wiggle = np.array([1.5, -1.0, 0.5, -0.5, 1.0, -1.5])[t % 6]
    trending = 200 + 6.0 * t + 40 * np.sin(2 * np.pi * t / 12) + wiggle
    short = 50 + 2.0 * np.arange(20) + np.array([1.0, -1.0, 0.0, 2.0])[np.arange(20) % 4]
    intermittent = np.where(np.arange(36) % 2 == 0, 0.0, 1.0 + np.arange(36) % 5)
    return pd.concat(
        [
            _frame("repeating", repeating),
            _frame("trending", trending),
            _frame("short", short),
            _frame("intermittent", intermittent),
            _frame("zeros", np.zeros(30)),
            _frame("tiny", np.array([4.0, 5.0, 6.0, 7.0, 8.0])),
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def result() -> Backtest:
    return backtest(_series(), HORIZON)


@pytest.fixture(scope="module")
def forecasts(result: Backtest) -> pd.DataFrame:
    return forecast(_series(), HORIZON, result.chosen)


def _scores(result: Backtest, series_id: str) -> pd.Series:
    rows = result.scores[result.scores["unique_id"] == series_id]
    return rows.set_index("model")["mase"]


def _chosen(result: Backtest, series_id: str) -> pd.Series:
    return result.chosen.set_index("unique_id").loc[series_id]


def test_series_kinds(result: Backtest) -> None:
    kinds = result.chosen.set_index("unique_id")["series_kind"].to_dict()
    assert kinds == {
        "repeating": "seasonal",
        "trending": "seasonal",
        "short": "short",
        "intermittent": "intermittent",
        "zeros": "constant",
        "tiny": "untested",
    }


def test_exact_repeating_season_is_won_by_seasonal_naive(result: Backtest) -> None:
    mase_of = _scores(result, "repeating")
    assert mase_of["SeasonalNaive"] == 0.0
    assert _chosen(result, "repeating")["model"] == "SeasonalNaive"
    assert "no model beat seasonal naive" in _chosen(result, "repeating")["method_note"]


def test_trend_and_season_is_won_by_a_model_beating_seasonal_naive(result: Backtest) -> None:
    mase_of = _scores(result, "trending")
    assert min(mase_of["AutoETS"], mase_of["AutoARIMA"]) < 0.5 * mase_of["SeasonalNaive"]
    chosen = _chosen(result, "trending")["model"]
    assert chosen != "SeasonalNaive"
    assert mase_of[chosen] == mase_of.min()
    assert "seasonal naive" in _chosen(result, "trending")["method_note"]


def test_seasonal_naive_mase_matches_a_hand_computation(result: Backtest) -> None:
    # Seasonal naive repeats the last 12 training months, so its forecast is known exactly.
    values = _series().query("unique_id == 'trending'")["y"].to_numpy()
    cv = result.cv[(result.cv["unique_id"] == "trending") & (result.cv["model"] == "SeasonalNaive")]
    cutoffs = sorted(cv["cutoff"].unique())
    assert len(cutoffs) == 3
    per_origin = []
    for cutoff in cutoffs:
        n_train = len(pd.date_range("2022-01-01", cutoff, freq="MS"))
        train = values[:n_train]
        expected_point = train[-12:][:HORIZON]
        actual = values[n_train : n_train + HORIZON]
        got = cv[cv["cutoff"] == cutoff]
        np.testing.assert_allclose(got["point"].to_numpy(), expected_point)
        scale = np.mean(np.abs(train[12:] - train[:-12]))
        per_origin.append(np.mean(np.abs(actual - expected_point)) / scale)
    assert _scores(result, "trending")["SeasonalNaive"] == pytest.approx(np.mean(per_origin))


def test_first_origin_keeps_two_seasons_of_training(result: Backtest) -> None:
    cv = result.cv[result.cv["unique_id"] == "trending"]
    first_cutoff = cv["cutoff"].min()
    months_before = len(pd.date_range("2022-01-01", first_cutoff, freq="MS"))
    assert months_before >= 24
    assert cv["cutoff"].nunique() == 3


def test_ensemble_is_the_mean_of_its_members(result: Backtest) -> None:
    cv = result.cv[result.cv["unique_id"] == "trending"]
    wide = cv.pivot_table(index=["ds", "cutoff"], columns="model", values=["point", "lo_80"])
    members = ["AutoETS", "AutoARIMA", "AutoTheta"]
    for column in ("point", "lo_80"):
        expected = wide[column][members].sum(axis=1) / 3
        np.testing.assert_allclose(wide[column]["Ensemble"].to_numpy(), expected.to_numpy())


def test_coverage_is_the_share_of_actuals_inside_the_bounds(result: Backtest) -> None:
    for row in result.scores.dropna(subset=["coverage_80"]).itertuples():
        cv = result.cv[
            (result.cv["unique_id"] == row.unique_id) & (result.cv["model"] == row.model)
        ]
        inside = sum(
            lo <= y <= hi for y, lo, hi in zip(cv["y"], cv["lo_80"], cv["hi_80"], strict=True)
        )
        assert row.coverage_80 == inside / len(cv)
        assert row.n_points == len(cv)


def test_short_series_uses_non_seasonal_models_scaled_by_lag_one(result: Backtest) -> None:
    mase_of = _scores(result, "short")
    assert {"Naive", "RandomWalkWithDrift", "AutoETS"} <= set(mase_of.index)
    assert "AutoARIMA" not in mase_of.index
    assert "Only 20 months" in _chosen(result, "short")["method_note"]
    values = _series().query("unique_id == 'short'")["y"].to_numpy()
    cv = result.cv[(result.cv["unique_id"] == "short") & (result.cv["model"] == "Naive")]
    per_origin = []
    for cutoff, rows in cv.groupby("cutoff"):
        n_train = len(pd.date_range("2022-01-01", cutoff, freq="MS"))
        train = values[:n_train]
        scale = np.mean(np.abs(np.diff(train)))
        per_origin.append(np.mean(np.abs(rows["y"].to_numpy() - train[-1])) / scale)
    assert mase_of["Naive"] == pytest.approx(np.mean(per_origin))


def test_intermittent_series_uses_intermittent_methods_with_conformal_ranges(
    result: Backtest,
) -> None:
    mase_of = _scores(result, "intermittent")
    assert {"CrostonOptimized", "ADIDA", "IMAPA"} <= set(mase_of.index)
    note = _chosen(result, "intermittent")["method_note"]
    assert "50% of months are zero" in note and "conformal" in note
    croston = result.cv[
        (result.cv["unique_id"] == "intermittent") & (result.cv["model"] == "CrostonOptimized")
    ]
    assert croston["lo_80"].notna().all()


def test_all_zero_series_forecasts_zero(result: Backtest, forecasts: pd.DataFrame) -> None:
    assert "same value" in _chosen(result, "zeros")["method_note"]
    chosen = forecasts[(forecasts["unique_id"] == "zeros") & forecasts["is_chosen"]]
    assert len(chosen) == HORIZON
    assert (chosen[["point", "lo_80", "hi_80", "lo_95", "hi_95"]].to_numpy() == 0.0).all()


def test_too_short_series_is_forecast_but_not_backtested(
    result: Backtest, forecasts: pd.DataFrame
) -> None:
    assert "not backtested" in _chosen(result, "tiny")["method_note"]
    assert "tiny" not in set(result.scores["unique_id"])
    chosen = forecasts[(forecasts["unique_id"] == "tiny") & forecasts["is_chosen"]]
    assert chosen["model"].unique().tolist() == ["Naive"]
    assert (chosen["point"] == 8.0).all()


def test_forecast_frame_format(result: Backtest, forecasts: pd.DataFrame) -> None:
    assert list(forecasts.columns) == [
        "unique_id",
        "ds",
        "model",
        "point",
        "lo_80",
        "hi_80",
        "lo_95",
        "hi_95",
        "is_chosen",
    ]
    picks = forecasts[forecasts["is_chosen"]].groupby("unique_id")["model"].unique()
    assert {k: list(v) for k, v in picks.items()} == {
        row.unique_id: [row.model] for row in result.chosen.itertuples()
    }
    trending = forecasts[forecasts["unique_id"] == "trending"]
    assert set(trending["model"]) == {
        "SeasonalNaive",
        "AutoETS",
        "AutoARIMA",
        "AutoTheta",
        "Ensemble",
    }
    months = trending[trending["model"] == "SeasonalNaive"]["ds"]
    assert list(months) == list(pd.date_range("2026-01-01", periods=HORIZON, freq="MS"))
    repeating = forecasts.query("unique_id == 'repeating' and model == 'SeasonalNaive'")
    np.testing.assert_allclose(repeating["point"].to_numpy(), PATTERN[:HORIZON])


def test_backtest_is_deterministic_and_leaves_input_alone() -> None:
    series = _series().query("unique_id in ['trending', 'short']")
    before = series.copy()
    first, second = backtest(series, 3), backtest(series, 3)
    pd.testing.assert_frame_equal(series, before)
    pd.testing.assert_frame_equal(first.scores, second.scores)
    pd.testing.assert_frame_equal(first.chosen, second.chosen)


def test_only_untested_series_still_get_a_choice_and_a_forecast() -> None:
    tiny = _frame("tiny", np.array([3.0, 1.0]))
    result = backtest(tiny, 4)
    assert result.scores.empty and result.cv.empty
    assert result.chosen[["model", "series_kind"]].values.tolist() == [["Naive", "untested"]]
    points = forecast(tiny, 4, result.chosen).query("is_chosen")["point"]
    assert points.tolist() == [1.0] * 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="y"), "missing column(s) y"),
        (lambda f: pd.concat([f, f.iloc[[0]]]), "repeat a (unique_id, ds) pair"),
        (lambda f: f.drop(index=5), "has no row for 2022-06-01"),
        (lambda f: f.assign(y=f["y"].where(f.index != 3)), "not a finite number"),
        (lambda f: f.assign(ds=f["ds"] + pd.Timedelta(days=2)), "first day of a month"),
        (lambda f: f.iloc[0:0], "no rows"),
    ],
)
def test_bad_series_are_rejected_with_a_fix(change: object, message: str) -> None:
    frame = _frame("a", np.arange(30.0))
    with pytest.raises(ParameterError) as raised:
        check_series(change(frame))  # type: ignore[operator]
    assert message in str(raised.value)


def test_bad_arguments_are_rejected() -> None:
    frame = _frame("a", np.arange(30.0))
    with pytest.raises(ParameterError, match="horizon=0"):
        backtest(frame, 0)
    with pytest.raises(ParameterError, match="n_origins=0"):
        backtest(frame, 3, n_origins=0)
    with pytest.raises(ParameterError, match="have no row in chosen"):
        forecast(frame, 3, pd.DataFrame(columns=["unique_id", "model", "series_kind"]))
