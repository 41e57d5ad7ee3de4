"""The import's issue list: quarantined rows, imputed values and corrected values.

Every rule an import applies to a row is recorded as one issue: the rule, the file, the row
number (the line in the file, header = line 1), the column and the raw value, plus what was done
(``quarantined``: the row is not in the snapshot; ``imputed``: a blank was filled by a documented
rule; ``corrected``: an alias or typo fix was applied). Where known, the issue names the owner
rep and region, so the data-quality report can score them, and the row's amount as the source
gives it (``amount``; blank where the row has none), so every report can say how much money its
region's data left out. The list goes into the snapshot as ``_quarantine.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesops_lib.core.errors import WorkbenchError

QUARANTINE_FILE = "_quarantine.json"
ISSUE_COLUMNS: list[str] = [
    "rule",
    "action",
    "file",
    "row",
    "column",
    "value",
    "record_id",
    "owner_rep_id",
    "region_id",
    "amount",
]
ACTIONS: tuple[str, ...] = ("quarantined", "imputed", "corrected")


class ImportDataError(WorkbenchError):
    """An import stopped: a required column is missing, or too many rows fail a rule."""


def empty_issues() -> pd.DataFrame:
    """Return an issue frame with no rows and the issue columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in ISSUE_COLUMNS})


def make_issues(
    rows: pd.DataFrame,
    rule: str,
    action: str,
    file: str,
    column: str,
    values: pd.Series | None = None,
    record_ids: pd.Series | None = None,
    owner_rep_ids: pd.Series | None = None,
    region_ids: pd.Series | None = None,
    amounts: pd.Series | None = None,
) -> pd.DataFrame:
    """Build one issue per row of ``rows`` (which must carry the ``_row`` line number).

    Args:
        rows: The affected source rows, with a ``_row`` column.
        rule: Rule name such as ``missing_account``.
        action: ``quarantined``, ``imputed`` or ``corrected``.
        file: Source file name.
        column: Source column the rule looked at.
        values: Raw values (defaults to blank).
        record_ids: Ids of the affected records (for example the opportunity id).
        owner_rep_ids: Owner rep per row, where known.
        region_ids: Region per row, where known.
        amounts: The row's amount in the source (a number), where it has one.

    Returns:
        A new issue frame.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown issue action {action!r}")
    n = len(rows)

    def _col(series: pd.Series | None) -> np.ndarray:
        if series is None:
            return np.full(n, None, dtype=object)
        return series.astype(object).where(series.notna(), None).to_numpy()

    return pd.DataFrame(
        {
            "rule": [rule] * n,
            "action": [action] * n,
            "file": [file] * n,
            "row": rows["_row"].astype("int64").to_numpy(),
            "column": [column] * n,
            "value": _col(values),
            "record_id": _col(record_ids),
            "owner_rep_id": _col(owner_rep_ids),
            "region_id": _col(region_ids),
            "amount": _col(amounts),
        }
    )


def combine(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate issue frames in a deterministic order (file, row, rule, column)."""
    frames = [p for p in parts if len(p)]
    if not frames:
        return empty_issues()
    issues = pd.concat(frames, ignore_index=True)[ISSUE_COLUMNS]
    return issues.sort_values(["file", "row", "rule", "column"], kind="stable").reset_index(
        drop=True
    )


def check_failed_share(issues: pd.DataFrame, file: str, total_rows: int, max_share: float) -> None:
    """Stop the import when too large a share of a file's rows is quarantined.

    Args:
        issues: Issues so far.
        file: Source file name.
        total_rows: Data rows in the file.
        max_share: Largest allowed share of quarantined rows.

    Raises:
        ImportDataError: Naming the file, the most frequent rule and its column.
    """
    mine = issues[(issues["file"] == file) & (issues["action"] == "quarantined")]
    failed = mine["row"].nunique()
    if total_rows and failed / total_rows > max_share:
        top = mine.groupby(["rule", "column"]).size().sort_values(ascending=False)
        rule, column = top.index[0]
        raise ImportDataError(
            f"{file}: {failed} of {total_rows} rows ({failed / total_rows:.0%}) break a rule, "
            f"more than max_failed_share {max_share:.0%}; most often column {column!r}, "
            f"rule {rule} ({int(top.iloc[0])} rows)"
        )


def to_json_bytes(issues: pd.DataFrame) -> bytes:
    """Serialize issues as deterministic JSON (a list of records, sorted keys)."""
    records = []
    for row in issues[ISSUE_COLUMNS].itertuples(index=False):
        record = dict(zip(ISSUE_COLUMNS, row, strict=True))
        record["row"] = int(record["row"])
        amount = record["amount"]
        record["amount"] = None if amount is None or pd.isna(amount) else float(amount)
        records.append(record)
    return (json.dumps({"issues": records}, sort_keys=True, indent=1) + "\n").encode("utf-8")


def from_json_bytes(content: bytes) -> pd.DataFrame:
    """Read issues written by :func:`to_json_bytes`."""
    records = json.loads(content.decode("utf-8"))["issues"]
    if not records:
        return empty_issues()
    return pd.DataFrame.from_records(records).reindex(columns=ISSUE_COLUMNS)


def summarize(issues: pd.DataFrame) -> dict[str, int]:
    """Count issues per ``action:rule``, sorted by key."""
    counts = issues.groupby(["action", "rule"]).size()
    return {f"{a}:{r}": int(n) for (a, r), n in sorted(counts.items())}
