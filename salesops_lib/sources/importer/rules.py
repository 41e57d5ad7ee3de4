"""Row rules shared by the build recipes: each returns issues for the rows it flags."""

from __future__ import annotations

import pandas as pd

from salesops_lib.sources.importer.mapping import Mapping
from salesops_lib.sources.importer.quarantine import make_issues


class RuleBook:
    """Collects rule hits for one source, then decides which rows are quarantined.

    Every hit is recorded; a row hit by any quarantine rule is quarantined, and then every
    issue of that row is marked ``quarantined`` (so per-rule counts are the counts of the
    quirk in the source, whatever else is wrong with the row).

    Args:
        frame: The source's parsed rows (with ``_row``).
        file: File name for issues.
        record_ids: Id per row (for example the opportunity id), or ``None``.
        columns: Logical field -> source column name, so issues name the file's column.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        file: str,
        record_ids: pd.Series | None,
        columns: dict[str, str] | None = None,
    ) -> None:
        self.frame = frame
        self.columns = dict(columns or {})
        self.file = file
        self.record_ids = record_ids
        self.owner: pd.Series | None = None
        self.region: pd.Series | None = None
        self._hits: list[tuple[pd.Series, str, str, str, pd.Series | None]] = []
        self.bad = pd.Series(False, index=frame.index)

    def hit(
        self,
        mask: pd.Series,
        rule: str,
        column: str,
        action: str = "quarantined",
        values: pd.Series | None = None,
    ) -> None:
        """Record that the rows in ``mask`` break ``rule`` (looking at field ``column``).

        ``values`` (the raw values to show) may hold only the rows in ``mask``, so a rule that
        rarely fires need not format every row.
        """
        column = self.columns.get(column, column)
        mask = mask.fillna(False).astype(bool)
        self._hits.append((mask, rule, column, action, values))
        if action == "quarantined":
            self.bad = self.bad | mask

    def issues(self) -> pd.DataFrame:
        """Return every recorded issue; rows that are quarantined say so in ``action``."""
        parts = []
        for mask, rule, column, action, values in self._hits:
            rows = self.frame[mask]
            if rows.empty:
                continue
            issues = make_issues(
                rows,
                rule,
                action,
                self.file,
                column,
                values=None if values is None else values.reindex(rows.index),
                record_ids=None if self.record_ids is None else self.record_ids[mask],
                owner_rep_ids=None if self.owner is None else self.owner[mask],
                region_ids=None if self.region is None else self.region[mask],
                amounts=self._amounts(mask),
            )
            issues.loc[self.bad[mask].to_numpy(), "action"] = "quarantined"
            parts.append(issues)
        if not parts:
            return make_issues(self.frame.iloc[:0], "none", "quarantined", self.file, "")
        return pd.concat(parts, ignore_index=True)

    def _amounts(self, mask: pd.Series) -> pd.Series | None:
        """The rows' source amounts (numbers only), when the source has an amount field."""
        if "amount" not in self.frame.columns:
            return None
        amounts = pd.to_numeric(self.frame.loc[mask, "amount"], errors="coerce")
        return amounts.where(amounts.notna(), None)

    def kept(self) -> pd.DataFrame:
        """Return the rows no quarantine rule hit (a new frame)."""
        return self.frame[~self.bad].copy()


def duplicated_ids(ids: pd.Series) -> pd.Series:
    """True for every occurrence of an id after its first."""
    return ids.notna() & ids.duplicated(keep="first")


def source_columns(mapping: Mapping, source: str) -> dict[str, str]:
    """Logical field -> column header of one source, for issue messages."""
    return {field: spec.column for field, spec in mapping.sources[source].columns.items()}
