"""Expected payouts of the demo, computed independently of the payout engine.

Plain decimal arithmetic on one quarter's credits and quotas per rep (the order lines the
generator draws), one rep per plan feature: the marginal accelerator, the gate, the period cap,
the SPIF, the retroactive tier, the draw and the clawback. Each entry spells out its formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

MARGINAL_TIERS = ((0, 100, "0.05"), (100, 150, "0.08"), (150, None, "0.10"))
RETRO_TIERS = ((0, 80, "0.03"), (80, 100, "0.05"), (100, None, "0.07"))
GATE_PCT = 50
SPIF_RATE = "0.01"
CENT = Decimal("0.01")
FEATURES = (
    "marginal_accelerator",
    "gate",
    "period_cap",
    "spif",
    "retroactive",
    "draw",
    "clawback",
)


@dataclass(frozen=True)
class TruthInputs:
    """What the expected payouts are computed from.

    Attributes:
        label: The truth quarter (``YYYY-Qn``).
        prev_label: The quarter before it.
        quota_t: Quota per rep of the truth quarter.
        quota_p: Quota per rep of the quarter before.
        credit_t: Credit per rep of the truth quarter.
        credit_p: Credit per rep of the quarter before.
        spif_credit: Credit per rep inside the SPIF window.
        plan_of: Plan id per assigned rep.
        hired_prev_q: Reps hired in the quarter before (2nd quarter on the plan now).
        cancelled: Cancelled deals: (deal id, rep id, deal credit).
        cap: The marginal plan's period cap.
        draw: The new-hire plan's draw per period.
    """

    label: str
    prev_label: str
    quota_t: dict[str, Decimal]
    quota_p: dict[str, Decimal]
    credit_t: dict[str, Decimal]
    credit_p: dict[str, Decimal]
    spif_credit: dict[str, Decimal]
    plan_of: dict[str, str]
    hired_prev_q: set[str]
    cancelled: list[tuple[str, str, Decimal]]
    cap: Decimal
    draw: Decimal


def exact_money(value: float) -> Decimal:
    """A float money value (two decimals at the source) as an exact decimal."""
    return Decimal(repr(float(value))).quantize(CENT, ROUND_HALF_UP)


def marginal_commission(credit: Decimal, quota: Decimal) -> Decimal:
    """Commission of the marginal tiers on one quarter's credit (exact, unrounded)."""
    total = Decimal(0)
    for lower, upper, rate in MARGINAL_TIERS:
        low = quota * lower / 100
        high = credit if upper is None else min(credit, quota * upper / 100)
        if high > low:
            total += (high - low) * Decimal(rate)
    return total


def retro_rate(credit: Decimal, quota: Decimal) -> Decimal:
    """Rate of the retroactive tier reached (a value on a boundary is in the higher tier)."""
    attainment_pct = credit / quota * 100
    rate = Decimal(RETRO_TIERS[0][2])
    for lower, _upper, tier_rate in RETRO_TIERS:
        if attainment_pct >= lower:
            rate = Decimal(tier_rate)
    return rate


def cents(value: Decimal) -> float:
    return float(value.quantize(CENT, ROUND_HALF_UP))


def _entry(
    rep_id: str, plan_id: str, period: str, quota: Decimal, credit: Decimal, **money: Decimal
) -> dict[str, Any]:
    """One expected payout: the inputs and each money figure rounded to cents.

    ``commission`` is earned commission after the gate and before the cap; ``capped_excess``
    the part above the period cap; ``clawback`` the amount taken back (positive).
    """
    keys = ("commission", "capped_excess", "spif", "clawback", "draw")
    parts = {k: money.get(k, Decimal(0)) for k in keys}
    payout = (
        parts["commission"]
        - parts["capped_excess"]
        + parts["spif"]
        - parts["clawback"]
        + parts["draw"]
    )
    return {
        "rep_id": rep_id,
        "plan_id": plan_id,
        "period": period,
        "quota": cents(quota),
        "credit": cents(credit),
        "attainment_pct": float((credit / quota * 100).quantize(Decimal("0.0001"))),
        **{k: cents(v) for k, v in parts.items()},
        "payout": cents(payout),
    }


def _pick(candidates: list[tuple[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """The first candidate by rep id, or ``None``."""
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def expected_payouts(t: TruthInputs) -> dict[str, dict[str, Any] | None]:
    """One expected payout per feature (the first qualifying rep by id), ``None`` if no rep.

    A rep qualifies away from tier and gate boundaries (at least one point of attainment), and
    only for the clawback when one of its deals was cancelled.
    """
    label, cap, draw = t.label, t.cap, t.draw
    cancelled_reps = {rep for _order, rep, _credit in t.cancelled}
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def add(feature: str, rep: str, entry: dict[str, Any], formula: str) -> None:
        found.setdefault(feature, []).append(
            (rep, {**entry, "feature": feature, "formula": formula})
        )

    for rep, quota in sorted(t.quota_t.items()):
        credit = t.credit_t.get(rep, Decimal(0))
        plan_id = t.plan_of.get(rep)
        if rep in cancelled_reps or credit <= 0 or quota <= 0 or plan_id is None:
            continue
        pct = credit / quota * 100
        spif = t.spif_credit.get(rep, Decimal(0)) * Decimal(SPIF_RATE)
        if plan_id == "ae-marginal":
            commission = marginal_commission(credit, quota)
            entry = _entry(
                rep,
                plan_id,
                label,
                quota,
                credit,
                commission=commission,
                capped_excess=max(commission - cap, Decimal(0)),
                spif=spif,
            )
            if 101 <= pct < 149 and commission < cap:
                add(
                    "marginal_accelerator",
                    rep,
                    entry,
                    "0.05 x quota + 0.08 x (credit - quota) + 0.01 x SPIF-window credit",
                )
            elif pct < GATE_PCT - 1:
                gated = _entry(rep, plan_id, label, quota, credit, spif=spif)
                add(
                    "gate",
                    rep,
                    gated,
                    "attainment below 50%: commission 0; SPIF 0.01 x window credit",
                )
            elif commission > cap + 100 and pct < 149:
                add(
                    "period_cap",
                    rep,
                    entry,
                    f"0.05 x quota + 0.08 x excess over quota, capped at {cap}; + SPIF",
                )
            if spif > 0 and GATE_PCT + 1 <= pct < 99 and commission < cap:
                add("spif", rep, entry, "0.05 x credit + 0.01 x credit in the SPIF window")
        elif plan_id == "ae-retro" and 81 <= pct < 99:
            entry = _entry(rep, plan_id, label, quota, credit, commission=credit * Decimal("0.05"))
            add("retroactive", rep, entry, "tier 2 reached (80-100%): 0.05 x the whole credit")
        elif plan_id == "new-hire" and rep in t.hired_prev_q:
            commission = marginal_commission(credit, quota)
            if commission < draw - 100:
                entry = _entry(
                    rep,
                    plan_id,
                    label,
                    quota,
                    credit,
                    commission=commission,
                    draw=draw - commission,
                )
                add(
                    "draw",
                    rep,
                    entry,
                    f"2nd quarter after hire, commission below the draw: paid {draw}",
                )
    for order_id, rep, deal_credit in t.cancelled:
        quota, credit = t.quota_t.get(rep), t.credit_t.get(rep, Decimal(0))
        if t.plan_of[rep] != "ae-retro" or quota is None or rep not in t.quota_p:
            continue
        rate_paid = retro_rate(t.credit_p.get(rep, Decimal(0)), t.quota_p[rep])
        commission = credit * retro_rate(credit, quota)
        clawback = deal_credit * rate_paid
        if credit > 0 and commission > clawback:
            entry = _entry(
                rep, "ae-retro", label, quota, credit, commission=commission, clawback=clawback
            )
            add(
                "clawback",
                rep,
                {
                    **entry,
                    "deal_id": order_id,
                    "deal_credit": cents(deal_credit),
                    "rate_paid": float(rate_paid),
                },
                f"retro commission - {rate_paid} (paid in {t.prev_label}) x deal credit",
            )
    return {f: _pick(found.get(f, [])) for f in FEATURES}
