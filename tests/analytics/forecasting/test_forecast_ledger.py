"""Forecast ledger: append-only storage, scoring against later actuals, accuracy by horizon."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from salesops_lib.analytics.forecasting.ledger import (
    LEDGER_COLUMNS,
    backfill_dates,
    load_ledger,
    record_forecasts,
)
from salesops_lib.analytics.forecasting.ledger_scoring import (
    accuracy_by_horizon,
    accuracy_over_time,
    score_forecasts,
)
from salesops_lib.analytics.forecasting.metrics import seasonal_naive_scale
from salesops_lib.analytics.forecasting.series import monthly_series_from_bookings
from salesops_lib.core.config import load_settings
from salesops_lib.core.errors import ContractError, ParameterError
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.sources.demo import generate_demo
from tests.conftest import ROOT, make_workspace

NAN = float("nan")
BATCH_NAME = re.compile(r"^as_of=\d{4}-\d{2}-\d{2}/[0-9a-f]{64}\.parquet$")


def forecast_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (unique_id, month, model, point, lo_80, hi_80, lo_95, hi_95, is_chosen)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            *["unique_id", "ds", "model", "point"],
            *["lo_80", "hi_80", "lo_95", "hi_95", "is_chosen"],
        ],
    )
    return frame.assign(ds=pd.to_datetime(frame["ds"]), is_chosen=frame["is_chosen"].astype(bool))


def scales(**by_series: float) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": list(by_series), "mase_scale": list(by_series.values())})


def actual_frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    return frame.assign(ds=pd.to_datetime(frame["ds"]))


# Made at 2026-03-09: March (incomplete on that day) is horizon 1.
# "total": AutoETS chosen (with intervals), scale 10. "emea": SeasonalNaive chosen, scale 4.
MARCH_FORECASTS = forecast_frame(
    [
        ("total", "2026-03-01", "SeasonalNaive", 100.0, NAN, NAN, NAN, NAN, False),
        ("total", "2026-04-01", "SeasonalNaive", 120.0, NAN, NAN, NAN, NAN, False),
        ("total", "2026-05-01", "SeasonalNaive", 90.0, NAN, NAN, NAN, NAN, False),
        ("total", "2026-03-01", "AutoETS", 110.0, 100.0, 120.0, 95.0, 125.0, True),
        ("total", "2026-04-01", "AutoETS", 115.0, 105.0, 125.0, 100.0, 130.0, True),
        ("total", "2026-05-01", "AutoETS", 95.0, 85.0, 105.0, 80.0, 110.0, True),
        ("emea", "2026-03-01", "SeasonalNaive", 40.0, NAN, NAN, NAN, NAN, True),
        ("emea", "2026-04-01", "SeasonalNaive", 46.0, NAN, NAN, NAN, NAN, True),
        ("emea", "2026-03-01", "AutoETS", 41.0, NAN, NAN, NAN, NAN, False),
        ("emea", "2026-04-01", "AutoETS", 47.0, NAN, NAN, NAN, NAN, False),
    ]
)
MARCH_SCALES = scales(total=10.0, emea=4.0)
# Scored on 2026-05-04: March and April are complete; May is not (its actual is ignored).
ACTUALS = actual_frame(
    [
        ("total", "2026-02-01", 90.0),
        ("total", "2026-03-01", 105.0),
        ("total", "2026-04-01", 130.0),
        ("total", "2026-05-01", 200.0),
        ("emea", "2026-03-01", 42.0),
        ("emea", "2026-04-01", 44.0),
    ]
)


def files_in(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


# -- recording ----------------------------------------------------------------------------------


def test_record_stores_columns_and_horizons(tmp_path: Path) -> None:
    path = record_forecasts(tmp_path, MARCH_FORECASTS, "2026-03-09", MARCH_SCALES)
    assert path is not None and BATCH_NAME.match(path.relative_to(tmp_path).as_posix())
    stored = pd.read_parquet(path)
    assert list(stored.columns) == LEDGER_COLUMNS
    assert (stored["as_of"] == pd.Timestamp("2026-03-09")).all()
    assert (stored["recorded_seq"] == 1).all()
    horizon = dict(zip(stored["ds"].dt.strftime("%Y-%m"), stored["horizon"], strict=False))
    assert horizon == {"2026-03": 1, "2026-04": 2, "2026-05": 3}
    scale = dict(zip(stored["unique_id"], stored["mase_scale"], strict=False))
    assert scale == {"total": 10.0, "emea": 4.0}
    ledger = load_ledger(tmp_path)
    assert len(ledger) == len(MARCH_FORECASTS)
    assert list(ledger.columns) == [*LEDGER_COLUMNS, "batch_id"]


def test_horizon_counts_from_the_last_complete_month(tmp_path: Path) -> None:
    rows = [
        ("x", month, "SeasonalNaive", 1.0, NAN, NAN, NAN, NAN, True)
        for month in ["2026-03-01", "2026-04-01", "2026-12-01", "2027-02-01"]
    ]
    path = record_forecasts(tmp_path / "mar-01", forecast_frame(rows), "2026-03-01", scales(x=1.0))
    assert sorted(pd.read_parquet(path)["horizon"]) == [1, 2, 10, 12]
    # made on Mar 31, March is complete: April is horizon 1
    path = record_forecasts(
        tmp_path / "mar-31", forecast_frame(rows[1:]), "2026-03-31", scales(x=1.0)
    )
    assert sorted(pd.read_parquet(path)["horizon"]) == [1, 9, 11]
    past = forecast_frame([("x", "2026-02-01", "SeasonalNaive", 1.0, NAN, NAN, NAN, NAN, True)])
    with pytest.raises(ParameterError, match="complete month before as_of 2026-03-01"):
        record_forecasts(tmp_path, past, "2026-03-01", scales(x=1.0))


def test_identical_record_is_a_no_op_and_bytes_are_deterministic(tmp_path: Path) -> None:
    first = record_forecasts(tmp_path / "a", MARCH_FORECASTS, "2026-03-09", MARCH_SCALES)
    before = files_in(tmp_path / "a")
    shuffled = MARCH_FORECASTS.sample(frac=1.0, random_state=3)
    assert record_forecasts(tmp_path / "a", shuffled, "2026-03-09", MARCH_SCALES) is None
    assert files_in(tmp_path / "a") == before
    second = record_forecasts(tmp_path / "b", MARCH_FORECASTS, "2026-03-09", MARCH_SCALES)
    assert first is not None and second is not None
    assert first.name == second.name and first.read_bytes() == second.read_bytes()


def test_changed_content_is_appended_and_newest_batch_wins_per_series(tmp_path: Path) -> None:
    record_forecasts(tmp_path, MARCH_FORECASTS, "2026-03-09", MARCH_SCALES)
    before = files_in(tmp_path)
    revised = forecast_frame(
        [
            ("total", "2026-03-01", "AutoETS", 111.0, NAN, NAN, NAN, NAN, True),
            ("total", "2026-04-01", "AutoETS", 116.0, NAN, NAN, NAN, NAN, True),
        ]
    )
    path = record_forecasts(tmp_path, revised, "2026-03-09", scales(total=10.0))
    after = files_in(tmp_path)
    assert path is not None and len(after) == 2
    assert {name: after[name] for name in before} == before  # nothing rewritten
    assert (pd.read_parquet(path)["recorded_seq"] == 2).all()

    ledger = load_ledger(tmp_path)
    total = ledger[ledger["unique_id"] == "total"]
    # the revised batch supplies every row of "total": its SeasonalNaive rows are superseded too
    assert list(total["model"]) == ["AutoETS", "AutoETS"]
    assert list(total["point"]) == [111.0, 116.0]
    assert len(ledger[ledger["unique_id"] == "emea"]) == 4
    assert len(load_ledger(tmp_path, include_superseded=True)) == len(MARCH_FORECASTS) + 2

    # re-recording the first batch is a no-op: a batch keeps the position of its first recording
    assert record_forecasts(tmp_path, MARCH_FORECASTS, "2026-03-09", MARCH_SCALES) is None
    assert list(load_ledger(tmp_path).query("unique_id == 'total'")["point"]) == [111.0, 116.0]


def test_untrusted_ids_never_reach_paths(tmp_path: Path) -> None:
    nasty = ["../../escape", "quote\"'; drop", "<script>alert(1)</script>", "/abs/path", "a\\b"]
    rows = [
        (series, "2026-04-01", "../model<b>", 5.0, NAN, NAN, NAN, NAN, True) for series in nasty
    ]
    ledger_dir = tmp_path / "ledger"
    record_forecasts(
        ledger_dir, forecast_frame(rows), "2026-03-09", scales(**dict.fromkeys(nasty, 1))
    )
    assert [p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*")] == ["ledger"] * 3
    written = [p.relative_to(ledger_dir).as_posix() for p in ledger_dir.rglob("*") if p.is_file()]
    assert len(written) == 1 and BATCH_NAME.match(written[0])
    assert sorted(load_ledger(ledger_dir)["unique_id"]) == sorted(nasty)
    for bad_date in ["2026-03-09/../../x", "../2026-03-09", "2026-02-30", "20260309"]:
        with pytest.raises(ParameterError, match="as_of"):
            record_forecasts(ledger_dir, forecast_frame(rows), bad_date, scales())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="hi_95"), "missing column.*hi_95"),
        (lambda f: f.assign(point=[np.nan, *f["point"][1:]]), "row 0.*point is nan"),
        (lambda f: f.assign(ds=f["ds"] + pd.Timedelta(days=1)), "first day of a month"),
        (lambda f: f.assign(ds=f["ds"].dt.strftime("%Y-%m-%d")), "ds must be a datetime"),
        (lambda f: f.assign(is_chosen=1.0), "is_chosen must be a bool"),
        (lambda f: pd.concat([f, f.iloc[[0]]]), "appears twice"),
        (lambda f: f.assign(is_chosen=True), "more than one model with is_chosen"),
        (lambda f: f.assign(unique_id=None), "unique_id must be non-empty text"),
    ],
)
def test_invalid_forecasts_are_rejected(tmp_path: Path, change, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        record_forecasts(tmp_path, change(MARCH_FORECASTS), "2026-03-09", MARCH_SCALES)
    assert not tmp_path.joinpath("as_of=2026-03-09").exists()


def test_invalid_scales_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="no mase_scale for unique_id 'total'"):
        record_forecasts(tmp_path, MARCH_FORECASTS, "2026-03-09", scales(emea=4.0))
    with pytest.raises(ParameterError, match=r"'emea': mase_scale .* finite number >= 0"):
        record_forecasts(tmp_path, MARCH_FORECASTS, "2026-03-09", scales(total=1.0, emea=-1.0))


# -- loading ------------------------------------------------------------------------------------


def test_ledger_folder_is_configured(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path)
    default = load_settings(workspace.config)  # unset: beside the workspace's snapshots
    assert default.forecast_ledger_dir == workspace.snapshots.parent / "forecast_ledger"
    project = load_settings(ROOT / "config" / "workbench.yml")
    assert project.forecast_ledger_dir == project.root / "data" / "forecast_ledger"
    config = yaml.safe_load(workspace.config.read_text())
    config["paths"]["forecast_ledger"] = str(tmp_path / "ledger")
    workspace.config.write_text(yaml.safe_dump(config))
    assert load_settings(workspace.config).forecast_ledger_dir == tmp_path / "ledger"


def test_missing_ledger_is_empty(tmp_path: Path) -> None:
    ledger = load_ledger(tmp_path / "nothing-here")
    assert ledger.empty and list(ledger.columns) == [*LEDGER_COLUMNS, "batch_id"]
    assert score_forecasts(ledger, ACTUALS, "2026-05-04").empty


def test_corrupt_foreign_and_tampered_files_are_named(tmp_path: Path) -> None:
    path = record_forecasts(tmp_path, MARCH_FORECASTS, "2026-03-09", MARCH_SCALES)
    original = path.read_bytes()

    path.write_bytes(b"not parquet at all")
    with pytest.raises(ContractError, match=re.escape(str(path)) + ".*not a readable parquet"):
        load_ledger(tmp_path)

    tampered = pd.read_parquet(io.BytesIO(original)).assign(point=1.0)
    tampered.to_parquet(path, index=False)
    with pytest.raises(ContractError, match=re.escape(str(path)) + ".*does not match its file"):
        load_ledger(tmp_path)

    path.write_bytes(original)
    foreign = path.parent / "notes.txt"
    foreign.write_text("hello")
    with pytest.raises(ContractError, match=re.escape(str(foreign)) + ".*not a batch file"):
        load_ledger(tmp_path)
    foreign.unlink()
    (tmp_path / "as_of=2026-03-09" / ".abc.tmp").write_bytes(b"partial write")  # ignored
    (tmp_path / "stray").mkdir()
    with pytest.raises(ContractError, match=re.escape(str(tmp_path / "stray")) + ".*as_of="):
        load_ledger(tmp_path)
    (tmp_path / "stray").rmdir()
    assert len(load_ledger(tmp_path)) == len(MARCH_FORECASTS)


# -- scoring ------------------------------------------------------------------------------------


def test_scoring_by_hand(tmp_path: Path) -> None:
    record_forecasts(tmp_path, MARCH_FORECASTS, "2026-03-09", MARCH_SCALES)
    scored = score_forecasts(load_ledger(tmp_path), ACTUALS, "2026-05-04")
    got = {
        (r.unique_id, r.ds.strftime("%Y-%m"), r.model): (
            r.horizon,
            r.y,
            r.error,
            r.abs_scaled_error,
            r.ape,
        )
        for r in scored.itertuples()
    }
    # May is the scoring date's month (incomplete): never scored even though an actual was given.
    assert got == pytest.approx(
        {
            ("total", "2026-03", "SeasonalNaive"): (1, 105.0, -5.0, 0.5, 200 * 5 / 205),
            ("total", "2026-04", "SeasonalNaive"): (2, 130.0, -10.0, 1.0, 200 * 10 / 250),
            ("total", "2026-03", "AutoETS"): (1, 105.0, 5.0, 0.5, 200 * 5 / 215),
            ("total", "2026-04", "AutoETS"): (2, 130.0, -15.0, 1.5, 200 * 15 / 245),
            ("emea", "2026-03", "SeasonalNaive"): (1, 42.0, -2.0, 0.5, 200 * 2 / 82),
            ("emea", "2026-04", "SeasonalNaive"): (2, 44.0, 2.0, 0.5, 200 * 2 / 90),
            ("emea", "2026-03", "AutoETS"): (1, 42.0, -1.0, 0.25, 200 * 1 / 83),
            ("emea", "2026-04", "AutoETS"): (2, 44.0, 3.0, 0.75, 200 * 3 / 91),
        }
    )
    ets = scored[(scored["unique_id"] == "total") & (scored["model"] == "AutoETS")]
    assert list(ets["in_80"]) == [True, False]  # 105 in [100, 120]; 130 outside [105, 125]
    assert list(ets["in_95"]) == [True, True]  # 130 on the closed upper bound 130
    assert scored.loc[scored["model"] == "SeasonalNaive", "in_80"].isna().all()


def test_accuracy_by_horizon_and_over_time_by_hand(tmp_path: Path) -> None:
    record_forecasts(tmp_path, MARCH_FORECASTS, "2026-03-09", MARCH_SCALES)
    scored = score_forecasts(load_ledger(tmp_path), ACTUALS, "2026-05-04")
    by_horizon = accuracy_by_horizon(scored)

    def row(table: pd.DataFrame, level: str, series: str | None, role: str, key: str, value):
        match = table[(table["level"] == level) & (table["role"] == role) & (table[key] == value)]
        match = match[match["unique_id"].isna()] if series is None else match
        match = match[match["unique_id"] == series] if series is not None else match
        assert len(match) == 1
        return match.iloc[0]

    # chosen for "total" is AutoETS, for "emea" SeasonalNaive
    h2 = row(by_horizon, "series", "total", "chosen", "horizon", 2)
    assert (h2.n_forecasts, h2.mase, h2.bias, h2.coverage_80, h2.coverage_95) == (1, 1.5, -15, 0, 1)
    overall_chosen_h2 = row(by_horizon, "overall", None, "chosen", "horizon", 2)
    assert overall_chosen_h2.n_forecasts == 2
    assert overall_chosen_h2.mase == pytest.approx((1.5 + 0.5) / 2)
    assert overall_chosen_h2.bias == pytest.approx((-15 + 2) / 2)
    assert overall_chosen_h2.smape == pytest.approx((200 * 15 / 245 + 200 * 2 / 90) / 2)
    assert overall_chosen_h2.coverage_80 == 0.0  # only total's AutoETS has an interval
    baseline_h2 = row(by_horizon, "overall", None, "SeasonalNaive", "horizon", 2)
    assert baseline_h2.mase == pytest.approx((1.0 + 0.5) / 2)
    assert math.isnan(baseline_h2.coverage_80)
    assert set(by_horizon["horizon"]) == {1, 2}

    over_time = accuracy_over_time(scored)
    chosen = row(over_time, "overall", None, "chosen", "as_of", pd.Timestamp("2026-03-09"))
    assert chosen.n_forecasts == 4
    assert chosen.mase == pytest.approx((0.5 + 1.5 + 0.5 + 0.5) / 4)


def test_scoring_excludes_same_day_later_and_incomplete_forecasts(tmp_path: Path) -> None:
    record_forecasts(tmp_path, MARCH_FORECASTS, "2026-03-09", MARCH_SCALES)
    april = forecast_frame(
        [
            ("total", "2026-04-01", "AutoETS", 128.0, NAN, NAN, NAN, NAN, True),
            ("total", "2026-05-01", "AutoETS", 150.0, NAN, NAN, NAN, NAN, True),
        ]
    )
    record_forecasts(tmp_path, april, "2026-04-06", scales(total=10.0))
    same_day = forecast_frame([("total", "2026-05-01", "AutoETS", 1.0, NAN, NAN, NAN, NAN, True)])
    record_forecasts(tmp_path, same_day, "2026-05-04", scales(total=10.0))
    later = same_day.assign(ds=pd.Timestamp("2026-06-01"))
    record_forecasts(tmp_path, later, "2026-06-01", scales(total=10.0))

    scored = score_forecasts(load_ledger(tmp_path), ACTUALS, "2026-05-04")
    assert set(scored["as_of"]) == {pd.Timestamp("2026-03-09"), pd.Timestamp("2026-04-06")}
    assert set(scored["ds"]) == {pd.Timestamp("2026-03-01"), pd.Timestamp("2026-04-01")}
    april_row = scored[scored["as_of"] == pd.Timestamp("2026-04-06")]
    assert list(april_row[["horizon", "error", "abs_scaled_error"]].iloc[0]) == [1, -2.0, 0.2]
    # a month with no actual is not scored
    no_emea_april = ACTUALS[~((ACTUALS["unique_id"] == "emea") & (ACTUALS["ds"] == "2026-04-01"))]
    fewer = score_forecasts(load_ledger(tmp_path), no_emea_april, "2026-05-04")
    assert len(fewer) == len(scored) - 2
    missing_emea_april = ACTUALS.assign(
        y=ACTUALS["y"].mask((ACTUALS["unique_id"] == "emea") & (ACTUALS["ds"] == "2026-04-01"))
    )
    assert len(score_forecasts(load_ledger(tmp_path), missing_emea_april, "2026-05-04")) == len(
        fewer
    )


# -- real demo snapshots --------------------------------------------------------------------------

EARLIEST, LATEST = "2026-08-31", "2026-11-23"


def monthly_totals(snapshot: Path, region: str | None = None) -> pd.Series:
    """Bookings per month straight from a snapshot's order_lines parquet (independent of marts)."""
    where = "" if region is None else "WHERE r.region_id = $region"
    sql = f"""
        SELECT date_trunc('month', o.order_date) AS month, sum(o.amount) AS bookings
        FROM read_parquet($lines) o LEFT JOIN read_parquet($reps) r USING (rep_id)
        {where} GROUP BY 1 ORDER BY 1
    """
    params = {
        "lines": str(snapshot / "order_lines.parquet"),
        "reps": str(snapshot / "reps.parquet"),
    }
    if region is not None:
        params["region"] = region
    frame = duckdb.execute(sql, params).df()
    return frame.set_index(pd.to_datetime(frame["month"]))["bookings"].astype(float)


def test_ledger_scores_an_earlier_demo_forecast_after_a_later_snapshot(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", scale="tiny", weeks=13)
    cfg = load_settings(workspace.config)
    folders = generate_demo(
        workspace.snapshots,
        cfg.demo.as_of,
        seed=cfg.demo.seed,
        scale="tiny",
        weeks=13,
        regions=cfg.regions,
    )
    assert [f.name for f in (folders[0], folders[-1])] == [EARLIEST, LATEST]
    columns = ["region_id", "product_family", "order_month", "bookings_amount"]

    def series_at(as_of: str) -> pd.DataFrame:
        with Warehouse.open(as_of, snapshots_dir=workspace.snapshots) as wh:
            return monthly_series_from_bookings(
                wh.table("fct_bookings_monthly", columns=columns), as_of
            )

    history = series_at(EARLIEST)
    assert history["ds"].max() == pd.Timestamp("2026-08-01")  # Aug 31: August is complete
    # forecast made at the earliest snapshot: the same month one year earlier (Sep..Dec 2026)
    rows, scale_rows = [], []
    for series_id, frame in history.groupby("unique_id"):
        by_month = frame.set_index("ds")["y"]
        if len(by_month) <= 12:
            continue
        scale_rows.append((series_id, seasonal_naive_scale(by_month.to_numpy(), 12)))
        for month in pd.date_range("2026-09-01", "2026-12-01", freq="MS"):
            point = float(by_month.get(month - pd.DateOffset(years=1), 0.0))
            rows.append((series_id, month, "SeasonalNaive", point, NAN, NAN, NAN, NAN, True))
    ledger_dir = tmp_path / "ledger"
    record_forecasts(
        ledger_dir,
        forecast_frame(rows),
        EARLIEST,
        pd.DataFrame(scale_rows, columns=["unique_id", "mase_scale"]),
    )

    scored = score_forecasts(load_ledger(ledger_dir), series_at(LATEST), LATEST)
    assert {m.strftime("%Y-%m") for m in scored["ds"]} == {"2026-09", "2026-10"}
    horizons = sorted(set(scored["horizon"]))
    assert horizons == [1, 2]  # Sep and Oct: August is complete on Aug 31

    region = cfg.region_ids()[0]
    for series_id, region_filter in (("total", None), (region, region)):
        then = monthly_totals(folders[0], region_filter)
        now = monthly_totals(folders[-1], region_filter)
        history_then = then[then.index < pd.Timestamp("2026-09-01")]
        expected_scale = seasonal_naive_scale(history_then.to_numpy(), 12)
        got = scored[scored["unique_id"] == series_id].set_index("ds")
        for month in pd.date_range("2026-09-01", "2026-10-01", freq="MS"):
            expected_point = then[month - pd.DateOffset(years=1)]
            assert got.loc[month, "point"] == pytest.approx(expected_point, rel=1e-9)
            assert got.loc[month, "y"] == pytest.approx(now[month], rel=1e-9)
            expected_error = expected_point - now[month]
            assert got.loc[month, "error"] == pytest.approx(expected_error, rel=1e-9, abs=1e-6)
            assert got.loc[month, "abs_scaled_error"] == pytest.approx(
                abs(expected_error) / expected_scale, rel=1e-9
            )
    summary = accuracy_by_horizon(scored)
    overall = summary[(summary["level"] == "overall") & (summary["role"] == "chosen")]
    assert list(overall["horizon"]) == horizons
    assert (overall["n_forecasts"] == len(scale_rows)).all()


def test_backfill_dates_step_back_from_the_latest_snapshot() -> None:
    weekly = [dt.date(2026, 11, 23) - dt.timedelta(weeks=k) for k in range(13)]
    assert backfill_dates(weekly) == [dt.date(2026, 8, 31), dt.date(2026, 9, 28),
                                      dt.date(2026, 10, 26)]  # fmt: skip
    assert backfill_dates(weekly, every_weeks=6, count=5) == [
        dt.date(2026, 8, 31), dt.date(2026, 10, 12)]  # fmt: skip
    assert backfill_dates(weekly[:2]) == []  # no snapshot four weeks back
    assert backfill_dates([]) == []
    with pytest.raises(ParameterError, match="every_weeks=0"):
        backfill_dates(weekly, every_weeks=0)
