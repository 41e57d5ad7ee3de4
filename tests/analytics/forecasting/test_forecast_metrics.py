"""Forecast metrics on hand-worked examples."""

import math

import pytest

from salesops_lib.analytics.forecasting.metrics import (
    bias,
    brier_score,
    interval_coverage,
    mase,
    relative_bias,
    smape,
)
from salesops_lib.core.errors import ParameterError


def test_mase_scales_by_in_sample_seasonal_naive_error() -> None:
    # insample 10,20,12,22 with m=2: naive errors |12-10|=2, |22-20|=2 -> scale 2.
    # actual 14,24 vs forecast 13,27: errors 1,3 -> MAE 2 -> MASE 2/2 = 1.0.
    assert mase([14, 24], [13, 27], [10, 20, 12, 22], season_length=2) == pytest.approx(1.0)
    # m=1: naive errors 10,8,10 -> scale 28/3; MAE 2 -> 6/28.
    assert mase([14, 24], [13, 27], [10, 20, 12, 22], season_length=1) == pytest.approx(6 / 28)


def test_mase_with_a_flat_history() -> None:
    # scale 0: perfect forecast is undefined (nan), any error is infinite.
    assert math.isnan(mase([5], [5], [5, 5, 5], season_length=1))
    assert mase([5], [6], [5, 5, 5], season_length=1) == math.inf


def test_mase_needs_more_history_than_one_season() -> None:
    with pytest.raises(ParameterError, match="season_length=12"):
        mase([1], [1], [1] * 12, season_length=12)


def test_smape_defines_zero_over_zero_as_no_error() -> None:
    # terms: 200*|100-80|/180 = 22.22..., 0/0 -> 0, 200*|0-10|/10 = 200 -> mean 222.22/3.
    assert smape([100, 0, 0], [80, 0, 10]) == pytest.approx((4000 / 180 + 0 + 200) / 3)


def test_bias_mean_and_relative() -> None:
    # errors f-y: +10, -4, +6 -> mean 4; relative 12 / (100+50+50) = 0.06.
    assert bias([100, 50, 50], [110, 46, 56]) == pytest.approx(4.0)
    assert relative_bias([100, 50, 50], [110, 46, 56]) == pytest.approx(0.06)
    assert math.isnan(relative_bias([0, 0], [1, 2]))


def test_interval_coverage_counts_closed_intervals() -> None:
    # 5 in [4,6]; 7 on upper edge [5,7] counts; 3 outside [4,6]; 10 in [0,20] -> 3/4.
    assert interval_coverage([5, 7, 3, 10], [4, 5, 4, 0], [6, 7, 6, 20]) == pytest.approx(0.75)


def test_brier_score() -> None:
    # (0.9-1)^2=0.01, (0.2-0)^2=0.04, (0.5-1)^2=0.25 -> 0.30/3 = 0.10.
    assert brier_score([1, 0, 1], [0.9, 0.2, 0.5]) == pytest.approx(0.10)
    with pytest.raises(ParameterError, match="0 or 1"):
        brier_score([2], [0.5])


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ParameterError, match="pair up"):
        smape([1, 2], [1])
