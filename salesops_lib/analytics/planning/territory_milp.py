"""The integer programme behind :func:`..territories.rebalance_territories`, one region at a time.

Potentials are scaled by the region's mean, so the band is [1 - t, 1 + t] whatever the money
amounts. See the territories module docstring for the model, the solver choice (``scipy.optimize
.milp``, HiGHS) and how large regions are cut down to a candidate set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

FULL_MODEL_LIMIT = 5_000
"""Largest number of move variables of a region solved over every movable account."""

CANDIDATES_PER_REP = 30
"""Largest accounts per rep in a restricted model (plus as many spread over the rest)."""

RESTRICTED_GAP = 0.02
"""Relative optimality gap of a restricted model (a full model is solved to optimality)."""

TIME_LIMIT_SECONDS = 45.0
"""Time budget of a whole rebalancing, shared out over the regions still to solve (each gets
the time left / regions left, at least :data:`MIN_REGION_SECONDS`); a region that runs out
keeps the best proposal found, or a greedy one when the optimiser has none yet."""

MIN_REGION_SECONDS = 2.0
"""Least time a region's solve gets, however little of the budget is left."""

EPS = 1e-9


# --- the optimiser -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _RegionResult:
    moves: list[tuple[int, int]]  # (account position, to-rep position)
    status: str
    reason: str
    candidates: int


def _candidate_pairs(
    owner: np.ndarray, p: np.ndarray, movable: np.ndarray, load: np.ndarray, lo: float, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Moves of the restricted model: (account position, to-rep) pairs.

    Donors are the reps above the mean, receivers those below it. A donor's candidates are
    its k largest movable accounts that it can give away without falling below the band on
    its own, plus k spread evenly over the rest of those by size.
    """
    donors, receivers = np.flatnonzero(load > 1), np.flatnonzero(load < 1)
    fits = movable & np.isin(owner, donors) & (p <= load[owner] - lo + EPS)
    frame = pd.DataFrame({"owner": owner, "p": p, "pos": np.arange(len(owner))}).loc[fits]
    frame = frame.sort_values(["owner", "p", "pos"], ascending=[True, False, True])
    rank = frame.groupby("owner").cumcount().to_numpy()
    size = frame.groupby("owner")["pos"].transform("size").to_numpy()
    step = np.maximum(np.ceil(np.maximum(size - k, 1) / k), 1).astype(int)
    chosen = np.sort(frame["pos"].to_numpy()[(rank < k) | ((rank - k) % step == 0)])
    return np.repeat(chosen, len(receivers)), np.tile(receivers, len(chosen))


def _all_pairs(owner: np.ndarray, movable: np.ndarray, n_reps: int):
    """Moves of the full model: every movable account to every other rep of the region."""
    chosen = np.flatnonzero(movable)
    others = np.arange(n_reps - 1)
    to_rep = others[None, :] + (others[None, :] >= owner[chosen][:, None])  # skip the owner
    return np.repeat(chosen, n_reps - 1), to_rep.ravel()


def _greedy(
    owner: np.ndarray,
    p: np.ndarray,
    movable: np.ndarray,
    load: np.ndarray,
    band: tuple[float, float],
) -> list[tuple[int, int]] | None:
    """A quick proposal: move the largest fitting account from the fullest to the emptiest rep.

    Used when the integer programme finds nothing within its time; None if it gets stuck.
    """
    lo, hi = band
    load, where = load.copy(), owner.copy()
    free = movable.copy()
    moves: dict[int, int] = {}
    for _ in range(len(p) + 1):
        if ((load >= lo - EPS) & (load <= hi + EPS)).all():
            return [(a, int(where[a])) for a in sorted(moves) if where[a] != owner[a]]
        over = np.argsort(-load)
        under = np.argsort(load)
        donor, receiver = over[0], under[0]
        room = min(load[donor] - lo, hi - load[receiver])
        fits = np.flatnonzero(free & (where == donor) & (p <= room + EPS))
        if not len(fits) or donor == receiver:
            return None
        best = fits[np.argmax(p[fits])]
        load[donor] -= p[best]
        load[receiver] += p[best]
        where[best] = receiver
        free[best] = False
        moves[int(best)] = int(receiver)
    return None


def moves_lower_bound(
    owner: np.ndarray, potential: np.ndarray, movable: np.ndarray, n_reps: int, tolerance: float
) -> int:
    """A lower bound on the moves any proposal for one region needs.

    Every move leaves one rep and reaches one other, so the moves are at least the sum over
    territories above the band of the fewest of their own movable accounts (largest first)
    that cover their excess, and at least the same sum for territories below the band (from
    the largest movable accounts of the other reps). The larger of the two is returned (0 when
    the region is balanced; an unreachable bound counts all movable accounts).
    """
    total = potential.sum()
    if n_reps <= 1 or total <= 0:
        return 0
    p = potential / (total / n_reps)
    load = np.bincount(owner, weights=p, minlength=n_reps)
    lo, hi = 1 - tolerance, 1 + tolerance

    def fewest(sizes: np.ndarray, need: float) -> int:
        reached = np.flatnonzero(np.cumsum(np.sort(sizes)[::-1]) >= need - EPS)
        return int(reached[0]) + 1 if len(reached) else len(sizes)

    out = sum(
        fewest(p[movable & (owner == r)], load[r] - hi) for r in np.flatnonzero(load > hi + EPS)
    )
    into = sum(
        fewest(p[movable & (owner != r)], lo - load[r]) for r in np.flatnonzero(load < lo - EPS)
    )
    return max(out, into)


def solve_region(
    owner: np.ndarray,
    potential: np.ndarray,
    movable: np.ndarray,
    rep_ids: np.ndarray,
    tolerance: float,
    time_limit: float,
    account_ids: np.ndarray | None = None,
) -> _RegionResult:
    """Minimum account moves that bring every territory of one region into the band."""
    n_reps = len(rep_ids)
    total = potential.sum()
    if n_reps <= 1 or total <= 0:
        return _RegionResult([], "optimal", "", 0)
    p = potential / (total / n_reps)  # scaled by the mean: the band becomes [1 - t, 1 + t]
    load = np.bincount(owner, weights=p, minlength=n_reps)
    lo, hi = 1 - tolerance, 1 + tolerance
    if ((load >= lo - EPS) & (load <= hi + EPS)).all():
        return _RegionResult([], "optimal", "", 0)
    fixed = np.bincount(owner, weights=np.where(movable, 0.0, p), minlength=n_reps)
    if (fixed > hi + EPS).any():
        rep = int(np.argmax(fixed))
        why = (
            f"the key accounts of rep {rep_ids[rep]} hold {fixed[rep]:.0%} of the mean "
            f"potential, above the upper bound {hi:.0%}"
        )
        return _RegionResult([], "infeasible", why, 0)
    if (p > hi + EPS).any():
        big = int(np.argmax(p))
        name = f"account {account_ids[big]}" if account_ids is not None else "an account"
        why = f"{name} holds {p[big]:.0%} of the mean potential, above the upper bound {hi:.0%}"
        return _RegionResult([], "infeasible", why, 0)
    n_movable = int(movable.sum())
    bound = moves_lower_bound(owner, potential, movable, n_reps, tolerance)
    k = CANDIDATES_PER_REP
    deadline = time.perf_counter() + time_limit
    full, previous = n_movable * (n_reps - 1) <= FULL_MODEL_LIMIT, -1
    while True:
        if not full:
            account, to_rep = _candidate_pairs(owner, p, movable, load, lo, k)
            full = len(account) == previous  # more candidates add nothing: go to the full model
            previous = len(account)
        if full:
            account, to_rep = _all_pairs(owner, movable, n_reps)
        left = max(deadline - time.perf_counter(), 1.0)
        gap = 0.0 if full else RESTRICTED_GAP
        found = _milp(account, to_rep, owner, p, load, (lo, hi), left, gap)
        candidates = len(np.unique(account))
        if found is not None and found[0] is not None:
            chosen, proven = found
            pairs = [(int(account[i]), int(to_rep[i])) for i in chosen]
            if (full and proven) or len(pairs) <= bound:
                return _RegionResult(pairs, "optimal", "", candidates)
            if proven:
                reason = (
                    f"{len(pairs)} moves, the fewest (within {RESTRICTED_GAP:.0%}) among "
                    f"{candidates} candidate accounts of {n_movable}; no proposal can do with "
                    f"fewer than {bound}"
                )
            else:
                reason = (
                    f"{len(pairs)} moves, the best proposal found within the time limit; no "
                    f"proposal can do with fewer than {bound}"
                )
            return _RegionResult(pairs, "feasible", reason, candidates)
        timed_out = found is not None
        if full or time.perf_counter() >= deadline:
            quick = _greedy(owner, p, movable, load, (lo, hi)) if timed_out or not full else None
            if quick is not None:
                why = "time limit reached before the optimiser found a proposal: greedy proposal"
                return _RegionResult(quick, "feasible", why, candidates)
            why = (
                "no proposal found within the time limit (not proven infeasible)"
                if timed_out or not full
                else f"no reassignment of its {n_movable} movable accounts puts every territory "
                f"within +-{tolerance:.0%} of the mean potential"
            )
            return _RegionResult([], "infeasible", why, candidates)
        k *= 2


def _milp(
    account: np.ndarray,
    to_rep: np.ndarray,
    owner: np.ndarray,
    p: np.ndarray,
    load: np.ndarray,
    band: tuple[float, float],
    time_limit: float,
    gap: float,
) -> tuple[np.ndarray | None, bool] | None:
    """Solve one model over the given move variables (account position -> to-rep).

    Returns:
        None when HiGHS proves it infeasible; (None, False) when the time ran out without a
        solution; else (indexes of the chosen moves, proven optimal within ``gap``).
    """
    n_reps, n_vars = len(load), len(account)
    if n_vars == 0:
        return None
    columns = np.arange(n_vars)
    _, once_row = np.unique(account, return_inverse=True)
    rows_once = sp.csr_matrix((np.ones(n_vars), (once_row, columns)))
    gives = sp.csr_matrix((-p[account], (owner[account], columns)), (n_reps, n_vars))
    takes = sp.csr_matrix((p[account], (to_rep, columns)), (n_reps, n_vars))
    lo, hi = band
    constraints = [
        LinearConstraint(rows_once, -np.inf, 1.0),
        LinearConstraint(gives + takes, lo - load, hi - load),
    ]
    result = milp(
        c=np.ones(n_vars),
        integrality=np.ones(n_vars),
        bounds=Bounds(0, 1),
        constraints=constraints,
        options={"time_limit": float(time_limit), "disp": False, "mip_rel_gap": gap},
    )
    if result.status == 2:
        return None
    if result.x is None:
        return (None, False)
    return np.flatnonzero(result.x > 0.5), result.status == 0
