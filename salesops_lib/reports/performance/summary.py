"""The performance report's executive summary: sentences generated from the diagnosis.

Each candidate sentence carries the money at stake behind it and names the figure or table of
the report it rests on:

* **attainment**: the gap to quota (or the amount above it) for the period;
* **coverage**: the quota still to book, and how much of it the due pipeline covers;
* **pipeline movement**: the largest flow of the waterfall (absolute amount);
* **bottleneck**: the open pipeline sitting in each flagged stage of the region;
* **anomalous week**: |bookings - expected| of the latest flagged week in the last 52 weeks;
* **bookings variance**: |change| against the same days a year earlier, with its price,
  volume and mix effects;
* **risks**: the amount of open deals carrying a risk flag.

The summary keeps the three to six sentences with the most money at stake, largest first (ties
by the order above). Sentences are plain text; :func:`summary_html` escapes every one (region,
rep and deal names are untrusted CRM text).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from salesops_lib.core.frames import to_cents
from salesops_lib.reports import narrative
from salesops_lib.reports.narrative import format_change, format_money, format_pct
from salesops_lib.reports.performance.diagnosis import Diagnosis

MAX_SENTENCES = 6
"""At most this many sentences in the summary."""


@dataclass(frozen=True)
class SummarySentence:
    """One sentence of the executive summary.

    Attributes:
        topic: What it is about (``attainment``, ``pipeline``, ...).
        money_at_stake: The amount that ranks it (never negative).
        figure: The report figure or table it rests on.
        text: The sentence, naming ``figure`` (plain text, not escaped).
    """

    topic: str
    money_at_stake: float
    figure: str
    text: str


def _cite(text: str, figure: str) -> str:
    return f"{text} (see {figure})."


def attainment_sentence(diagnosis: Diagnosis) -> SummarySentence | None:
    """Attainment for the period, the gap and the run rate needed; None without quotas."""
    region = diagnosis.region_attainment
    if region.empty or region["zero_quota"].iloc[0]:
        return None
    row = region.iloc[0]
    data = diagnosis.data
    figure = "Attainment"
    text = (
        f"{data.context.region_name} is at {format_pct(row['attainment'])} of its quota for "
        f"{data.period_label} ({format_money(row['bookings_amount'])} booked against "
        f"{format_money(row['quota_amount'])})"
    )
    if row["gap_to_quota"] > 0:
        text += (
            f"; closing the {format_money(row['gap_to_quota'])} gap takes "
            f"{format_money(row['monthly_run_rate_needed'])} a month"
        )
        stake = float(row["gap_to_quota"])
    else:
        stake = float(row["bookings_amount"] - row["quota_amount"])
    return SummarySentence("attainment", abs(stake), figure, _cite(text, figure))


def coverage_sentence(diagnosis: Diagnosis) -> SummarySentence | None:
    """How much of the quota left is covered by Commit and by all open pipeline due."""
    coverage = diagnosis.coverage
    if coverage.empty or not coverage["remaining_quota"].iloc[0] or diagnosis.rep_attainment.empty:
        return None
    by = coverage.set_index("forecast_category")
    remaining = float(by["remaining_quota"].iloc[0])
    figure = "Pipeline coverage"
    text = (
        f"Open pipeline due by the end of the period covers "
        f"{by.loc['All open', 'coverage']:.1f}x the {format_money(remaining)} of quota left "
        f"(Commit alone {by.loc['Commit', 'coverage']:.1f}x)"
    )
    shortfall = max(remaining - float(by.loc["Commit", "pipeline_amount"]), 0.0)
    return SummarySentence("coverage", shortfall, figure, _cite(text, figure))


def pipeline_sentence(diagnosis: Diagnosis) -> SummarySentence | None:
    """The period's pipeline from start to end and the largest flow between the snapshots."""
    bars = diagnosis.waterfall
    if bars.empty:
        return None
    amounts = bars.set_index("category")["amount"]
    deals = bars.set_index("category")["deals"]
    flows = amounts.drop(["start", "end"])
    figure = "Pipeline change waterfall"
    start, end = float(amounts["start"]), float(amounts["end"])
    change = "rose" if end > start else ("fell" if end < start else "held")
    text = (
        f"The period's open pipeline {change} from {format_money(start)} to "
        f"{format_money(end)} since {diagnosis.data.compare_to}"
    )
    if not (flows != 0).any():
        return SummarySentence("pipeline", abs(end - start), figure, _cite(text, figure))
    biggest = flows.abs().idxmax()
    text += (
        f"; the largest movement is {str(biggest).replace('_', ' ')} "
        f"({format_money(float(flows[biggest]))} across {int(deals[biggest])} "
        f"{'deal' if int(deals[biggest]) == 1 else 'deals'})"
    )
    return SummarySentence("pipeline", abs(float(flows[biggest])), figure, _cite(text, figure))


def bottleneck_sentences(diagnosis: Diagnosis) -> list[SummarySentence]:
    """One sentence per flagged stage of the region, with the open pipeline sitting in it."""
    tests = diagnosis.bottlenecks
    if tests.empty:
        return []
    data = diagnosis.data
    opportunities = data.opportunities[~data.opportunities["is_closed"].astype(bool)]
    out = []
    for row in tests[tests["is_bottleneck"]].itertuples():
        stuck = opportunities[
            (opportunities["region_id"] == row.region_id) & (opportunities["stage"] == row.stage)
        ]
        stake = int(to_cents(stuck["amount"]).sum()) / 100
        figure = "Funnel and bottlenecks"
        text = (
            f"{row.stage} is a bottleneck in {row.region_id}: {row.reason}; "
            f"{format_money(stake)} of open pipeline sits in that stage"
        )
        out.append(SummarySentence("bottleneck", stake, figure, _cite(text, figure)))
    return out


def anomaly_sentence(diagnosis: Diagnosis, weeks: int = 52) -> SummarySentence | None:
    """The largest flagged week of the last ``weeks`` weeks, by money."""
    scored = diagnosis.anomalies
    if scored.empty:
        return None
    since = pd.Timestamp(diagnosis.data.as_of) - pd.Timedelta(weeks=weeks)
    recent = scored[scored["is_anomaly"] & (scored["order_week"] >= since)]
    if recent.empty:
        return None
    row = recent.loc[recent["residual"].abs().idxmax()]
    figure = "Anomalous weeks"
    more = len(recent) - 1
    text = (
        f"The week of {row['order_week']:%Y-%m-%d} booked {format_money(row['bookings_amount'])}"
        f" in {row['region_id']}, {format_money(abs(row['residual']))} "
        f"{'below' if row['residual'] < 0 else 'above'} the expected "
        f"{format_money(row['baseline'])}"
        + (f" ({more} more week(s) flagged in the last {weeks} weeks)" if more else "")
    )
    return SummarySentence("anomaly", abs(float(row["residual"])), figure, _cite(text, figure))


def variance_sentence(diagnosis: Diagnosis) -> SummarySentence | None:
    """Bookings against the same days a year earlier, split into price, volume and mix."""
    pvm = diagnosis.pvm
    if pvm.empty:
        return None
    total = {c: int(to_cents(pvm[c]).sum()) / 100 for c in pvm.columns if c != "product_family"}
    base = total["amount_base"]
    figure = "Price, volume and mix"
    direction = "up" if total["total_variance"] >= 0 else "down"
    change = format_change(total["total_variance"] / base) if base else "n/a"
    text = (
        f"Bookings {diagnosis.data.period_label} are {direction} "
        f"{format_money(abs(total['total_variance']))} ({change}) on the same days a year "
        f"earlier: price {format_money(total['price_effect'])}, volume "
        f"{format_money(total['volume_effect'])}, mix {format_money(total['mix_effect'])}"
    )
    return SummarySentence("variance", abs(total["total_variance"]), figure, _cite(text, figure))


def risk_sentence(diagnosis: Diagnosis) -> SummarySentence | None:
    """The open deals carrying risk flags and the largest of them."""
    risks = diagnosis.risks
    if risks.empty:
        return None
    stake = int(to_cents(risks["amount"]).sum()) / 100
    top = risks.iloc[0]
    figure = "Deals at risk"
    text = (
        f"{len(risks)} open {'deal' if len(risks) == 1 else 'deals'} worth "
        f"{format_money(stake)} {'carries' if len(risks) == 1 else 'carry'} risk flags; the most "
        f"flagged is {top['opportunity_id']} ({format_money(top['amount'])}: {top['reasons']})"
    )
    return SummarySentence("risk", stake, figure, _cite(text, figure))


def summary_sentences(diagnosis: Diagnosis) -> list[SummarySentence]:
    """The executive summary: up to six sentences, most money at stake first.

    Args:
        diagnosis: Output of :func:`~salesops_lib.reports.performance.diagnosis.diagnose`.

    Returns:
        The sentences, sorted by money at stake (largest first; ties keep the topic order of
        the module docstring).
    """
    candidates: list[SummarySentence | None] = [
        attainment_sentence(diagnosis),
        coverage_sentence(diagnosis),
        pipeline_sentence(diagnosis),
        *bottleneck_sentences(diagnosis),
        anomaly_sentence(diagnosis),
        variance_sentence(diagnosis),
        risk_sentence(diagnosis),
    ]
    found = [c for c in candidates if c is not None]
    ranked = sorted(found, key=lambda s: -s.money_at_stake)  # sorted() is stable
    return ranked[:MAX_SENTENCES]


def summary_html(diagnosis: Diagnosis) -> narrative.Html:
    """The executive summary as an escaped HTML list (one sentence when nothing is known)."""
    sentences = summary_sentences(diagnosis)
    if not sentences:
        return narrative.paragraph(
            "The snapshot holds no quotas, pipeline or bookings for this region: "
            "there is nothing to summarize."
        )
    return narrative.bullet_list([s.text for s in sentences])
