"""``salesops forecast-eval`` on small hand-made CSVs: the score table and bad-input messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from salesops_lib.cli import app

RUNNER = CliRunner()
MARKUP_ID = "[red]acme[/red]"


def _csv(folder: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = folder / "history.csv"
    lines = ["account,month,revenue", *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _good_rows() -> list[tuple[str, str, str]]:
    months = pd.date_range("2022-01-31", periods=30, freq="ME")  # month ends are fine
    t = np.arange(30)
    seasonal = 100 + 3 * t + 20 * np.sin(2 * np.pi * t / 12) + (t % 3)
    short = 40 + (t[:14] % 4)
    rows = [("north", f"{m:%Y-%m-%d}", f"{v:.2f}") for m, v in zip(months, seasonal, strict=True)]
    rows += [(MARKUP_ID, f"{m:%Y-%m}", f"{v:.0f}") for m, v in zip(months, short, strict=False)]
    return rows


def _run(path: Path, *extra: str) -> object:
    args = ["forecast-eval", str(path), "--id-col", "account", "--date-col", "month"]
    return RUNNER.invoke(app, [*args, "--value-col", "revenue", "--horizon", "3", *extra])


def test_prints_scores_per_series_and_model_and_writes_csv(tmp_path: Path) -> None:
    output = tmp_path / "scores.csv"
    result = _run(_csv(tmp_path, _good_rows()), "--output", str(output))
    assert result.exit_code == 0, result.output
    assert MARKUP_ID in result.output  # shown literally, not read as markup
    for model in ("SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta", "Ensemble", "Naive"):
        assert model in result.output
    scores = pd.read_csv(output)
    assert set(scores["unique_id"]) == {"north", MARKUP_ID}
    assert scores.groupby("unique_id")["chosen"].sum().to_dict() == {"north": 1, MARKUP_ID: 1}
    north = scores[scores["unique_id"] == "north"]
    assert set(north["model"]) == {"SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta", "Ensemble"}
    assert (north["n_points"] == 9).all() and (north["n_origins"] == 3).all()
    assert "Only 14 months" in result.output


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda rows: [*rows[:4], ("north", "2022-13-01", "5"), *rows[5:]],
            "row 6, column 'month'",
        ),
        (
            lambda rows: [*rows[:2], ("north", "2022-03-31", "12 EUR"), *rows[3:]],
            "row 4, column 'revenue'",
        ),
        (lambda rows: [*rows[:2], ("north", "2022-03-31", ""), *rows[3:]], "'' is not a number"),
        (
            lambda rows: [*rows, ("north", "2022-01-01", "5")],
            "rows 2, 46 are all series 'north' in 2022-01",
        ),
        (lambda rows: rows[:5] + rows[6:], "series 'north' has no row for 2022-06-01"),
    ],
)
def test_bad_cells_name_file_row_and_column(tmp_path: Path, change: object, expected: str) -> None:
    path = _csv(tmp_path, change(_good_rows()))  # type: ignore[operator]
    result = _run(path)
    assert result.exit_code == 2
    assert expected in result.output
    assert str(path) in result.output
    assert "Traceback" not in result.output


def test_missing_column_is_named_with_the_file_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path, _good_rows())
    result = RUNNER.invoke(
        app,
        [
            *("forecast-eval", str(path), "--id-col", "customer", "--date-col", "month"),
            *("--value-col", "revenue", "--horizon", "3"),
        ],
    )
    assert result.exit_code == 2
    assert "no column 'customer' (--id-col)" in result.output
    assert "'account', 'month', 'revenue'" in result.output


def test_bad_horizon_and_missing_file(tmp_path: Path) -> None:
    result = _run(_csv(tmp_path, _good_rows()), "--horizon", "0")
    assert result.exit_code == 2 and "horizon=0" in result.output
    result = _run(tmp_path / "absent.csv")
    assert result.exit_code == 2 and "cannot read as CSV" in result.output
