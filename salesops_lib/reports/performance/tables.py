"""The performance report's tables, formatted for display.

Every function takes a :class:`~salesops_lib.reports.performance.diagnosis.Diagnosis` and returns
a :class:`~salesops_lib.reports.charts.DisplayTable`, or one sentence: what data would enable the
table (:func:`~salesops_lib.reports.base.needs`) or why it is empty.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from salesops_lib.core.frames import to_cents
from salesops_lib.reports import charts, missing_data, narrative
from salesops_lib.reports.performance.diagnosis import (
    Diagnosis,
    has_quotas,
    pvm_missing_sentence,
    section_gap,
)


def attainment_table(diagnosis: Diagnosis) -> Any:
    """Attainment of the region (or company) and its managers for the period, formatted."""
    if gap := section_gap(diagnosis, "attainment", "the attainment table"):
        return gap
    if not has_quotas(diagnosis):
        return missing_data.missing_note(
            "No quota is set for this period: load quotas to see attainment."
        )
    region = diagnosis.region_attainment.assign(
        level="Region", name=diagnosis.data.context.region_name
    )
    names = diagnosis.data.reps.set_index("rep_id")["rep_name"]
    managers = diagnosis.manager_attainment.assign(
        level="Manager",
        name=diagnosis.manager_attainment["manager_id"].map(names).fillna("(no manager)"),
    )
    table = pd.concat([region, managers], ignore_index=True)
    columns = ["level", "name", "quota_amount", "bookings_amount", "attainment",
               "gap_to_quota", "monthly_run_rate_needed"]  # fmt: skip
    return charts.format_table(
        table[columns],
        money=["quota_amount", "bookings_amount", "gap_to_quota", "monthly_run_rate_needed"],
        pct=["attainment"],
        labels={
            "level": "Level", "name": "Name", "quota_amount": "Quota",
            "bookings_amount": "Bookings", "attainment": "Attainment",
            "gap_to_quota": "Gap to quota", "monthly_run_rate_needed": "Needed per month",
        },
    )  # fmt: skip


def leaderboard_table(diagnosis: Diagnosis, top: int = 5) -> Any:
    """The top and bottom ``top`` reps of the 12-month leaderboard, formatted."""
    if gap := section_gap(diagnosis, "leaderboard", "the 12-month leaderboard"):
        return gap
    board = diagnosis.leaderboard_12m
    if board.empty:
        return missing_data.missing_note(
            "No rep has a quota in each of the last 12 complete months: "
            "12 months of quotas would enable the leaderboard."
        )
    shown = pd.concat([board.head(top), board.tail(top)]).drop_duplicates("rep_id")
    return charts.format_table(
        shown[["rank", "rep_name", "region_id", "quota_amount", "bookings_amount", "attainment"]],
        money=["quota_amount", "bookings_amount"],
        pct=["attainment"],
        labels={
            "rank": "Rank", "rep_name": "Rep", "region_id": "Region",
            "quota_amount": "Quota 12m", "bookings_amount": "Bookings 12m",
            "attainment": "Attainment 12m",
        },
    )  # fmt: skip


def waterfall_table(diagnosis: Diagnosis) -> Any:
    """The waterfall bars (start, every flow, end), formatted."""
    if gap := section_gap(diagnosis, "waterfall", "the pipeline change waterfall"):
        return gap
    if diagnosis.waterfall.empty:
        return missing_data.missing_note(
            "There is no earlier snapshot to compare with: a second weekly snapshot "
            "would enable the pipeline change waterfall."
        )
    return charts.format_table(
        diagnosis.waterfall,
        money=["amount"],
        counts=["deals"],
        labels={"category": "Bar", "amount": "Amount", "deals": "Deals"},
    )


def waterfall_deal_table(diagnosis: Diagnosis, top: int = 15) -> Any:
    """The largest deal-level rows behind the waterfall's flow bars, formatted."""
    if gap := section_gap(diagnosis, "waterfall", "the deals behind the waterfall"):
        return gap
    deals = diagnosis.waterfall_deals
    if deals.empty:
        return missing_data.missing_note(
            "No deal moved in or out of the period's pipeline between the snapshots."
        )
    names = diagnosis.data.opportunities.set_index("opportunity_id")["opportunity_name"]
    largest = deals.reindex(deals["contribution"].abs().sort_values(ascending=False).index)
    largest = largest.head(top).assign(name=lambda f: f["opportunity_id"].map(names))
    return charts.format_table(
        largest[["opportunity_id", "name", "category", "amount_before", "amount_after",
                 "contribution"]],
        money=["amount_before", "amount_after", "contribution"],
        labels={
            "opportunity_id": "Opportunity", "name": "Name", "category": "Category",
            "amount_before": "Amount before", "amount_after": "Amount after",
            "contribution": "Change",
        },
    )  # fmt: skip


def bottleneck_table(diagnosis: Diagnosis) -> Any:
    """Stage tests of the region against the rest of the company, formatted."""
    if gap := section_gap(diagnosis, "funnel", "the bottleneck tests"):
        return gap
    if diagnosis.bottlenecks.empty:
        return missing_data.missing_note("Bottleneck tests need opportunity stage history.")
    table = diagnosis.bottlenecks
    columns = ["region_id", "stage", "median_days_group", "median_days_rest", "time_ratio",
               "time_p_adjusted", "conversion_group", "conversion_rest",
               "conversion_p_adjusted", "is_bottleneck"]  # fmt: skip
    shown = table[columns].assign(
        time_ratio=table["time_ratio"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.2f}x"),
        time_p_adjusted=table["time_p_adjusted"].map(_p),
        conversion_p_adjusted=table["conversion_p_adjusted"].map(_p),
        is_bottleneck=table["is_bottleneck"].map({True: "yes", False: ""}),
        median_days_group=table["median_days_group"].map(_days),
        median_days_rest=table["median_days_rest"].map(_days),
    )
    return charts.format_table(
        shown,
        pct=["conversion_group", "conversion_rest"],
        labels={
            "region_id": "Region", "stage": "Stage", "median_days_group": "Median days",
            "median_days_rest": "Rest of company", "time_ratio": "Time ratio",
            "time_p_adjusted": "p (time)", "conversion_group": "Conversion",
            "conversion_rest": "Rest of company ", "conversion_p_adjusted": "p (conversion)",
            "is_bottleneck": "Bottleneck",
        },
    )  # fmt: skip


def _p(value: float) -> str:
    return "too few deals" if pd.isna(value) else ("<0.001" if value < 0.001 else f"{value:.3f}")


def _days(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.0f}"


def conversion_table(diagnosis: Diagnosis) -> Any:
    """Stage conversion and time in stage, region vs company, formatted."""
    if gap := section_gap(diagnosis, "funnel", "conversion by stage"):
        return gap
    table = diagnosis.conversion
    if table.empty:
        return missing_data.missing_note("Conversion by stage needs opportunity stage history.")
    money_free = [c for c in table.columns if c.startswith("conversion_rate")]
    counts = [c for c in table.columns if c.startswith(("entered", "converted", "stays"))]
    shown = table.assign(**{c: table[c].map(_days) for c in table if c.startswith("median")})
    return charts.format_table(shown, pct=money_free, counts=counts)


def win_rate_table(diagnosis: Diagnosis) -> Any:
    """Win rate and cycle length by product family, deal size band and rep, formatted."""
    if gap := section_gap(diagnosis, "win_rates", "win rates and cycle lengths"):
        return gap
    table = diagnosis.win_rates.assign(
        median_cycle_days=diagnosis.win_rates["median_cycle_days"].map(_days)
    )
    return charts.format_table(
        table,
        pct=["win_rate"],
        counts=["closed", "won"],
        labels={
            "dimension": "By", "group": "Group", "closed": "Closed", "won": "Won",
            "win_rate": "Win rate", "median_cycle_days": "Median cycle (days)",
        },
    )  # fmt: skip


def velocity_table(diagnosis: Diagnosis) -> Any:
    """The four velocity factors for both periods, formatted."""
    if gap := section_gap(diagnosis, "velocity", "sales velocity"):
        return gap
    periods = diagnosis.velocity_periods.assign(
        period=lambda f: f["period_start"].dt.strftime("%Y-%m-%d")
        + " to "
        + f["period_end"].dt.strftime("%Y-%m-%d"),
        cycle_days=lambda f: f["cycle_days"].map(_days),
    )
    return charts.format_table(
        periods[["period", "open_deals", "win_rate", "avg_deal_size", "cycle_days",
                 "velocity_per_day"]],
        money=["avg_deal_size", "velocity_per_day"],
        pct=["win_rate"],
        counts=["open_deals"],
        labels={
            "period": "Period", "open_deals": "Open deals",
            "win_rate": "Win rate (deals closed in the period)",
            "avg_deal_size": "Average won deal", "cycle_days": "Cycle (days)",
            "velocity_per_day": "Velocity per day",
        },
    )  # fmt: skip


def coverage_table(diagnosis: Diagnosis) -> Any:
    """Pipeline coverage of the remaining quota by forecast category, formatted."""
    if gap := section_gap(diagnosis, "coverage", "pipeline coverage"):
        return gap
    table = diagnosis.coverage
    if not has_quotas(diagnosis) or not table["remaining_quota"].iloc[0]:
        return missing_data.missing_note(
            "No quota remains to be covered this period (or no quota is set): "
            "coverage needs a remaining quota."
        )
    shown = table.assign(
        coverage=table["coverage"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.2f}x"),
        cumulative_coverage=table["cumulative_coverage"].map(
            lambda v: "n/a" if pd.isna(v) else f"{v:.2f}x"
        ),
    )
    return charts.format_table(
        shown,
        money=["pipeline_amount", "remaining_quota"],
        counts=["deals"],
        labels={
            "forecast_category": "Forecast category", "deals": "Deals",
            "pipeline_amount": "Pipeline due this period", "remaining_quota": "Quota left",
            "coverage": "Coverage", "cumulative_coverage": "Cumulative coverage",
        },
    )  # fmt: skip


def anomaly_table(diagnosis: Diagnosis) -> Any:
    """Flagged weeks of the region, formatted."""
    if gap := section_gap(diagnosis, "anomalies", "anomalous weeks"):
        return gap
    scored = diagnosis.anomalies
    if scored.empty:
        return missing_data.missing_note("Anomalous weeks need bookings (order lines).")
    flagged = scored[scored["is_anomaly"]]
    if flagged.empty:
        return narrative.paragraph("No week is flagged as anomalous.")
    shown = flagged.assign(
        order_week=flagged["order_week"].dt.strftime("%Y-%m-%d"),
        score=flagged["score"].map(lambda v: f"{v:+.1f}"),
    )
    return charts.format_table(
        shown[["region_id", "order_week", "bookings_amount", "baseline", "residual", "score",
               "direction"]],
        money=["bookings_amount", "baseline", "residual"],
        labels={
            "region_id": "Region", "order_week": "Week of", "bookings_amount": "Bookings",
            "baseline": "Expected", "residual": "Difference", "score": "Score",
            "direction": "Direction",
        },
    )  # fmt: skip


def trend_break_table(diagnosis: Diagnosis) -> Any:
    """Reps whose last 3 months' attainment breaks from their 9 months before, formatted."""
    if gap := section_gap(diagnosis, "trend_breaks", "attainment trend breaks"):
        return gap
    breaks = diagnosis.trend_breaks
    if breaks.empty:
        return narrative.paragraph(
            "No rep's attainment over the last 3 complete months breaks from their 9 months "
            "before (a fall below half, or a rise above double)."
        )
    return charts.format_table(
        breaks.drop(columns=["rep_id", "change_ratio"]),
        pct=["prior_attainment", "recent_attainment"],
        labels={
            "rep_name": "Rep", "region_id": "Region", "prior_attainment": "9 months before",
            "recent_attainment": "Last 3 months", "direction": "Break",
        },
    )  # fmt: skip


def pvm_table(diagnosis: Diagnosis) -> Any:
    """Price, volume and mix effects per product family, formatted."""
    if gap := section_gap(diagnosis, "pvm", "price, volume and mix effects"):
        return gap
    table = diagnosis.pvm
    if table.empty:
        return missing_data.missing_note(pvm_missing_sentence(diagnosis))
    totals = pd.DataFrame([{"product_family": "Total", **table.drop(columns="product_family")
                            .apply(lambda c: int(to_cents(c).sum()) / 100)}])  # fmt: skip
    shown = pd.concat([table, totals], ignore_index=True)
    cols = ["amount_base", "amount_current", "volume_effect", "mix_effect", "price_effect",
            "total_variance"]  # fmt: skip
    return charts.format_table(
        shown,
        money=cols,
        labels={
            "product_family": "Product family", "amount_base": "A year earlier",
            "amount_current": "This period", "volume_effect": "Volume", "mix_effect": "Mix",
            "price_effect": "Price", "total_variance": "Change",
        },
    )  # fmt: skip


def risk_table(diagnosis: Diagnosis, top: int = 15) -> Any:
    """The largest flagged open deals with their reasons, formatted."""
    if gap := section_gap(diagnosis, "risks", "deal risk flags"):
        return gap
    risks = diagnosis.risks
    if risks.empty:
        return narrative.paragraph("No open deal is flagged at risk.")
    names = diagnosis.data.opportunities.set_index("opportunity_id")["opportunity_name"]
    shown = risks.head(top).assign(
        name=lambda f: f["opportunity_id"].map(names),
        close_date=lambda f: f["close_date"].dt.strftime("%Y-%m-%d"),
    )
    return charts.format_table(
        shown[["opportunity_id", "name", "stage", "amount", "close_date", "reasons"]],
        money=["amount"],
        labels={
            "opportunity_id": "Opportunity", "name": "Name", "stage": "Stage",
            "amount": "Amount", "close_date": "Close date", "reasons": "Why",
        },
    )  # fmt: skip
