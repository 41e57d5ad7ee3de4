"""Pipeline waterfall: what moved the open pipeline of a close-date window between two snapshots.

Pure functions over two frames with the ``fct_opportunities`` columns (opportunity_id,
region_id or another grouping column, amount, close_date, is_closed, is_won): ``earlier`` and
``later`` snapshots of the same opportunities.

**The rules** (all of them, in one place). The *window* is a close-date range
[window_start, window_end], both days included. A deal is *in the pipeline* of a snapshot when
it is open (not is_closed) in that snapshot and its close_date is in the window.

* ``start`` = pipeline of the earlier snapshot; ``end`` = pipeline of the later snapshot.
* A deal in both pipelines whose amount changed is ``increased`` or ``decreased`` by
  amount_after - amount_before. A close date that moved *within* the window does not change
  the window's pipeline, so a deal that both slipped within the window and changed amount is
  classed by its amount change only; if the amount did not change it has no row.
* A deal in the start pipeline but not the end one left it, for the first reason that applies:
  missing from the later snapshot -> ``removed``; closed won -> ``won``; closed lost -> ``lost``
  (closing wins over a moved close date); still open with a close date after the window ->
  ``pushed_out``; still open with a close date before the window -> ``rules.moved_earlier``
  (``"pushed_out"`` by default, or ``"pulled_out"``). Its contribution is -amount_before.
* A deal in the end pipeline but not the start one joined it: absent from the earlier snapshot
  -> ``new``; closed in the earlier snapshot -> ``reopened``; open in the earlier snapshot with a
  close date outside the window -> ``pulled_in``. Its contribution is +amount_after.
* With ``rules.split_amount_change`` a deal that left or was pulled in *and* changed amount gets
  two rows: its amount change (``increased``/``decreased``, after - before) and its move at the
  amount it had when it was in the window (pushed out / won / lost at -amount_after; pulled in
  at +amount_before). The default (False) books the whole move in one row.
* Deals in neither pipeline (e.g. created and closed between the snapshots) have no row.
* A deal belongs to the group (region) it has in the later snapshot, or in the earlier one if
  it is gone; the start pipeline of a group uses the same assignment, so every group reconciles.
* Money is summed in integer cents: start + sum(contributions) = end holds exactly per group.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

CATEGORIES: tuple[str, ...] = (
    "new",
    "pulled_in",
    "reopened",
    "increased",
    "decreased",
    "pushed_out",
    "pulled_out",
    "won",
    "lost",
    "removed",
)
"""Flow categories in bar order (between the ``start`` and ``end`` bars)."""

SNAPSHOT_COLUMNS = ("opportunity_id", "amount", "close_date", "is_closed", "is_won")

DateLike = dt.date | str | pd.Timestamp


@dataclass(frozen=True)
class WaterfallRules:
    """Configurable parts of the classification (see the module docstring).

    Attributes:
        moved_earlier: Category of an open deal whose close date moved from the window to
            before it: ``"pushed_out"`` or ``"pulled_out"``.
        split_amount_change: Book the amount change of a deal that left or was pulled in as a
            separate increased/decreased row.
    """

    moved_earlier: str = "pushed_out"
    split_amount_change: bool = False


def _side(
    frame: pd.DataFrame,
    name: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    group_by: str,
) -> pd.DataFrame:
    require_columns(frame, [*SNAPSHOT_COLUMNS, group_by], f"pipeline waterfall ({name})")
    duplicated = frame["opportunity_id"][frame["opportunity_id"].duplicated()]
    if len(duplicated):
        raise ParameterError(
            f"pipeline waterfall ({name}): opportunity_id must be unique; repeated: "
            f"{', '.join(map(str, duplicated.unique()[:5]))}"
        )
    close = pd.to_datetime(frame["close_date"])
    closed = frame["is_closed"].astype(bool)
    return pd.DataFrame(
        {
            "opportunity_id": frame["opportunity_id"],
            "group": frame[group_by],
            "cents": np.round(frame["amount"].astype(float) * 100).astype("int64"),
            "close": close,
            "closed": closed,
            "won": frame["is_won"].astype(bool) & closed,
            "in_pipeline": ~closed & close.between(start, end),
        }
    )


def _window(window_start: DateLike, window_end: DateLike) -> tuple[pd.Timestamp, pd.Timestamp]:
    start, end = pd.Timestamp(window_start).normalize(), pd.Timestamp(window_end).normalize()
    if end < start:
        raise ParameterError(
            f"pipeline waterfall: window_end {end.date()} is before {start.date()}"
        )
    return start, end


def _compare(
    earlier: pd.DataFrame,
    later: pd.DataFrame,
    window_start: DateLike,
    window_end: DateLike,
    group_by: str,
) -> pd.DataFrame:
    """One row per opportunity in either snapshot, both sides side by side."""
    start, end = _window(window_start, window_end)
    before = _side(earlier, "earlier", start, end, group_by)
    after = _side(later, "later", start, end, group_by)
    # Join on integer codes of the ids: an outer merge on text keys sorts them, which is
    # several times slower on a million deals.
    ids = pd.concat([before["opportunity_id"], after["opportunity_id"]], ignore_index=True)
    codes, uniques = pd.factorize(ids)
    before = before.drop(columns="opportunity_id").assign(_key=codes[: len(before)])
    after = after.drop(columns="opportunity_id").assign(_key=codes[len(before) :])
    both = before.merge(after, on="_key", how="outer", suffixes=("_b", "_a"))
    both.insert(0, "opportunity_id", uniques[both.pop("_key").to_numpy()])
    both["present_b"] = both["cents_b"].notna()
    both["present_a"] = both["cents_a"].notna()
    for col in ("in_pipeline_b", "in_pipeline_a", "closed_b", "closed_a", "won_a"):
        both[col] = both[col].eq(True)  # missing side (NaN) -> False
    both["cents_b"] = both["cents_b"].fillna(0).astype("int64")
    both["cents_a"] = both["cents_a"].fillna(0).astype("int64")
    both["group"] = both["group_a"].where(both["present_a"], both["group_b"])
    both["window_start"], both["window_end"] = start, end
    return both


def waterfall_deals(
    earlier: pd.DataFrame,
    later: pd.DataFrame,
    window_start: DateLike,
    window_end: DateLike,
    rules: WaterfallRules | None = None,
    group_by: str = "region_id",
) -> pd.DataFrame:
    """Deal-level rows behind every flow bar of the pipeline waterfall.

    Args:
        earlier: The earlier snapshot's ``fct_opportunities`` rows.
        later: The later snapshot's ``fct_opportunities`` rows.
        window_start: First close date of the window.
        window_end: Last close date of the window (included).
        rules: Classification options; defaults to :class:`WaterfallRules`.
        group_by: Grouping column present in both frames (region_id by default).

    Returns:
        One row per deal and flow category it contributes to (usually one per deal; two with
        ``split_amount_change``): opportunity_id, ``group_by``, category, amount_before,
        amount_after (NaN when the deal is missing from that snapshot), contribution (signed
        change of the window's pipeline; exact cents). Sorted by category order, group, id.

    Raises:
        ParameterError: If a column is missing, an opportunity_id repeats, the window is
            reversed or a rule value is unknown.
    """
    rules = rules or WaterfallRules()
    if rules.moved_earlier not in ("pushed_out", "pulled_out"):
        raise ParameterError(
            f"WaterfallRules.moved_earlier must be 'pushed_out' or 'pulled_out', "
            f"got {rules.moved_earlier!r}"
        )
    d = _compare(earlier, later, window_start, window_end, group_by)
    e, l_ = d["in_pipeline_b"], d["in_pipeline_a"]
    delta = d["cents_a"] - d["cents_b"]
    left, joined = e & ~l_, ~e & l_
    category = np.select(
        [
            e & l_ & (delta > 0),
            e & l_ & (delta < 0),
            left & ~d["present_a"],
            left & d["won_a"],
            left & d["closed_a"],
            left & (d["close_a"] > d["window_end"]),
            left,
            joined & ~d["present_b"],
            joined & d["closed_b"],
            joined,
        ],
        [
            "increased",
            "decreased",
            "removed",
            "won",
            "lost",
            "pushed_out",
            rules.moved_earlier,
            "new",
            "reopened",
            "pulled_in",
        ],
        default="",
    )
    contribution = np.select([e & l_, left, joined], [delta, -d["cents_b"], d["cents_a"]], 0)
    main = d.assign(category=category, contribution=contribution)
    rows = [main[main["category"] != ""]]
    if rules.split_amount_change:
        moved = main["category"].isin(["pushed_out", "pulled_out", "won", "lost", "pulled_in"])
        split = moved & (delta != 0)
        is_in = main["category"] == "pulled_in"
        main.loc[split, "contribution"] = np.where(
            is_in[split], d.loc[split, "cents_b"], -d.loc[split, "cents_a"]
        )
        extra = main[split].assign(
            category=np.where(delta[split] > 0, "increased", "decreased"),
            contribution=delta[split],
        )
        rows = [main[main["category"] != ""], extra]
    out = pd.concat(rows, ignore_index=True)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    table = pd.DataFrame(
        {
            "opportunity_id": out["opportunity_id"],
            group_by: out["group"],
            "category": out["category"],
            "amount_before": (out["cents_b"] / 100).where(out["present_b"]),
            "amount_after": (out["cents_a"] / 100).where(out["present_a"]),
            "contribution_cents": out["contribution"].astype("int64"),
            "_order": out["category"].map(order),
        }
    )
    table = table.sort_values(["_order", group_by, "opportunity_id"]).drop(columns="_order")
    table["contribution"] = table.pop("contribution_cents") / 100
    return table.reset_index(drop=True)


def _pipeline_cents(
    d: pd.DataFrame, side: str, group_by: str | None
) -> tuple[pd.Series, pd.Series]:
    rows = d[d[f"in_pipeline_{side}"]]
    key = rows["group"] if group_by else pd.Series("all", index=rows.index)
    return rows.groupby(key)[f"cents_{side}"].sum(), rows.groupby(key).size()


def pipeline_waterfall(
    earlier: pd.DataFrame,
    later: pd.DataFrame,
    window_start: DateLike,
    window_end: DateLike,
    rules: WaterfallRules | None = None,
    group_by: str = "region_id",
    by_group: bool = False,
) -> pd.DataFrame:
    """Summary bars of the pipeline waterfall.

    Args:
        earlier: The earlier snapshot's ``fct_opportunities`` rows.
        later: The later snapshot's ``fct_opportunities`` rows.
        window_start: First close date of the window.
        window_end: Last close date of the window (included).
        rules: Classification options; defaults to :class:`WaterfallRules`.
        group_by: Grouping column present in both frames.
        by_group: One set of bars per group instead of one for all rows.

    Returns:
        One row per bar (and group when ``by_group``): [``group_by``,] category (``start``,
        every flow of :data:`CATEGORIES` in order, even when empty, then ``end``), amount
        (exact cents; start and end are pipeline totals, flows are signed changes) and deals.

    Raises:
        ParameterError: As :func:`waterfall_deals`.
    """
    deals = waterfall_deals(earlier, later, window_start, window_end, rules, group_by)
    d = _compare(earlier, later, window_start, window_end, group_by)
    key = group_by if by_group else None
    groups = sorted(d["group"].dropna().unique()) if by_group else ["all"]
    start_cents, start_deals = _pipeline_cents(d, "b", key)
    end_cents, end_deals = _pipeline_cents(d, "a", key)
    flow_key = deals[group_by] if by_group else pd.Series("all", index=deals.index)
    cents = np.round(deals["contribution"] * 100).astype("int64")
    flows = cents.groupby([flow_key, deals["category"]]).sum()
    counts = deals.groupby([flow_key, deals["category"]])["opportunity_id"].nunique()
    rows = []
    for group in groups:
        bars = [("start", int(start_cents.get(group, 0)), int(start_deals.get(group, 0)))]
        for cat in CATEGORIES:
            bars.append((cat, int(flows.get((group, cat), 0)), int(counts.get((group, cat), 0))))
        bars.append(("end", int(end_cents.get(group, 0)), int(end_deals.get(group, 0))))
        for cat, amount, n in bars:
            row = {group_by: group} if by_group else {}
            rows.append({**row, "category": cat, "amount": amount / 100, "deals": n})
    return pd.DataFrame(rows)


def waterfall_reconciliation(
    earlier: pd.DataFrame,
    later: pd.DataFrame,
    window_start: DateLike,
    window_end: DateLike,
    rules: WaterfallRules | None = None,
    group_by: str = "region_id",
) -> pd.DataFrame:
    """Check start + sum(flows) = end per group, with start and end taken from the snapshots.

    Args:
        earlier: The earlier snapshot's ``fct_opportunities`` rows.
        later: The later snapshot's ``fct_opportunities`` rows.
        window_start: First close date of the window.
        window_end: Last close date of the window (included).
        rules: Classification options; defaults to :class:`WaterfallRules`.
        group_by: Grouping column present in both frames.

    Returns:
        One row per group in either snapshot: ``group_by``, start_pipeline, flows (sum of the
        deal-level contributions), end_pipeline, difference = start + flows - end (computed in
        cents) and reconciles (difference is exactly 0).

    Raises:
        ParameterError: As :func:`waterfall_deals`.
    """
    deals = waterfall_deals(earlier, later, window_start, window_end, rules, group_by)
    d = _compare(earlier, later, window_start, window_end, group_by)
    start_cents, _ = _pipeline_cents(d, "b", group_by)
    end_cents, _ = _pipeline_cents(d, "a", group_by)
    flow_cents = (
        np.round(deals["contribution"] * 100).astype("int64").groupby(deals[group_by]).sum()
    )
    rows = []
    for group in sorted(d["group"].dropna().unique()):
        s, f, e = (int(x.get(group, 0)) for x in (start_cents, flow_cents, end_cents))
        rows.append(
            {
                group_by: group,
                "start_pipeline": s / 100,
                "flows": f / 100,
                "end_pipeline": e / 100,
                "difference": (s + f - e) / 100,
                "reconciles": s + f == e,
            }
        )
    return pd.DataFrame(rows)
