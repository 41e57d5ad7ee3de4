"""BG/NBD and Gamma-Gamma against the published CDNOW results (Fader, Hardie & Lee 2005).

The data are the CDNOW sample shipped in ``data/samples/cdnow`` (see SOURCES.md there).
Published figures used as known answers:

* BG/NBD on the 2,357-customer sample: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, with
  log-likelihood -9582.4 (FHL 2005, section 5).
* Gamma-Gamma on the customers with x > 0: p = 6.25, q = 3.74, gamma = 15.44 (Fader & Hardie
  2013).
* With the published parameters, a customer with x = 2, t_x = 30.43, T = 38.86 expects about
  1.226 transactions in the next 39 weeks; checked here by direct numerical integration over
  (lambda, p), independently of the closed form in the code.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from salesops_lib.analytics.segmentation import clv, clv_models
from salesops_lib.core.errors import ParameterError
from tests.conftest import ROOT

CDNOW = ROOT / "data" / "samples" / "cdnow"
PUBLISHED_BGNBD = clv_models.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
PUBLISHED_GG = clv_models.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


@pytest.fixture(scope="module")
def published_summary() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def sample_orders() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW / "CDNOW_sample.csv", dtype={"customer_id_sample": str})
    return pd.DataFrame(
        {
            "account_id": raw["customer_id_sample"].astype(int),
            "order_date": pd.to_datetime(raw["date"]),
            "amount": raw["dollar_value"].astype(float),
        }
    )


# --- an independent implementation by numerical integration ----------------------------------


def integrated_posterior(
    params: clv_models.BGNBDParams, x: int, t_x: float, T: float, t: float
) -> tuple[float, float]:
    """(E[Y(t) | x, t_x, T], P(alive)) by integrating the individual-level model over the priors.

    Individual level (FHL 2005, section 3): alive at T with likelihood (1-p)^x lam^x e^{-lam T};
    died after the last purchase with p (1-p)^(x-1) lam^x e^{-lam t_x}; an alive customer buys
    (1 - e^{-lam p t}) / p times in the next t. Priors lam ~ Gamma(r, alpha), p ~ Beta(a, b);
    their normalising constants cancel in the ratios.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    options = {"epsabs": 0.0, "epsrel": 1e-10, "limit": 200}

    def over_lambda(rate_at: float, extra: Callable[[float], float] = lambda lam: 1.0) -> float:
        def integrand(lam: float) -> float:
            return lam ** (r + x - 1) * math.exp(-lam * rate_at) * extra(lam)

        return quad(integrand, 0, np.inf, **options)[0]

    alive_lambda = over_lambda(alpha + T)
    dead_lambda = over_lambda(alpha + t_x)
    beta_weight = {"weight": "alg", "wvar": (a - 1, b - 1)}  # p^(a-1) (1-p)^(b-1)

    def future(p: float) -> float:
        # (1 - e^{-lam p t}) / p, whose limit at p = 0 is lam t.
        buys = over_lambda(alpha + T, lambda lam: -math.expm1(-lam * p * t) / p if p else lam * t)
        return (1 - p) ** x * buys

    alive = quad(lambda p: (1 - p) ** x, 0, 1, **beta_weight)[0] * alive_lambda
    dead = quad(lambda p: p * (1 - p) ** (x - 1), 0, 1, **beta_weight)[0] * dead_lambda
    expected = quad(future, 0, 1, **beta_weight, epsabs=0.0, epsrel=1e-9)[0]
    return expected / (alive + dead), alive / (alive + dead)


# --- tests -----------------------------------------------------------------------------------


def test_bgnbd_fit_reproduces_published_parameters(published_summary: pd.DataFrame) -> None:
    s = published_summary
    fitted = clv_models.fit_bgnbd(s["x"], s["t_x"], s["T"])
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted, name) == pytest.approx(getattr(PUBLISHED_BGNBD, name), rel=0.02)
    published_ll = clv_models.bgnbd_log_likelihood(PUBLISHED_BGNBD, s["x"], s["t_x"], s["T"]).sum()
    assert published_ll == pytest.approx(-9582.4, abs=0.5)
    fitted_ll = clv_models.bgnbd_log_likelihood(fitted, s["x"], s["t_x"], s["T"]).sum()
    assert fitted_ll >= published_ll  # the optimum is at least as good as the rounded estimate


def test_gamma_gamma_fit_reproduces_published_parameters(published_summary: pd.DataFrame) -> None:
    fitted = clv_models.fit_gamma_gamma(published_summary["x"], published_summary["zbar"])
    assert fitted.p == pytest.approx(PUBLISHED_GG.p, rel=0.02)
    assert fitted.q == pytest.approx(PUBLISHED_GG.q, rel=0.02)
    assert fitted.gamma == pytest.approx(PUBLISHED_GG.gamma, rel=0.02)


def test_expected_purchases_match_the_published_example_by_integration() -> None:
    integrated, alive = integrated_posterior(PUBLISHED_BGNBD, x=2, t_x=30.43, T=38.86, t=39)
    assert integrated == pytest.approx(1.226, abs=0.001)  # the figure in the literature
    closed_form = clv_models.expected_purchases(PUBLISHED_BGNBD, 39, [2], [30.43], [38.86])[0]
    assert closed_form == pytest.approx(integrated, rel=1e-6)
    assert clv_models.probability_alive(PUBLISHED_BGNBD, [2], [30.43], [38.86])[0] == pytest.approx(
        alive, rel=1e-6
    )


@pytest.mark.parametrize(("x", "t_x", "T", "t"), [(0, 0.0, 38.86, 39.0), (7, 29.43, 35.0, 10.0)])
def test_expected_purchases_other_histories_by_integration(
    x: int, t_x: float, T: float, t: float
) -> None:
    if x == 0:
        # lam^(r-1) is singular at 0, so for x = 0 the lambda integral is done by hand (a gamma
        # integral) and only p is integrated numerically:
        # E = ∫ (1 - ((alpha+T)/(alpha+T+p t))^r) / p f(p) dp / ∫ f(p) dp.
        r, alpha, a, b = (
            PUBLISHED_BGNBD.r,
            PUBLISHED_BGNBD.alpha,
            PUBLISHED_BGNBD.a,
            PUBLISHED_BGNBD.b,
        )

        def future(p: float) -> float:
            if p == 0:
                return r * t / (alpha + T)  # the limit at p = 0
            return -math.expm1(r * math.log((alpha + T) / (alpha + T + p * t))) / p

        weight = {"weight": "alg", "wvar": (a - 1, b - 1)}
        integrated = quad(future, 0, 1, **weight)[0] / quad(lambda p: 1.0, 0, 1, **weight)[0]
    else:
        integrated, _ = integrated_posterior(PUBLISHED_BGNBD, x, t_x, T, t)
    closed_form = clv_models.expected_purchases(PUBLISHED_BGNBD, t, [x], [t_x], [T])[0]
    assert closed_form == pytest.approx(integrated, rel=1e-6)


def test_fitted_predictions_match_published_parameters(published_summary: pd.DataFrame) -> None:
    s = published_summary
    fitted = clv_models.fit_bgnbd(s["x"], s["t_x"], s["T"])
    few = s[s["ID"].isin([1, 2, 3, 100, 1000, 1516, 2357])]
    ours = clv_models.expected_purchases(fitted, 39, few["x"], few["t_x"], few["T"])
    published = clv_models.expected_purchases(PUBLISHED_BGNBD, 39, few["x"], few["t_x"], few["T"])
    assert ours == pytest.approx(published, rel=0.02)


def test_summary_from_orders_reproduces_the_published_summary(
    sample_orders: pd.DataFrame, published_summary: pd.DataFrame
) -> None:
    ours = clv.summary_from_orders(sample_orders, "1997-09-30", period="W")
    merged = published_summary.merge(
        ours, left_on="ID", right_on="account_id", suffixes=("", "_ours")
    )
    assert len(merged) == len(published_summary) == len(ours) == 2357
    assert (merged["x_ours"] == merged["x"]).all()
    # The published file rounds to 2 decimals (half up), hence the 0.005 tolerance.
    for column in ("t_x", "T", "zbar"):
        error = (merged[f"{column}_ours"] - merged[column]).abs().max()
        assert error <= 0.005 + 1e-9, column


def test_summary_from_orders_on_a_hand_made_book() -> None:
    # A: 01-01 (10), 01-08 (5 + 7 same day -> one transaction of 12), 01-22 (20); 03-01 is after.
    # B: one purchase on 01-15.  Calibration ends 01-29.
    orders = pd.DataFrame(
        {
            "account_id": ["A", "A", "A", "A", "B", "A"],
            "order_date": pd.to_datetime(
                ["1997-01-01", "1997-01-08", "1997-01-08", "1997-01-22", "1997-01-15", "1997-03-01"]
            ),
            "amount": [10.0, 5.0, 7.0, 20.0, 3.0, 99.0],
        }
    )
    weeks = clv.summary_from_orders(orders, "1997-01-29").set_index("account_id")
    assert weeks.loc["A", ["x", "t_x", "T", "zbar"]].tolist() == [2, 3.0, 4.0, 16.0]
    assert weeks.loc["B", ["x", "t_x", "T", "zbar"]].tolist() == [0, 0.0, 2.0, 0.0]
    assert weeks.loc["A", "monetary"] == 42.0
    days = clv.summary_from_orders(orders, "1997-01-29", period="D").set_index("account_id")
    assert days.loc["A", ["t_x", "T"]].tolist() == [21.0, 28.0]


def test_expected_average_spend_by_hand() -> None:
    # (gamma + x zbar) p / (p x + q - 1) and, for x = 0, the population mean p gamma / (q - 1).
    spend = clv_models.expected_average_spend(PUBLISHED_GG, [2, 0], [22.35, 0.0])
    assert spend[0] == pytest.approx((15.44 + 2 * 22.35) * 6.25 / (6.25 * 2 + 3.74 - 1))
    assert spend[1] == pytest.approx(6.25 * 15.44 / 2.74)


def test_customer_lifetime_value_discounting() -> None:
    args = (PUBLISHED_BGNBD, PUBLISHED_GG, [2], [30.43], [38.86], [22.35])
    weeks = 12 * clv_models.WEEKS_PER_MONTH
    purchases = clv_models.expected_purchases(PUBLISHED_BGNBD, weeks, [2], [30.43], [38.86])[0]
    spend = clv_models.expected_average_spend(PUBLISHED_GG, [2], [22.35])[0]
    undiscounted = clv_models.customer_lifetime_value(*args, months=12, monthly_discount_rate=0.0)[
        0
    ]
    assert undiscounted == pytest.approx(purchases * spend)
    discounted = clv_models.customer_lifetime_value(*args, months=12, monthly_discount_rate=0.01)[0]
    # Every month's value is divided by between 1.01 and 1.01**12.
    assert undiscounted / 1.01**12 < discounted < undiscounted / 1.01
    one_month = clv_models.customer_lifetime_value(*args, months=1, monthly_discount_rate=0.01)[0]
    first = clv_models.expected_purchases(
        PUBLISHED_BGNBD, clv_models.WEEKS_PER_MONTH, [2], [30.43], [38.86]
    )[0]
    assert one_month == pytest.approx(first * spend / 1.01)


def test_bad_model_inputs_are_rejected() -> None:
    with pytest.raises(ParameterError, match=r"position 1 .*t_x must satisfy 0 <= t_x <= T"):
        clv_models.fit_bgnbd([1, 2], [1.0, 5.0], [3.0, 4.0])
    with pytest.raises(ParameterError, match="x must be a whole number"):
        clv_models.probability_alive(PUBLISHED_BGNBD, [1.5], [1.0], [3.0])
    with pytest.raises(ParameterError, match="one value per customer"):
        clv_models.expected_purchases(PUBLISHED_BGNBD, 10, [1, 2], [1.0], [3.0])
    with pytest.raises(ParameterError, match="monthly_discount_rate"):
        clv_models.customer_lifetime_value(
            PUBLISHED_BGNBD, PUBLISHED_GG, [1], [1.0], [3.0], [5.0], 12, 1.5
        )
    with pytest.raises(ParameterError, match="period 'M'"):
        clv.summary_from_orders(
            pd.DataFrame(
                {"account_id": [1], "order_date": pd.to_datetime(["1997-01-01"]), "amount": [1.0]}
            ),
            "1997-02-01",
            period="M",
        )
