"""The classic airline passengers series (shipped inside statsforecast, never downloaded).

Backtest: horizon 12, 4 origins a year apart. The chosen model must beat seasonal naive on
MASE; the figures are printed (``pytest -s``) for the report.
"""

from __future__ import annotations

import pandas as pd

from salesops_lib.analytics.forecasting.models import backtest


def test_chosen_model_beats_seasonal_naive_on_air_passengers() -> None:
    from statsforecast.utils import AirPassengersDF  # the series ships inside the package

    series = AirPassengersDF.assign(
        unique_id="air_passengers", ds=AirPassengersDF["ds"].dt.to_period("M").dt.start_time
    )
    assert len(series) == 144 and series["ds"].iloc[0] == pd.Timestamp("1949-01-01")
    result = backtest(series, horizon=12, n_origins=4)
    mase_of = result.scores.set_index("model")["mase"]
    chosen = result.chosen["model"].iloc[0]
    assert result.chosen["series_kind"].iloc[0] == "seasonal"
    assert set(result.scores["n_points"]) == {48}
    print(
        f"\nAirPassengers h=12, 4 origins: chosen {chosen} MASE {mase_of[chosen]:.3f}, "
        f"SeasonalNaive {mase_of['SeasonalNaive']:.3f}\n{result.scores.round(3).to_string()}"
    )
    assert mase_of[chosen] < mase_of["SeasonalNaive"]
    assert chosen != "SeasonalNaive"
