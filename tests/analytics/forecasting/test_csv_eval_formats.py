"""``forecast-eval`` on files as real exports write them: month formats and one series, no id.

Known answers are written by hand (the month each text means) or computed independently with
the standard library (Excel serials: days since 1899-12-30).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from salesops_lib.analytics.forecasting.csv_eval import month_starts, read_monthly_csv
from salesops_lib.cli import app
from salesops_lib.core.errors import ParameterError

RUNNER = CliRunner()
WHERE = Path("export.csv")


def _excel(day: dt.date) -> str:
    """Excel's serial day number of ``day`` (1900 date system), by plain date arithmetic."""
    return str((day - dt.date(1899, 12, 30)).days)


@pytest.mark.parametrize(
    ("texts", "months"),
    [
        (["1991-07", "1991-08", "1991-12"], ["1991-07", "1991-08", "1991-12"]),
        (["1991-7", "1991-10"], ["1991-07", "1991-10"]),
        (["1991 Jul", "1991 Aug", "1992 Jan"], ["1991-07", "1991-08", "1992-01"]),
        (["1991 July", "1991 august"], ["1991-07", "1991-08"]),
        (["Jul-1991", "Aug-1991", "Jan-1992"], ["1991-07", "1991-08", "1992-01"]),
        (["July 1991", "Sep 1991"], ["1991-07", "1991-09"]),
        (["07/1991", "12/1991", "1/1992"], ["1991-07", "1991-12", "1992-01"]),
        (["1991-07-31", "1991-08-01", " 1991-09-15 "], ["1991-07", "1991-08", "1991-09"]),
        (["1991-07-31 00:00:00", "1991-08-31T12:30:00"], ["1991-07", "1991-08"]),
        (["1991/07/31", "1991/08/31"], ["1991-07", "1991-08"]),
        (["07/31/1991", "08/15/1991"], ["1991-07", "1991-08"]),  # US: a day > 12 decides
        (["31/07/1991", "15/08/1991"], ["1991-07", "1991-08"]),  # day first
        (["31.07.1991", "01.08.1991"], ["1991-07", "1991-08"]),
        (["01/01/1991", "02/02/1991"], ["1991-01", "1991-02"]),  # either order: same months
        (
            [_excel(dt.date(1991, 7, 1)), _excel(dt.date(1991, 8, 31)), "33451.0"],
            ["1991-07", "1991-08", "1991-08"],
        ),
    ],
)
def test_each_month_format_gives_the_first_day_of_its_month(
    texts: list[str], months: list[str]
) -> None:
    got = month_starts(pd.Series(texts), WHERE, "month")
    want = pd.Series(pd.to_datetime([f"{m}-01" for m in months]))
    pd.testing.assert_series_equal(got, want, check_names=False, check_freq=False)


def test_excel_serial_33420_is_july_1991() -> None:
    assert _excel(dt.date(1991, 7, 1)) == "33420"  # the documented value, by hand
    assert month_starts(pd.Series(["33420"]), WHERE, "m").iloc[0] == pd.Timestamp("1991-07-01")


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["1991-07", "1991-13"], "row 3, column 'month': '1991-13' is not a month date"),
        (["1991", "1992"], "row 2, column 'month': '1991' is not a month date"),
        (["Jul-1991", "July '91"], "row 3, column 'month': \"July '91\" is not a month date"),
        (["1991-07", "1991-08", "Sep-1991"], "row 4, column 'month': 'Sep-1991' is not written"),
        (["03/04/1991", "05/06/1991"], "row 2, column 'month': '03/04/1991' is ambiguous"),
        (["01/01/1991", "05/06/1991"], "row 3, column 'month': '05/06/1991' is ambiguous"),
        (["12", "33420"], "row 2, column 'month': '12' is not a month date"),
    ],
)
def test_unreadable_mixed_or_ambiguous_dates_name_file_row_and_column(
    texts: list[str], expected: str
) -> None:
    with pytest.raises(ParameterError) as raised:
        month_starts(pd.Series(texts), WHERE, "month")
    assert str(raised.value).startswith(f"{WHERE}: ")
    assert expected in str(raised.value)


def test_mixed_formats_say_which_format_the_first_row_has() -> None:
    with pytest.raises(ParameterError, match=r"like row 2 \('1991-07', YYYY-MM or YYYY-MM-DD\)"):
        month_starts(pd.Series(["1991-07", "Aug-1991"]), WHERE, "month")


# --- one series without an id column, end to end through the CLI --------------------------------


def _history() -> tuple[list[pd.Timestamp], np.ndarray]:
    months = list(pd.date_range("1989-01-01", periods=36, freq="MS"))
    t = np.arange(36)
    return months, 200 + 4 * t + 25 * np.sin(2 * np.pi * t / 12) + (t % 5)


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _scores(path: Path, *id_args: str, date_col: str = "month") -> pd.DataFrame:
    output = path.with_suffix(".scores.csv")
    result = RUNNER.invoke(
        app,
        [
            *("forecast-eval", str(path), *id_args, "--date-col", date_col),
            *("--value-col", "sales", "--horizon", "3", "--output", str(output)),
        ],
    )
    assert result.exit_code == 0, result.output
    return pd.read_csv(output)


def test_one_series_without_id_column_scores_like_the_same_data_with_one(tmp_path: Path) -> None:
    months, values = _history()
    with_id = _write(
        tmp_path / "with_id.csv",
        "store,month,sales",
        [f"north,{m:%Y-%m-%d},{v:.2f}" for m, v in zip(months, values, strict=True)],
    )
    no_id = _write(  # the same data as a real export writes it: Jul-1991 months, no id
        tmp_path / "no_id.csv",
        "month,sales",
        [f"{m:%b-%Y},{v:.2f}" for m, v in zip(months, values, strict=True)],
    )
    serials = _write(  # and as Excel serial day numbers
        tmp_path / "serials.csv",
        "day,sales",
        [f"{_excel(m.date())},{v:.2f}" for m, v in zip(months, values, strict=True)],
    )
    reference = _scores(with_id, "--id-col", "store")
    assert set(reference["unique_id"]) == {"north"} and reference["chosen"].sum() == 1
    for path, date_col in ((no_id, "month"), (serials, "day")):
        scores = _scores(path, date_col=date_col)
        assert set(scores["unique_id"]) == {"sales"}  # the series is named after the values
        pd.testing.assert_frame_equal(
            scores.drop(columns="unique_id"), reference.drop(columns="unique_id")
        )


def test_without_id_column_a_repeated_month_is_still_a_duplicate(tmp_path: Path) -> None:
    path = _write(tmp_path / "one.csv", "month,sales", ["1991 Jul,1", "1991 Aug,2", "1991 Jul,3"])
    with pytest.raises(ParameterError, match="rows 2, 4 are all series 'sales' in 1991-07"):
        read_monthly_csv(path, None, "month", "sales")


def test_cli_names_file_row_and_column_of_an_unreadable_month(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.csv", "month,sales", ["Jul-1991,1", "Aug-1991,2", "Sept 91,3"])
    result = RUNNER.invoke(
        app,
        [
            *("forecast-eval", str(path), "--date-col", "month"),
            *("--value-col", "sales", "--horizon", "3"),
        ],
    )
    assert result.exit_code == 2
    assert str(path) in result.output and "row 4, column 'month'" in result.output
    assert "'Sept 91' is not a month date" in result.output
    assert "Traceback" not in result.output
