"""Incentive compensation: declarative plans, an exact payout engine (frames in, frames out).

* :func:`load_plan_book` / :func:`plan_book_from_text`: parse and validate a plans YAML
  (``config/comp_plans.yml``; the format is documented in ``config/comp_plans.example.yml``);
  every problem raises :class:`~salesops_lib.core.errors.CompPlanError` ``FILE:LINE: rule``.
* :func:`read_credits_csv`, :func:`read_quotas_csv`, :func:`read_cancellations_csv`: input
  files, checked; problems raise :class:`~salesops_lib.core.errors.CompInputError`
  ``FILE: row N, column C: rule``.
* :func:`calculate_payouts`: one row per rep x period (:class:`PayoutResult` ``payouts``) and
  one row per deal x tier slice and per adjustment (``lines``).

Money is exact to the cent with ONE rounding point, at the end:

* credits, quotas and amount-tier bounds are integer micro-units (1e-6 of the currency; amounts
  have at most 2 decimals and split percentages at most 2 decimals, so ``amount x split`` is
  exact in micro-units);
* rates are integer parts per million (at most 6 decimals), so a commission slice
  ``micro x ppm`` is an exact integer in 1e-12 of the currency; caps, gates, SPIFs, draws,
  clawbacks and true-ups are computed on those exact integers (a reduced gate rate or a
  proportional paid part is carried as an exact fraction and floored to 1e-12 only once per
  rep x period);
* each money column of ``payouts`` is the exact sum rounded to cents ROUND_HALF_UP (halves away
  from zero), and ``payout`` is the exact total rounded the same way; the ``lines`` keep the
  exact unrounded amounts (``amount_exact`` as text), so summing many sub-cent lines gives the
  same cents as the payout, never an accumulated rounding error.

Why integers, not floats or per-line ``Decimal``: a float sum drifts by cents over a million
lines, and ``Decimal`` objects on every line cost several microseconds each; Python integers in
a single pass per rep x period are exact, unbounded (no overflow) and keep a year of 1,000 reps
and 1M credited lines inside the 30 s / 2 GB budget (``tests/bench/bench_comp.py``).
Quotas after ramp and proration by days are targets, not money paid: they are rounded to the
cent where they are computed.
"""

from salesops_lib.analytics.compensation.engine import calculate_payouts
from salesops_lib.analytics.compensation.inputs import (
    read_cancellations_csv,
    read_credits_csv,
    read_quotas_csv,
)
from salesops_lib.analytics.compensation.model import (
    Draw,
    Gate,
    PayoutResult,
    PeriodCap,
    Plan,
    PlanBook,
    RateTable,
    Spif,
    Tier,
)
from salesops_lib.analytics.compensation.plans import load_plan_book, plan_book_from_text

__all__ = [
    "Draw",
    "Gate",
    "PayoutResult",
    "PeriodCap",
    "Plan",
    "PlanBook",
    "RateTable",
    "Spif",
    "Tier",
    "calculate_payouts",
    "load_plan_book",
    "plan_book_from_text",
    "read_cancellations_csv",
    "read_credits_csv",
    "read_quotas_csv",
]
