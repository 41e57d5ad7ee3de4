"""The lifetime-value models: BG/NBD (purchases) and Gamma-Gamma (spend per purchase).

The published likelihoods, fitted by maximum likelihood with :func:`scipy.optimize.minimize`:

* **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing
  Science 24(2)): while alive a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after
  each purchase they drop out with probability p ~ Beta(a, b). A customer is summarised by x
  (repeat purchases), t_x (time of the last purchase) and T (time since the first purchase), all
  measured from the first purchase.
* **Gamma-Gamma** (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"): a
  customer's spend per transaction is Gamma(p, nu) with nu ~ Gamma(q, gamma); fitted on
  customers with at least one repeat purchase on zbar, the mean spend of their repeat purchases.

Numerics: log-likelihoods use :func:`scipy.special.gammaln` / :func:`betaln` and
:func:`numpy.logaddexp`; parameters are optimised on the log scale from the fixed start values
(all 1.0), so a fit is deterministic. :func:`expected_purchases` uses the closed form with
:func:`scipy.special.hyp2f1` (equation 10 of the paper); it is valid for any a > 0 (the paper's
own CDNOW fit has a < 1).

Time unit: the models are unit-free;
:func:`salesops_lib.analytics.segmentation.clv.summary_from_orders` gives times in weeks by
default (the published CDNOW convention) and :func:`customer_lifetime_value` converts months to that
unit with ``periods_per_month`` (default :data:`WEEKS_PER_MONTH`).

scipy is imported inside the functions that use it, so importing this module is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from salesops_lib.core.errors import ParameterError

WEEKS_PER_MONTH: float = 365.25 / 12 / 7
"""Average weeks in a calendar month (about 4.348)."""

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BGNBDParams:
    """BG/NBD parameters: purchase rate ~ Gamma(r, alpha), dropout probability ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: spend ~ Gamma(p, nu) per customer, nu ~ Gamma(q, gamma)."""

    p: float
    q: float
    gamma: float


# --- input checks ----------------------------------------------------------------------------


def _as_array(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=float)
    if array.ndim > 1 or not np.isfinite(array).all():
        raise ParameterError(f"{name} must be a 1-d array of finite numbers (no NaN or inf)")
    return np.atleast_1d(array)


def _customers(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[FloatArray, ...]:
    """Check and return x, t_x, T as float arrays of one length."""
    xs, recency, age = _as_array(x, "x"), _as_array(t_x, "t_x"), _as_array(T, "T")
    if not len(xs) == len(recency) == len(age):
        raise ParameterError(
            f"x, t_x and T must have one value per customer; got lengths "
            f"{len(xs)}, {len(recency)}, {len(age)}"
        )
    problems = {
        "x must be a whole number >= 0": (xs < 0) | (xs != np.round(xs)),
        "t_x must satisfy 0 <= t_x <= T": (recency < 0) | (recency > age),
        "T must be >= 0": age < 0,
        "t_x must be 0 when x is 0": (xs == 0) & (recency != 0),
    }
    for rule, bad in problems.items():
        if bad.any():
            row = int(np.argmax(bad))
            raise ParameterError(
                f"customer at position {row} (x={xs[row]}, t_x={recency[row]}, T={age[row]}): "
                f"{rule}; pass the output of clv.summary_from_orders()"
            )
    return xs, recency, age


# --- BG/NBD ----------------------------------------------------------------------------------


def bgnbd_log_likelihood(
    params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Log-likelihood of each customer's (x, t_x, T) under the BG/NBD model (FHL 2005, eq. 6).

    Args:
        params: Model parameters.
        x: Repeat purchases per customer.
        t_x: Time of the last purchase, from the first purchase.
        T: Time from the first purchase to the end of the observation period.

    Returns:
        One log-likelihood per customer.
    """
    xs, recency, age = _customers(x, t_x, T)
    return _bgnbd_ll(np.log([params.r, params.alpha, params.a, params.b]), xs, recency, age)


def _bgnbd_ll(log_params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    from scipy.special import betaln, gammaln

    r, alpha, a, b = np.exp(log_params)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    still_alive = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # B(a+1, b+x-1) / B(a, b+x) = a / (b+x-1); guard the log for x = 0 (term unused there).
    dropped = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return common + np.logaddexp(still_alive, dropped)


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BGNBDParams:
    """Fit the BG/NBD model by maximum likelihood.

    Customers with identical (x, t_x, T) are pooled with weights, then the negative total
    log-likelihood is minimised over the log-parameters with L-BFGS-B from (1, 1, 1, 1).

    Args:
        x: Repeat purchases per customer.
        t_x: Time of the last purchase, from the first purchase.
        T: Time from the first purchase to the end of the observation period.

    Returns:
        The fitted parameters.

    Raises:
        ParameterError: Invalid inputs, or the optimiser did not converge.
    """
    from scipy.optimize import minimize

    xs, recency, age = _customers(x, t_x, T)
    unique, counts = np.unique(np.column_stack([xs, recency, age]), axis=0, return_counts=True)
    ux, ut, uT = unique.T

    def objective(log_params: FloatArray) -> float:
        total = float(np.dot(counts, _bgnbd_ll(log_params, ux, ut, uT)))
        return -total if np.isfinite(total) else np.inf

    result = minimize(objective, np.zeros(4), method="L-BFGS-B", bounds=[(-12.0, 12.0)] * 4)
    if not result.success:
        raise ParameterError(f"BG/NBD fit did not converge: {result.message}")
    r, alpha, a, b = np.exp(result.x)
    return BGNBDParams(float(r), float(alpha), float(a), float(b))


def expected_purchases(
    params: BGNBDParams, t: float | ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected purchases in the next ``t`` time units given each customer's history (eq. 10).

    Args:
        params: BG/NBD parameters.
        t: Length of the future period (same unit as t_x and T), >= 0; a scalar or one per
            customer.
        x: Repeat purchases per customer.
        t_x: Time of the last purchase, from the first purchase.
        T: Time from the first purchase to the end of the observation period.

    Returns:
        One expected count per customer.

    Raises:
        ParameterError: Invalid inputs or a negative ``t``.

    Note:
        The closed form divides by a - 1; a = 1 exactly is a removable singularity (a fitted a
        never lands there exactly, but values within about 1e-8 of 1 lose precision).
    """
    from scipy.special import hyp2f1

    xs, recency, age = _customers(x, t_x, T)
    horizon = np.broadcast_to(np.asarray(t, dtype=float), xs.shape)
    if (horizon < 0).any() or not np.isfinite(horizon).all():
        raise ParameterError(f"t must be a finite time >= 0, got {t!r}")
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = horizon / (alpha + age + horizon)
    log_ratio = (r + xs) * (np.log(alpha + age) - np.log(alpha + age + horizon))
    numerator = 1.0 - np.exp(log_ratio) * hyp2f1(r + xs, b + xs, a + b + xs - 1, z)
    scale = (a + b + xs - 1) / (a - 1)
    with np.errstate(over="ignore"):  # odds overflow to inf for surely-dead customers -> 0
        dead_odds = np.exp(_log_dropout_odds(params, xs, recency, age))
    return scale * numerator / (1.0 + dead_odds)


def _log_dropout_odds(
    params: BGNBDParams, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """log of delta(x>0) a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x), the odds of dead vs alive.

    -inf for customers without repeat purchases (they cannot have dropped out).
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    log_odds = (
        np.log(a)
        - np.log(np.where(repeat, b + x - 1, 1.0))
        + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    )
    return np.where(repeat, log_odds, -np.inf)


def probability_alive(
    params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Probability that each customer is still active at T (FHL 2005, eq. 11).

    Args:
        params: BG/NBD parameters.
        x: Repeat purchases per customer.
        t_x: Time of the last purchase, from the first purchase.
        T: Time from the first purchase to the end of the observation period.

    Returns:
        One probability per customer (1 for customers without repeat purchases).
    """
    from scipy.special import expit

    xs, recency, age = _customers(x, t_x, T)
    return expit(-_log_dropout_odds(params, xs, recency, age))


# --- Gamma-Gamma -----------------------------------------------------------------------------


def _spenders(x: ArrayLike, zbar: ArrayLike) -> tuple[FloatArray, FloatArray]:
    xs, spend = _as_array(x, "x"), _as_array(zbar, "zbar")
    if len(xs) != len(spend):
        raise ParameterError(
            f"x and zbar must have one value per customer; got {len(xs)}, {len(spend)}"
        )
    if (xs < 0).any() or (spend < 0).any():
        raise ParameterError(
            "x and zbar must be >= 0; pass the output of clv.summary_from_orders()"
        )
    return xs, spend


def _gamma_gamma_ll(log_params: FloatArray, x: FloatArray, zbar: FloatArray) -> FloatArray:
    from scipy.special import gammaln

    p, q, gamma = np.exp(log_params)
    px = p * x
    return (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
        + (px - 1) * np.log(zbar) + px * np.log(x) - (px + q) * np.log(gamma + x * zbar)
    )  # fmt: skip


def fit_gamma_gamma(x: ArrayLike, zbar: ArrayLike) -> GammaGammaParams:
    """Fit the Gamma-Gamma spend model on the customers with x > 0 and zbar > 0.

    Customers without repeat purchases carry no repeat spend and are left out, as in the
    published fit; so are repeat buyers whose mean spend is 0 (log 0 has no likelihood).

    Args:
        x: Repeat purchases per customer.
        zbar: Mean spend of each customer's repeat purchases (0 when x = 0).

    Returns:
        The fitted parameters.

    Raises:
        ParameterError: Invalid inputs, fewer than two customers to fit on, or no convergence.
    """
    from scipy.optimize import minimize

    xs, spend = _spenders(x, zbar)
    used = (xs > 0) & (spend > 0)
    if used.sum() < 2:
        raise ParameterError("Gamma-Gamma needs at least two customers with x > 0 and zbar > 0")
    unique, counts = np.unique(np.column_stack([xs[used], spend[used]]), axis=0, return_counts=True)

    def objective(log_params: FloatArray) -> float:
        total = float(np.dot(counts, _gamma_gamma_ll(log_params, unique[:, 0], unique[:, 1])))
        return -total if np.isfinite(total) else np.inf

    result = minimize(objective, np.zeros(3), method="L-BFGS-B", bounds=[(-12.0, 12.0)] * 3)
    if not result.success:
        raise ParameterError(f"Gamma-Gamma fit did not converge: {result.message}")
    p, q, gamma = np.exp(result.x)
    return GammaGammaParams(float(p), float(q), float(gamma))


def expected_average_spend(params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike) -> FloatArray:
    """Expected spend per future transaction given x repeat purchases averaging zbar.

    ``(gamma + x * zbar) * p / (p * x + q - 1)``: a weighted mean of the population mean
    ``p * gamma / (q - 1)`` and the customer's own zbar (Fader & Hardie 2013, eq. 5).

    Args:
        params: Gamma-Gamma parameters (q must exceed 1 for a finite mean).
        x: Repeat purchases per customer.
        zbar: Mean spend of the repeat purchases (ignored when x = 0).

    Returns:
        One expected spend per customer.

    Raises:
        ParameterError: q <= 1 or invalid inputs.
    """
    if params.q <= 1:
        raise ParameterError(f"Gamma-Gamma q = {params.q} <= 1 has no finite mean spend")
    xs, spend = _spenders(x, zbar)
    return (params.gamma + xs * spend) * params.p / (params.p * xs + params.q - 1)


# --- lifetime value --------------------------------------------------------------------------


def customer_lifetime_value(
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    zbar: ArrayLike,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    periods_per_month: float = WEEKS_PER_MONTH,
) -> FloatArray:
    """Discounted expected spend over the next ``months`` months.

    ``CLV = sum over m = 1..months of (E[Y(m)] - E[Y(m-1)]) * S / (1 + d) ** m``, where E[Y(m)]
    is :func:`expected_purchases` over m months (m * periods_per_month time units), S is
    :func:`expected_average_spend` and d the monthly discount rate: purchases expected in month
    m are discounted as if paid at the end of that month. With d = 0 this is simply expected
    purchases over the horizon times expected spend. Spend, not margin: multiply by a margin
    rate for profit.

    Args:
        bgnbd: BG/NBD parameters.
        gamma_gamma: Gamma-Gamma parameters.
        x: Repeat purchases per customer.
        t_x: Time of the last purchase, from the first purchase.
        T: Time from the first purchase to the end of the observation period.
        zbar: Mean spend of the repeat purchases.
        months: Horizon in whole months, >= 1.
        monthly_discount_rate: d >= 0, e.g. 0.01 for about 12.7% a year.
        periods_per_month: Time units of t_x and T per month (weeks by default).

    Returns:
        One value per customer, in the currency of zbar.

    Raises:
        ParameterError: Bad horizon, rate or inputs.
    """
    if not isinstance(months, int | np.integer) or months < 1:
        raise ParameterError(f"months must be a whole number >= 1, got {months!r}")
    if not 0 <= monthly_discount_rate < 1:
        raise ParameterError(
            f"monthly_discount_rate must be in [0, 1), e.g. 0.01; got {monthly_discount_rate!r}"
        )
    spend = expected_average_spend(gamma_gamma, x, zbar)
    value = np.zeros_like(spend)
    previous = np.zeros_like(spend)
    for month in range(1, months + 1):
        cumulative = expected_purchases(bgnbd, month * periods_per_month, x, t_x, T)
        value += (cumulative - previous) * spend / (1 + monthly_discount_rate) ** month
        previous = cumulative
    return value
