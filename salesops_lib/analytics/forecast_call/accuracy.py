"""Accuracy of the forecast call once a quarter closes: error, bias, how early, and weights.

Definitions (one each; ``call`` is a submitter's number for the quarter in one week, ``actual``
what the quarter booked; a rep's actual is their own bookings, a manager's their team's):

* **error** of a week = (call - actual) / actual;
* **bias** = the mean error over the quarter's weeks (below 0: calls under what was booked);
* **mean absolute error** = the mean of |error|;
* **right from** = the first week whose error is within +-``tolerance`` (10%) and stays within
  it every later week of the quarter; **weeks ahead** = whole weeks from it to the quarter's end;
* **flag** = ``sandbagger`` when bias <= -``flag_bias`` (15%), ``over-caller`` when bias >=
  +``flag_bias``, else empty;
* **record-weighted commit** = commit / (1 + the submitter's bias over scored quarters): a
  sandbagger's commit is scaled up, an over-caller's down; without a record it stays as called.
"""

from __future__ import annotations

import pandas as pd

from salesops_lib.core.frames import require_columns

TOLERANCE = 0.10
FLAG_BIAS = 0.15
SANDBAGGER, OVER_CALLER = "sandbagger", "over-caller"
SCORE_COLUMNS = [
    "person_id",
    "quarter",
    "weeks_called",
    "actual",
    "last_call",
    "mean_abs_error",
    "bias",
    "right_from",
    "weeks_ahead",
    "flag",
]


def score_calls(
    history: pd.DataFrame,
    actuals: pd.DataFrame,
    quarter_ends: pd.Series | None = None,
    tolerance: float = TOLERANCE,
    flag_bias: float = FLAG_BIAS,
) -> pd.DataFrame:
    """Score each submitter's weekly calls of closed quarters against what was booked.

    Args:
        history: One row per person x week: ``person_id``, ``quarter``, ``week`` (date),
            ``call`` (the number scored, e.g. the commit).
        actuals: ``person_id``, ``quarter``, ``actual`` (booked in the quarter; closed
            quarters only: calls of other quarters are not scored).
        quarter_ends: Quarter label -> last day; needed for ``weeks_ahead``.
        tolerance: Error band for "right".
        flag_bias: Bias from which a submitter is flagged.

    Returns:
        One row per person x scored quarter (:data:`SCORE_COLUMNS`); a person whose actual is
        0 is not scored (their error is undefined).
    """
    require_columns(history, ["person_id", "quarter", "week", "call"], "call history")
    require_columns(actuals, ["person_id", "quarter", "actual"], "quarter actuals")
    joined = history.merge(actuals, on=["person_id", "quarter"], how="inner")
    joined = joined[joined["actual"] > 0].sort_values(["person_id", "quarter", "week"])
    rows = []
    for (person, quarter), weeks in joined.groupby(["person_id", "quarter"], sort=True):
        error = (weeks["call"] - weeks["actual"]) / weeks["actual"]
        outside = (error.abs() > tolerance).to_numpy()
        last_out = max((i for i, o in enumerate(outside) if o), default=-1)
        right_from = None if last_out == len(outside) - 1 else weeks["week"].iloc[last_out + 1]
        ahead = None
        if right_from is not None and quarter_ends is not None and quarter in quarter_ends:
            end = pd.Timestamp(quarter_ends[quarter])
            ahead = int((end - pd.Timestamp(right_from)).days // 7)
        bias = float(error.mean())
        flag = SANDBAGGER if bias <= -flag_bias else OVER_CALLER if bias >= flag_bias else ""
        rows.append(
            (
                person,
                quarter,
                len(weeks),
                float(weeks["actual"].iloc[0]),
                float(weeks["call"].iloc[-1]),
                float(error.abs().mean()),
                bias,
                right_from,
                ahead,
                flag,
            )
        )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def record(scores: pd.DataFrame) -> pd.DataFrame:
    """Each person's record over every scored quarter: mean bias and mean absolute error.

    Returns:
        ``person_id``, ``quarters``, ``record_bias``, ``record_abs_error``, ``flag`` (from the
        record's bias, with the thresholds of :func:`score_calls`).
    """
    table = scores.groupby("person_id", as_index=False).agg(
        quarters=("quarter", "nunique"),
        record_bias=("bias", "mean"),
        record_abs_error=("mean_abs_error", "mean"),
    )
    table["flag"] = table["record_bias"].map(
        lambda b: SANDBAGGER if b <= -FLAG_BIAS else OVER_CALLER if b >= FLAG_BIAS else ""
    )
    return table


def weighted_commits(commits: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Commits corrected by their submitter's record: commit / (1 + record bias).

    Args:
        commits: ``person_id``, ``commit``.
        records: :func:`record` rows.

    Returns:
        A new frame: ``person_id``, ``commit``, ``record_bias`` (NaN without a record),
        ``weighted_commit`` (the commit itself without a record, or when the bias is -100%).
    """
    table = commits[["person_id", "commit"]].merge(
        records[["person_id", "record_bias"]], on="person_id", how="left"
    )
    usable = table["record_bias"].notna() & (table["record_bias"] > -1)
    factor = (1 + table["record_bias"]).where(usable, 1.0)
    table["weighted_commit"] = table["commit"] / factor
    return table
