"""What-if on plan design: the same history under other plan books and attainment scenarios.

Pure functions over :func:`~salesops_lib.analytics.compensation.calculate_payouts`:

* :func:`summarize_payouts` / :func:`cost_of_sales`: payout, credited revenue and cost of sales
  (payout / credited revenue) of a result;
* :func:`attainment_scenarios`: credits scaled (-20% / plan / +20% by default) and recalculated;
* :func:`accelerator_exposure`: what another 10% attainment (credits x 1.1) would cost, per rep;
* :func:`payout_curve` and :func:`find_cliffs`: the payout of one synthetic tenured rep at
  attainment 0..200% in steps, and the steps where payout jumps (a gate, a retroactive tier);
* :func:`winners_losers`: payout per rep under plan A vs plan B;
* :func:`compare_plan_books`: all of the above for several plan books side by side.

Scaled credits are rounded to the cent (the engine takes amounts with at most 2 decimals).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesops_lib.analytics.compensation.engine import calculate_payouts
from salesops_lib.analytics.compensation.model import PayoutResult, PlanBook
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

DEFAULT_FACTORS: tuple[float, ...] = (0.8, 1.0, 1.2)
CURVE_STEP = 0.01
CURVE_MAX = 2.0
CLIFF_MULTIPLE = 3.0
SUMMARY_COLUMNS = ["book", "plan_version", "reps", "credit", "payout", "cost_of_sales"]
CURVE_REP = "whatif-curve-"


def _cents(values: pd.Series) -> pd.Series:
    return np.round(pd.to_numeric(values).astype("float64").fillna(0.0) * 100).astype("int64")


def cost_of_sales(payout: float, credit: float) -> float:
    """Payout / credited revenue; ``NaN`` when nothing was credited."""
    return float(payout) / float(credit) if credit else float("nan")


def summarize_payouts(payouts: pd.DataFrame) -> dict[str, float | int]:
    """Totals of an engine ``payouts`` frame.

    Returns:
        ``reps`` (distinct reps), ``credit`` and ``payout`` (sums, exact in cents) and
        ``cost_of_sales`` (payout / credit).
    """
    require_columns(payouts, ["rep_id", "credit", "payout"], "summarize_payouts: payouts")
    credit = int(_cents(payouts["credit"]).sum()) / 100
    payout = int(_cents(payouts["payout"]).sum()) / 100
    return {
        "reps": int(payouts["rep_id"].nunique()),
        "credit": credit,
        "payout": payout,
        "cost_of_sales": cost_of_sales(payout, credit),
    }


def scale_credits(credits: pd.DataFrame, factor: float) -> pd.DataFrame:
    """A new credits frame with every ``amount`` times ``factor``, rounded to the cent."""
    require_columns(credits, ["amount"], "scale_credits: credits")
    if not np.isfinite(factor) or factor < 0:
        raise ParameterError(f"scale_credits: factor {factor!r} must be a finite number >= 0")
    scaled = np.round(credits["amount"].astype("float64") * float(factor), 2)
    return credits.assign(amount=scaled)


def scenario_label(factor: float) -> str:
    """``plan`` for 1.0, else the signed percent change (``-20%``, ``+20%``)."""
    change = round((float(factor) - 1.0) * 100, 6)
    return "plan" if change == 0 else f"{change:+g}%"


def attainment_scenarios(
    book: PlanBook,
    credits: pd.DataFrame,
    quotas: pd.DataFrame,
    *,
    factors: Sequence[float] = DEFAULT_FACTORS,
    **engine_kwargs: Any,
) -> pd.DataFrame:
    """Recalculate the history with every credit scaled by each factor.

    Args:
        book: The plan book.
        credits: Credits as for :func:`calculate_payouts`.
        quotas: Quotas as for :func:`calculate_payouts`.
        factors: Credit multipliers (0.8 = attainment -20%).
        **engine_kwargs: ``period``, ``cancellations``, ``hire_dates``, ``as_of``.

    Returns:
        A new frame, one row per factor: ``scenario``, ``credit_factor``, ``reps``,
        ``credit``, ``payout``, ``cost_of_sales``.
    """
    rows = []
    for factor in factors:
        result = calculate_payouts(book, scale_credits(credits, factor), quotas, **engine_kwargs)
        rows.append(
            {
                "scenario": scenario_label(factor),
                "credit_factor": float(factor),
                **summarize_payouts(result.payouts),
            }
        )
    columns = ["scenario", "credit_factor", "reps", "credit", "payout", "cost_of_sales"]
    return pd.DataFrame(rows, columns=columns)


def accelerator_exposure(
    book: PlanBook,
    credits: pd.DataFrame,
    quotas: pd.DataFrame,
    *,
    uplift: float = 0.10,
    base: PayoutResult | None = None,
    **engine_kwargs: Any,
) -> pd.DataFrame:
    """What another ``uplift`` of attainment (credits x (1 + uplift)) would cost, per rep.

    Args:
        book: The plan book.
        credits: Credits as for :func:`calculate_payouts`.
        quotas: Quotas as for :func:`calculate_payouts`.
        uplift: Relative attainment increase (0.10 = attainment x 1.1).
        base: The result on the unscaled credits, if already calculated.
        **engine_kwargs: ``period``, ``cancellations``, ``hire_dates``, ``as_of``.

    Returns:
        A new frame, one row per rep x plan x period: ``rep_id``, ``plan_id``, ``period``,
        ``attainment``, ``payout``, ``payout_uplift``, ``extra_cost`` (= the difference, exact
        in cents), ``extra_credit``, ``marginal_rate`` (= extra_cost / extra_credit).
    """
    base = base or calculate_payouts(book, credits, quotas, **engine_kwargs)
    lifted = calculate_payouts(book, scale_credits(credits, 1 + uplift), quotas, **engine_kwargs)
    key = ["rep_id", "plan_id", "period"]
    merged = base.payouts[[*key, "attainment", "credit", "payout"]].merge(
        lifted.payouts[[*key, "credit", "payout"]], on=key, how="outer", suffixes=("", "_uplift")
    )
    extra = _cents(merged["payout_uplift"]) - _cents(merged["payout"])
    extra_credit = _cents(merged["credit_uplift"]) - _cents(merged["credit"])
    frame = pd.DataFrame(
        {
            **{c: merged[c] for c in key},
            "attainment": merged["attainment"],
            "payout": _cents(merged["payout"]) / 100,
            "payout_uplift": _cents(merged["payout_uplift"]) / 100,
            "extra_cost": extra / 100,
            "extra_credit": extra_credit / 100,
            "marginal_rate": (extra / extra_credit.where(extra_credit != 0)).astype("float64"),
        }
    )
    return frame.sort_values(key, ignore_index=True)


def _period_label(grain: str, start: dt.date) -> str:
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def _default_curve_start(book: PlanBook, plan_id: str) -> dt.date:
    """1 January of the year of the plan's latest rate table or first assignment (the later)."""
    days = [table.effective for table in book.plans[plan_id].rate_tables]
    starts = book.assignments.loc[book.assignments["plan_id"] == plan_id, "start_date"]
    days += [pd.Timestamp(day).date() for day in starts.dropna()]
    return dt.date(max(days).year, 1, 1)


def payout_curve(
    book: PlanBook,
    plan_id: str,
    *,
    quota: float,
    period_start: dt.date | None = None,
    attainments: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Payout of a tenured rep on ``plan_id`` at each attainment, with one deal per point.

    Each point is a synthetic rep (on the plan from the period's first day, hired two years
    before, so no ramp or draw applies) with one deal of ``attainment x quota`` credited on the
    period's first day.

    Args:
        book: The plan book.
        plan_id: A plan of the book.
        quota: The rep's quota for one plan period.
        period_start: First day of the period to price (default: 1 January of the year of the
            plan's latest rate table or first assignment, whichever is later).
        attainments: Attainment ratios (default 0, 0.01, ..., 2.0).

    Returns:
        A new frame, one row per attainment: ``plan_id``, ``attainment``, ``credit``,
        ``payout``, ``commission``.
    """
    if plan_id not in book.plans:
        raise ParameterError(
            f"payout_curve: plan {plan_id!r} is not in {book.source}; plans: "
            f"{', '.join(sorted(book.plans))}"
        )
    if not np.isfinite(quota) or quota <= 0:
        raise ParameterError(f"payout_curve: quota {quota!r} must be a positive number")
    plan = book.plans[plan_id]
    start = period_start or _default_curve_start(book, plan_id)
    points = np.round(
        np.asarray(
            attainments
            if attainments is not None
            else np.arange(0, CURVE_MAX + CURVE_STEP / 2, CURVE_STEP),
            dtype="float64",
        ),
        6,
    )
    reps = [f"{CURVE_REP}{i:04d}" for i in range(len(points))]
    since = start.replace(year=start.year - 2)
    assignments = pd.DataFrame(
        {
            "rep_id": reps,
            "plan_id": plan_id,
            "start_date": pd.Timestamp(start),
            "end_date": pd.NaT,
            "role": plan.split_type,
            "line": plan.line,
        }
    )
    extra_columns = [c for c in book.assignments.columns if c not in assignments.columns]
    assignments = assignments.assign(**{c: pd.NA for c in extra_columns})
    curve_book = dataclasses.replace(
        book,
        assignments=assignments[list(book.assignments.columns)].astype(
            book.assignments.dtypes.to_dict(), errors="ignore"
        ),
    )
    credits = pd.DataFrame(
        {
            "rep_id": reps,
            "credit_date": pd.Timestamp(start),
            "amount": np.round(points * float(quota), 2),
            "deal_id": [f"curve-deal-{i:04d}" for i in range(len(points))],
            "split_pct": 100.0,
        }
    )
    if plan.product_families:
        credits["product_family"] = plan.product_families[0]
    if plan.deal_types:
        credits["deal_type"] = plan.deal_types[0]
    quotas = pd.DataFrame(
        {"rep_id": reps, "period_start": pd.Timestamp(start), "quota": float(quota)}
    )
    hire_dates = pd.DataFrame({"rep_id": reps, "hire_date": pd.Timestamp(since)})
    result = calculate_payouts(
        curve_book,
        credits,
        quotas,
        period=_period_label(plan.period, start),
        hire_dates=hire_dates,
    )
    by_rep = result.payouts.groupby("rep_id")[["payout", "commission"]].sum()
    by_rep = by_rep.reindex(reps).fillna(0.0)
    return pd.DataFrame(
        {
            "plan_id": plan_id,
            "attainment": points,
            "credit": credits["amount"].to_numpy(),
            "payout": by_rep["payout"].to_numpy(),
            "commission": by_rep["commission"].to_numpy(),
        }
    )


def find_cliffs(
    curve: pd.DataFrame, *, threshold: float | None = None, multiple: float = CLIFF_MULTIPLE
) -> pd.DataFrame:
    """Steps of a payout curve where payout jumps by more than a threshold.

    Args:
        curve: A frame from :func:`payout_curve` (sorted by attainment, even steps).
        threshold: The smallest payout jump (money) between neighbouring points that counts as a
            cliff; default ``multiple`` x the median positive step of the curve.
        multiple: Used for the default threshold.

    Returns:
        A new frame, one row per cliff: ``plan_id``, ``attainment_from``, ``attainment_to``,
        ``payout_from``, ``payout_to``, ``jump``, ``threshold``.
    """
    require_columns(curve, ["plan_id", "attainment", "payout"], "find_cliffs: curve")
    ordered = curve.sort_values("attainment", ignore_index=True)
    steps = _cents(ordered["payout"]).diff().iloc[1:] / 100
    positive = steps[steps > 0]
    limit = threshold
    if limit is None:
        limit = float(multiple * positive.median()) if not positive.empty else float("inf")
    at = steps.index[steps.abs() > limit]
    columns = ["plan_id", "attainment_from", "attainment_to", "payout_from", "payout_to"]
    return pd.DataFrame(
        {
            "plan_id": ordered.loc[at, "plan_id"].to_numpy(),
            "attainment_from": ordered.loc[at - 1, "attainment"].to_numpy(),
            "attainment_to": ordered.loc[at, "attainment"].to_numpy(),
            "payout_from": ordered.loc[at - 1, "payout"].to_numpy(),
            "payout_to": ordered.loc[at, "payout"].to_numpy(),
            "jump": steps.loc[at].to_numpy(),
            "threshold": limit,
        },
        columns=[*columns, "jump", "threshold"],
    )


def winners_losers(
    payouts_a: pd.DataFrame, payouts_b: pd.DataFrame, *, tolerance: float = 0.0
) -> pd.DataFrame:
    """Payout per rep under plan A vs plan B (all periods summed).

    Args:
        payouts_a: Engine payouts under A (the baseline).
        payouts_b: Engine payouts under B.
        tolerance: Changes of at most this much (money) count as ``same``.

    Returns:
        A new frame, one row per rep in either: ``rep_id``, ``payout_a``, ``payout_b``,
        ``change`` (B - A), ``change_pct`` (of A; NaN when A is 0), ``outcome`` (``wins``,
        ``loses`` or ``same`` under B), sorted by change, largest gain first.
    """
    for name, frame in (("payouts_a", payouts_a), ("payouts_b", payouts_b)):
        require_columns(frame, ["rep_id", "payout"], f"winners_losers: {name}")
    totals = (
        pd.concat(
            {
                "payout_a": payouts_a.assign(c=_cents(payouts_a["payout"]))
                .groupby("rep_id")["c"]
                .sum(),
                "payout_b": payouts_b.assign(c=_cents(payouts_b["payout"]))
                .groupby("rep_id")["c"]
                .sum(),
            },
            axis=1,
        )
        .fillna(0)
        .astype("int64")
    )
    change = totals["payout_b"] - totals["payout_a"]
    limit = round(tolerance * 100)
    outcome = np.where(change > limit, "wins", np.where(change < -limit, "loses", "same"))
    frame = pd.DataFrame(
        {
            "rep_id": totals.index,
            "payout_a": totals["payout_a"].to_numpy() / 100,
            "payout_b": totals["payout_b"].to_numpy() / 100,
            "change": change.to_numpy() / 100,
            "change_pct": (change / totals["payout_a"].where(totals["payout_a"] != 0)).to_numpy(
                dtype="float64"
            ),
            "outcome": outcome,
        }
    )
    return frame.sort_values(["change", "rep_id"], ascending=[False, True], ignore_index=True)


@dataclass(frozen=True)
class PlanComparison:
    """Several plan books over the same history.

    Attributes:
        summary: One row per book (:data:`SUMMARY_COLUMNS`), in the order given.
        results: Book label -> the engine's result on the unscaled credits.
        changes: Winners and losers of each book against the first (baseline): ``book`` plus
            the :func:`winners_losers` columns.
        scenarios: ``book`` plus the :func:`attainment_scenarios` columns.
        curves: ``book`` plus the :func:`payout_curve` columns, for every plan of every book.
        cliffs: ``book`` plus the :func:`find_cliffs` columns.
    """

    summary: pd.DataFrame
    results: Mapping[str, PayoutResult]
    changes: pd.DataFrame
    scenarios: pd.DataFrame
    curves: pd.DataFrame
    cliffs: pd.DataFrame


def compare_plan_books(
    books: Mapping[str, PlanBook],
    credits: pd.DataFrame,
    quotas: pd.DataFrame,
    *,
    factors: Sequence[float] = DEFAULT_FACTORS,
    curve_quota: float | None = None,
    cliff_threshold: float | None = None,
    **engine_kwargs: Any,
) -> PlanComparison:
    """The same history under several plan books, side by side.

    Args:
        books: Label -> plan book; the first is the baseline for winners and losers.
        credits: Credits as for :func:`calculate_payouts`.
        quotas: Quotas as for :func:`calculate_payouts`.
        factors: Attainment scenarios (credit multipliers).
        curve_quota: Quota of the synthetic rep of the payout curves; default the median
            period quota of the plan's reps in the baseline result (else 100,000).
        cliff_threshold: Passed to :func:`find_cliffs` as ``threshold``.
        **engine_kwargs: ``period``, ``cancellations``, ``hire_dates``, ``as_of``.

    Returns:
        A :class:`PlanComparison`.
    """
    if not books:
        raise ParameterError("compare_plan_books: give at least one plan book")
    results = {
        label: calculate_payouts(b, credits, quotas, **engine_kwargs) for label, b in books.items()
    }
    labels = list(books)
    summary = pd.DataFrame(
        [
            {"book": label, "plan_version": books[label].version, **summarize_payouts(r.payouts)}
            for label, r in results.items()
        ],
        columns=SUMMARY_COLUMNS,
    )
    baseline = results[labels[0]].payouts
    changes = [
        winners_losers(baseline, results[label].payouts).assign(book=label) for label in labels[1:]
    ]
    scenarios = [
        attainment_scenarios(
            books[label], credits, quotas, factors=factors, **engine_kwargs
        ).assign(book=label)
        for label in labels
    ]
    curves, cliffs = [], []
    for label in labels:
        payouts = results[label].payouts
        for plan_id in sorted(books[label].plans):
            quota = curve_quota or _median_quota(payouts, plan_id)
            curve = payout_curve(books[label], plan_id, quota=quota).assign(book=label)
            curves.append(curve)
            cliffs.append(find_cliffs(curve, threshold=cliff_threshold).assign(book=label))
    return PlanComparison(
        summary=summary,
        results=results,
        changes=_book_first(
            changes, ["rep_id", "payout_a", "payout_b", "change", "change_pct", "outcome"]
        ),
        scenarios=_book_first(
            scenarios, ["scenario", "credit_factor", "reps", "credit", "payout", "cost_of_sales"]
        ),
        curves=_book_first(curves, ["plan_id", "attainment", "credit", "payout", "commission"]),
        cliffs=_book_first(
            cliffs,
            [
                "plan_id",
                "attainment_from",
                "attainment_to",
                "payout_from",
                "payout_to",
                "jump",
                "threshold",
            ],
        ),
    )


def _median_quota(payouts: pd.DataFrame, plan_id: str) -> float:
    quotas = pd.to_numeric(payouts.loc[payouts["plan_id"] == plan_id, "quota"], errors="coerce")
    quotas = quotas[quotas > 0]
    return float(quotas.median()) if not quotas.empty else 100_000.0


def _book_first(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=["book", *columns])
    return pd.concat(frames, ignore_index=True)[["book", *columns]]
