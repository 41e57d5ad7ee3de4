"""Roll-up of the forecast call: reps -> managers -> regions, beside the other forecasts.

Rules (one definition each):

* a rep's number for a week and category is the rep's own call, else their manager's call for
  them (``called_by`` says which);
* a manager's **team number** is their override (the manager's call for themself) when given,
  else the sum of their reps' numbers; the sum is always shown beside the override;
* a region's number is the sum of its managers' team numbers.
"""

from __future__ import annotations

import pandas as pd

from salesops_lib.core.frames import require_columns
from salesops_lib.data.submissions import CATEGORIES

CALL_COLUMNS = ["week", "submitted_by", "for_id", "category", "amount", "note"]
REP_COLUMNS = ["rep_id", "role", "region_id", "manager_id"]


def _wide(calls: pd.DataFrame, index: list[str]) -> pd.DataFrame:
    """Calls pivoted to one column per category (missing categories as NaN)."""
    wide = calls.pivot_table(index=index, columns="category", values="amount", aggfunc="sum")
    return wide.reindex(columns=list(CATEGORIES)).reset_index().rename_axis(columns=None)


def rep_numbers(calls: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Each rep's number per week: their own call, else their manager's call for them.

    Args:
        calls: The calls that count (``week``, ``submitted_by``, ``for_id``, ``category``,
            ``amount``, ``note``).
        reps: ``rep_id``, ``role``, ``region_id``, ``manager_id``.

    Returns:
        One row per week x rep with a call: ``week``, ``rep_id``, ``manager_id``,
        ``region_id``, ``called_by`` (``rep`` or ``manager``) and one column per category.
    """
    require_columns(calls, CALL_COLUMNS, "forecast calls")
    require_columns(reps, REP_COLUMNS, "reps")
    role = reps.set_index("rep_id")["role"]
    for_reps = calls[calls["for_id"].map(role).eq("rep")]
    own = for_reps[for_reps["submitted_by"] == for_reps["for_id"]]
    by_manager = for_reps[for_reps["submitted_by"] != for_reps["for_id"]]
    own_keys = own[["week", "for_id"]].drop_duplicates().assign(_own=True)
    by_manager = by_manager.merge(own_keys, on=["week", "for_id"], how="left")
    by_manager = by_manager[by_manager["_own"].isna()].drop(columns="_own")
    parts = [
        _wide(part, ["week", "for_id"]).assign(called_by=who)
        for part, who in ((own, "rep"), (by_manager, "manager"))
        if not part.empty
    ]
    columns = ["week", "rep_id", "manager_id", "region_id", "called_by", *CATEGORIES]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    numbers = pd.concat(parts, ignore_index=True).rename(columns={"for_id": "rep_id"})
    numbers = numbers.merge(reps[["rep_id", "manager_id", "region_id"]], on="rep_id", how="left")
    return numbers[columns].sort_values(["week", "rep_id"]).reset_index(drop=True)


def manager_rollup(calls: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Each manager's team per week: the sum of their reps' numbers beside the override.

    Returns:
        One row per week x manager (every manager of ``reps``, for every week of ``calls``):
        ``week``, ``manager_id``, ``region_id``, ``team_size``, ``reps_called``,
        ``reps_<category>`` (sum of the reps' numbers), ``override_<category>`` (the manager's
        own call, NaN when none), ``override_note`` and ``team_<category>`` (the override when
        given, else the reps' sum).
    """
    numbers = rep_numbers(calls, reps)
    managers = reps[reps["role"] == "manager"][["rep_id", "region_id"]]
    managers = managers.rename(columns={"rep_id": "manager_id"})
    team_size = reps[reps["role"] == "rep"].groupby("manager_id").size().rename("team_size")
    weeks = pd.DataFrame({"week": sorted(calls["week"].unique())})
    grid = weeks.merge(managers, how="cross").merge(team_size, on="manager_id", how="left")
    sums = numbers.groupby(["week", "manager_id"]).agg(
        reps_called=("rep_id", "nunique"), **{f"reps_{c}": (c, "sum") for c in CATEGORIES}
    )
    own = calls[
        (calls["submitted_by"] == calls["for_id"]) & calls["for_id"].isin(managers["manager_id"])
    ]
    override = _wide(own, ["week", "for_id"]).rename(
        columns={"for_id": "manager_id", **{c: f"override_{c}" for c in CATEGORIES}}
    )
    notes = (
        own.dropna(subset=["note"])
        .groupby(["week", "for_id"])["note"]
        .agg(lambda n: " / ".join(dict.fromkeys(n)))
        .rename("override_note")
        .reset_index()
        .rename(columns={"for_id": "manager_id"})
    )
    table = (
        grid.merge(sums.reset_index(), on=["week", "manager_id"], how="left")
        .merge(override, on=["week", "manager_id"], how="left")
        .merge(notes, on=["week", "manager_id"], how="left")
    )
    table["team_size"] = table["team_size"].fillna(0).astype(int)
    table["reps_called"] = table["reps_called"].fillna(0).astype(int)
    for c in CATEGORIES:
        table[f"reps_{c}"] = table[f"reps_{c}"].fillna(0.0)
        table[f"team_{c}"] = table[f"override_{c}"].fillna(table[f"reps_{c}"])
    return table.sort_values(["week", "region_id", "manager_id"]).reset_index(drop=True)


def region_rollup(managers: pd.DataFrame) -> pd.DataFrame:
    """Each region's number per week: the sum of its managers' team numbers.

    Args:
        managers: :func:`manager_rollup` rows.

    Returns:
        One row per week x region: ``week``, ``region_id``, ``team_<category>`` (the call),
        ``reps_<category>`` (the reps' numbers alone) and ``overrides`` (managers who overrode).
    """
    sums = {f"{kind}_{c}": (f"{kind}_{c}", "sum") for kind in ("team", "reps") for c in CATEGORIES}
    table = (
        managers.assign(_override=managers["override_commit"].notna())
        .groupby(["week", "region_id"], as_index=False)
        .agg(**sums, overrides=("_override", "sum"))
    )
    return table.sort_values(["week", "region_id"]).reset_index(drop=True)


def beside_forecasts(
    call: pd.DataFrame, pipeline: pd.DataFrame, statistical: pd.DataFrame
) -> pd.DataFrame:
    """The call beside the pipeline-based and statistical quarter forecasts, per region.

    Args:
        call: One row per region: ``region_id``, ``team_commit``, ``team_best_case``,
            ``team_most_likely``, ``reps_commit``.
        pipeline: ``region_id``, ``closed_so_far``, ``commit``, ``best_case``, ``expected``
            (the pipeline-based quarter forecast of the same quarter).
        statistical: ``region_id``, ``forecast``, ``low_80``, ``high_80`` (the statistical
            quarter forecast).

    Returns:
        A new frame, one row per region of ``call``, the three views side by side.
    """
    pipe = pipeline[["region_id", "closed_so_far", "commit", "best_case", "expected"]].rename(
        columns={
            "commit": "pipeline_commit",
            "best_case": "pipeline_best_case",
            "expected": "pipeline_expected",
        }
    )
    stat = statistical[["region_id", "forecast", "low_80", "high_80"]].rename(
        columns={"forecast": "statistical_forecast"}
    )
    table = call.merge(pipe, on="region_id", how="left").merge(stat, on="region_id", how="left")
    return table.sort_values("region_id").reset_index(drop=True)
