"""Territory balance and a rebalancing proposal that moves as few accounts as possible.

Pure functions, frames in and frames out; inputs are never changed.

**Balance.** A territory is a rep's accounts. Its **potential** = sum of its accounts'
potential (last-12-month bookings plus open pipeline); its **workload** = accounts and open
deals. Each measure's **deviation from mean** = value / mean of the region's territories - 1
(0 when the region's mean is 0); a territory is **within tolerance** when |deviation of
potential| <= tolerance.

**Rebalancing** (:func:`rebalance_territories`), per region, as a 0-1 integer programme:
one binary y[a, s] per movable account a and other rep s of its region (a moves to s); each
account moves at most once; every territory's potential after the moves lies within
[(1 - t) x mean, (1 + t) x mean] (the mean is fixed: accounts stay in their region); key
accounts never move; minimise the number of moves.

**Solver: ``scipy.optimize.milp`` (HiGHS).** It ships with scipy (no new dependency), solves
these assignment models exactly, takes sparse constraint matrices, and has a time limit that
returns the best solution found. OR-Tools CP-SAT or PuLP would also do, but each is a new
dependency (and CP-SAT needs integer potentials) for no gain at this size.

**Scale** (:mod:`.territory_milp`). A region gives reps x accounts variables (6,250 accounts
x 25 reps = 150,000), too many to solve in seconds. Up to ``FULL_MODEL_LIMIT`` (5,000)
variables a region is solved over every movable account; above it the model is restricted:
only reps above the mean give, only reps below it receive, and each giving rep offers its
``CANDIDATES_PER_REP`` largest accounts that it can give without falling below the band on its
own (fewest moves shift the most potential) plus as many spread over the rest by size (fine
adjustment); it is solved to within a 2% optimality gap. If it is infeasible, the candidate
count doubles, up to the full model. A lower bound on the moves (``moves_lower_bound``: every
territory above the band must give at least the fewest of its own accounts that cover its
excess, every one below must receive enough to cover its deficit) is reported per region; a
restricted proposal that meets it is proven optimal over all accounts. (Adding the bound to
the model as a cut made HiGHS's proposals worse on the 50,000-account benchmark, so it is
not.) The call has one time budget (``time_limit``, 45 s by default) shared out over the
regions left; a region that runs out keeps HiGHS's best proposal or, if HiGHS has none yet, a
greedy one (the largest fitting account from the fullest territory to the emptiest,
repeated). Every proposal is checked afterwards against the bounds. Proposals cut short by the
time limit can differ between runs on a loaded machine (HiGHS is deterministic otherwise).

**Status** of a proposal: ``optimal`` (every region's moves proven minimal over all accounts,
by the full model or by meeting the lower bound), ``feasible`` (every region balanced, at
least one not proven minimal: its reason gives the moves and the bound), or
``infeasible`` (at least one region cannot be balanced; the reason names the region and,
where it can be told, why: a key-account book or a single account above the upper bound, too
few movable accounts). Regions that can be balanced still get their moves.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesops_lib.analytics.planning.territory_milp import (
    EPS,
    MIN_REGION_SECONDS,
    TIME_LIMIT_SECONDS,
    moves_lower_bound,
    solve_region,
)
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

ACCOUNT_COLUMNS = ["account_id", "rep_id", "region_id", "potential", "open_deals"]
"""Columns of the accounts frame (one row per account)."""


@dataclass(frozen=True)
class Rebalance:
    """A rebalancing proposal.

    Attributes:
        moves: One row per account moved: account_id, region_id, from_rep, to_rep, potential.
        before: :func:`territory_balance` of the current assignment.
        after: :func:`territory_balance` with the moves applied (== before if infeasible in
            that region).
        status: ``optimal``, ``feasible`` or ``infeasible`` (see the module docstring).
        reason: Why, in a sentence per region that is not optimal ("" when all are).
        regions: One row per region: region_id, reps, accounts, candidates, status, reason,
            moves, moves_lower_bound (no proposal can do with fewer moves; see
            :func:`.territory_milp.moves_lower_bound`), potential_moved, seconds.
    """

    moves: pd.DataFrame
    before: pd.DataFrame
    after: pd.DataFrame
    status: str
    reason: str
    regions: pd.DataFrame


def check_tolerance(tolerance: float) -> float:
    """Return the tolerance, or fail unless it is a number > 0.

    Raises:
        ParameterError: If ``tolerance`` <= 0 or not finite.
    """
    value = float(tolerance)
    if not np.isfinite(value) or value <= 0:
        raise ParameterError(
            f"tolerance must be > 0 (0.1 = within +-10% of the mean), got {tolerance}"
        )
    return value


def _check_accounts(accounts: pd.DataFrame, reps: pd.DataFrame | None) -> pd.DataFrame:
    require_columns(accounts, ACCOUNT_COLUMNS, "territories (accounts)")
    frame = accounts[ACCOUNT_COLUMNS]
    duplicated = frame["account_id"].duplicated()
    if duplicated.any():
        raise ParameterError(
            f"territories (accounts): account_id {frame.loc[duplicated, 'account_id'].iloc[0]!r}"
            " appears more than once; one row per account"
        )
    for column in ("potential", "open_deals"):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | (values < 0) | ~np.isfinite(values.fillna(0))
        if bad.any():
            row = frame.loc[bad].iloc[0]
            raise ParameterError(
                f"territories (accounts): account {row['account_id']!r} column {column}: "
                f"must be a number >= 0, got {row[column]!r}"
            )
    if reps is not None:
        require_columns(reps, ["rep_id", "region_id"], "territories (reps)")
        home = reps.drop_duplicates("rep_id").set_index("rep_id")["region_id"]
        region = frame["rep_id"].map(home)
        wrong = region.isna() | (region != frame["region_id"])
        if wrong.any():
            row = frame.loc[wrong].iloc[0]
            raise ParameterError(
                f"territories (accounts): account {row['account_id']!r} is owned by rep "
                f"{row['rep_id']!r}, who is not a rep of region {row['region_id']!r} in reps"
            )
    else:
        regions = frame.groupby("rep_id")["region_id"].nunique()
        if (regions > 1).any():
            rep = regions[regions > 1].index[0]
            raise ParameterError(
                f"territories (accounts): rep {rep!r} owns accounts in more than one region"
            )
    return frame.assign(
        potential=frame["potential"].astype(float), open_deals=frame["open_deals"].astype(float)
    )


def _deviation(values: pd.Series, means: pd.Series) -> pd.Series:
    return (values / means.where(means != 0) - 1).fillna(0.0)


def territory_balance(
    accounts: pd.DataFrame, *, tolerance: float, reps: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each territory's potential and workload against its region's mean.

    Args:
        accounts: account_id, rep_id, region_id, potential (L12M bookings + open pipeline),
            open_deals.
        tolerance: Allowed deviation from the region's mean potential (0.1 = +-10%).
        reps: rep_id, region_id of every territory; a rep without accounts is an empty
            territory (e.g. a new hire). None = the reps that own accounts.

    Returns:
        One row per rep: region_id, rep_id, accounts, potential, open_deals, mean_potential
        (the region's), deviation_from_mean (potential), accounts_deviation,
        open_deals_deviation, within_tolerance (|deviation_from_mean| <= tolerance) and
        workload_within_tolerance (both workload deviations within tolerance). Sorted by
        region_id, rep_id.

    Raises:
        ParameterError: On a bad tolerance, a missing column, a duplicate account, a negative
            potential or an owner outside the account's region.
    """
    tol = check_tolerance(tolerance)
    frame = _check_accounts(accounts, reps)
    per_rep = frame.groupby(["region_id", "rep_id"], as_index=False).agg(
        accounts=("account_id", "size"),
        potential=("potential", "sum"),
        open_deals=("open_deals", "sum"),
    )
    if reps is not None:
        everyone = reps[["region_id", "rep_id"]].drop_duplicates("rep_id")
        per_rep = everyone.merge(per_rep, on=["region_id", "rep_id"], how="left").fillna(
            {"accounts": 0, "potential": 0.0, "open_deals": 0.0}
        )
    per_rep["accounts"] = per_rep["accounts"].astype("int64")
    region = per_rep.groupby("region_id")
    per_rep["mean_potential"] = region["potential"].transform("mean")
    per_rep["deviation_from_mean"] = _deviation(per_rep["potential"], per_rep["mean_potential"])
    for column in ("accounts", "open_deals"):
        mean = region[column].transform("mean").astype(float)
        per_rep[f"{column}_deviation"] = _deviation(per_rep[column].astype(float), mean)
    per_rep["within_tolerance"] = per_rep["deviation_from_mean"].abs() <= tol + EPS
    per_rep["workload_within_tolerance"] = (per_rep["accounts_deviation"].abs() <= tol + EPS) & (
        per_rep["open_deals_deviation"].abs() <= tol + EPS
    )
    return per_rep.sort_values(["region_id", "rep_id"]).reset_index(drop=True)


def rebalance_territories(
    accounts: pd.DataFrame,
    *,
    tolerance: float,
    key_accounts: Collection[str] = (),
    reps: pd.DataFrame | None = None,
    time_limit: float = TIME_LIMIT_SECONDS,
) -> Rebalance:
    """Propose account moves so every territory is within tolerance of its region's mean.

    Args:
        accounts: account_id, rep_id, region_id, potential, open_deals.
        tolerance: Allowed deviation from the region's mean potential (> 0; 0.1 = +-10%).
        key_accounts: account_ids that stay with their owner.
        reps: rep_id, region_id of every territory (a rep without accounts is an empty
            territory that should be filled); None = the reps owning accounts.
        time_limit: Seconds for the whole call, shared out over the regions (see
            :data:`TIME_LIMIT_SECONDS`).

    Returns:
        A :class:`Rebalance` (moves, before, after, status, reason, regions).

    Raises:
        ParameterError: On a bad tolerance or time limit, a bad accounts frame, or a key
            account that is not in ``accounts``.
    """
    tol = check_tolerance(tolerance)
    if not np.isfinite(time_limit) or time_limit <= 0:
        raise ParameterError(f"rebalance_territories: time_limit must be > 0, got {time_limit}")
    before = territory_balance(accounts, tolerance=tol, reps=reps)
    frame = _check_accounts(accounts, reps).reset_index(drop=True)
    keys = set(map(str, key_accounts))
    unknown = sorted(keys - set(frame["account_id"].astype(str)))
    if unknown:
        raise ParameterError(
            f"rebalance_territories: key account(s) not in accounts: {', '.join(unknown[:5])}"
        )
    frame["_key"] = frame["account_id"].astype(str).isin(keys)
    owner_after = frame["rep_id"].copy()
    summaries, move_rows = [], []
    budget_end = time.perf_counter() + time_limit
    groups = list(before.groupby("region_id", sort=True))
    for number, (region_id, territory) in enumerate(groups):
        started = time.perf_counter()
        share = max((budget_end - started) / (len(groups) - number), MIN_REGION_SECONDS)
        rep_ids = territory["rep_id"].to_numpy()
        position = {rep: i for i, rep in enumerate(rep_ids)}
        rows = frame.loc[frame["region_id"] == region_id]
        owner = rows["rep_id"].map(position).to_numpy(dtype="int64")
        found = solve_region(
            owner,
            rows["potential"].to_numpy(dtype=float),
            ~rows["_key"].to_numpy(),
            rep_ids,
            tol,
            share,
            rows["account_id"].to_numpy(),
        )
        index = rows.index.to_numpy()
        moved_potential = 0.0
        for pos, to in found.moves:
            row = rows.iloc[pos]
            owner_after.loc[index[pos]] = rep_ids[to]
            moved_potential += float(row["potential"])
            move_rows.append(
                (row["account_id"], region_id, row["rep_id"], rep_ids[to], float(row["potential"]))
            )
        reason = found.reason
        summaries.append(
            (
                region_id,
                len(rep_ids),
                len(rows),
                found.candidates,
                found.status,
                reason,
                len(found.moves),
                moves_lower_bound(
                    owner,
                    rows["potential"].to_numpy(dtype=float),
                    ~rows["_key"].to_numpy(),
                    len(rep_ids),
                    tol,
                ),
                moved_potential,
                round(time.perf_counter() - started, 3),
            )
        )
    regions = pd.DataFrame(
        summaries,
        columns=[
            "region_id",
            "reps",
            "accounts",
            "candidates",
            "status",
            "reason",
            "moves",
            "moves_lower_bound",
            "potential_moved",
            "seconds",
        ],
    )
    moves = pd.DataFrame(
        move_rows, columns=["account_id", "region_id", "from_rep", "to_rep", "potential"]
    ).sort_values(["region_id", "from_rep", "account_id"], ignore_index=True)
    after = territory_balance(
        frame.assign(rep_id=owner_after)[ACCOUNT_COLUMNS], tolerance=tol, reps=reps
    )
    solved = regions["status"] != "infeasible"
    in_band = after.loc[after["region_id"].isin(regions.loc[solved, "region_id"])]
    if not in_band["within_tolerance"].all():
        bad = in_band.loc[~in_band["within_tolerance"]].iloc[0]
        raise RuntimeError(f"rebalance check failed: rep {bad['rep_id']} outside the band")
    statuses = set(regions["status"])
    status = next(
        s for s in ("infeasible", "feasible", "optimal") if s in statuses or s == "optimal"
    )
    reason = "; ".join(
        f"region {r.region_id}: {r.reason}" for r in regions.itertuples() if r.reason
    )
    return Rebalance(moves, before, after, status, reason, regions)
