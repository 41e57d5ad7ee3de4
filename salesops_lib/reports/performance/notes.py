"""One-sentence findings of the performance report (escaped HTML paragraphs).

Every function takes a :class:`~salesops_lib.reports.performance.diagnosis.Diagnosis`; a section
whose snapshot tables are empty shows the sentence of :func:`~salesops_lib.reports.base.needs`.
"""

from __future__ import annotations

from salesops_lib.analytics.performance import risk
from salesops_lib.reports import missing_data, narrative
from salesops_lib.reports.performance.diagnosis import Diagnosis, has_quotas, section_gap


def attainment_note(diagnosis: Diagnosis) -> narrative.Html:
    """One sentence on the spread of rep attainment for the period."""
    if gap := section_gap(diagnosis, "attainment", "the spread of rep attainment"):
        return gap
    if not has_quotas(diagnosis):
        return missing_data.missing_note("Rep attainment needs quotas for the period.")
    d = diagnosis.distribution.iloc[0]
    return narrative.paragraph(
        f"{int(d['reps_with_quota'])} reps have a quota {diagnosis.data.period_label}: "
        f"{narrative.format_pct(d['share_at_or_above_100'])} are at or above 100% and "
        f"{narrative.format_pct(d['share_below_50'])} below 50% (median "
        f"{narrative.format_pct(d['median_attainment'])}); "
        f"{int(d['reps_zero_quota'])} have no quota."
    )


def ramp_note(diagnosis: Diagnosis) -> narrative.Html:
    """Time to full productivity and the region's reps far below their tenure cohort."""
    if gap := section_gap(diagnosis, "ramp", "ramp and time to full productivity"):
        return gap
    months = diagnosis.months_to_productivity
    if not len(diagnosis.ramp):
        return missing_data.missing_note(
            "Ramp needs quotas and hire dates of reps with complete months."
        )
    text = (
        f"New reps reach full productivity (90% of the second-year median) after {months} "
        "months in the company's data"
        if months is not None
        else "The company's ramp curve never reaches 90% of the second-year median"
    )
    below = diagnosis.below_cohort
    names = diagnosis.data.reps.set_index("rep_id")["rep_name"]
    if len(below):
        listed = ", ".join(str(names.get(r, r)) for r in below["rep_id"].head(5))
        text += f"; {len(below)} rep(s) here book under half their tenure cohort: {listed}."
    else:
        text += "; no rep here books under half their tenure cohort."
    return narrative.paragraph(text)


def reconciliation_note(diagnosis: Diagnosis) -> narrative.Html:
    """One sentence saying whether start + flows = end for every region."""
    if gap := section_gap(diagnosis, "waterfall", "the waterfall reconciliation"):
        return gap
    recon = diagnosis.reconciliation
    if recon.empty:
        return missing_data.missing_note("Reconciliation needs two snapshots.")
    bad = recon[~recon["reconciles"]]
    if bad.empty:
        return narrative.paragraph(
            f"Start + every flow = end to the cent for all {len(recon)} regions "
            f"between {diagnosis.data.compare_to} and {diagnosis.data.as_of}."
        )
    return narrative.paragraph(
        f"Does not reconcile for: {', '.join(bad['region_id'].astype(str))}."
    )


def bottleneck_note(diagnosis: Diagnosis) -> narrative.Html:
    """The flagged bottlenecks (region and rep level) in words."""
    if gap := section_gap(diagnosis, "funnel", "the bottleneck tests"):
        return gap
    if diagnosis.bottlenecks.empty:
        return missing_data.missing_note("Bottleneck tests need opportunity stage history.")
    flagged = diagnosis.bottlenecks[diagnosis.bottlenecks["is_bottleneck"]]
    parts = [f"{row.region_id}: {row.reason}" for row in flagged.itertuples()]
    text = "Flagged: " + "; ".join(parts) + "." if parts else "No stage is flagged as a bottleneck."
    reps = diagnosis.rep_bottlenecks
    if len(reps):
        names = diagnosis.data.reps.set_index("rep_id")["rep_name"]
        listed = "; ".join(
            f"{names.get(r.owner_rep_id, r.owner_rep_id)}: {r.reason}" for r in reps.itertuples()
        )
        text += f" Reps slower or weaker than the rest of the region: {listed}."
    return narrative.paragraph(text)


def target_note(diagnosis: Diagnosis) -> narrative.Html:
    """Bookings against target over the period's complete months."""
    if gap := section_gap(diagnosis, "target", "bookings against target"):
        return gap
    target = diagnosis.target
    if target.empty:
        return missing_data.missing_note(
            "No complete month of this period has a region target yet: "
            "region targets for a complete month would enable this comparison."
        )
    row = target.iloc[0]
    direction = "above" if row["variance"] >= 0 else "below"
    return narrative.paragraph(
        f"Over the {int(row['months'])} complete month(s) of the period, bookings of "
        f"{narrative.format_money(row['bookings_amount'])} are "
        f"{narrative.format_money(abs(row['variance']))} {direction} the target of "
        f"{narrative.format_money(row['target_amount'])} "
        f"({narrative.format_change(row['variance_pct'])})."
    )


def risk_note(diagnosis: Diagnosis) -> narrative.Html:
    """How many open deals are flagged and how much money they carry."""
    if gap := section_gap(diagnosis, "risks", "deal risk flags"):
        return gap
    risks = diagnosis.risks
    open_deals = diagnosis.data.in_region(diagnosis.data.opportunities)
    open_deals = open_deals[~open_deals["is_closed"].astype(bool)]
    if open_deals.empty:
        return narrative.paragraph("There is no open pipeline, so no deal can be at risk.")
    counts = {flag: int(risks[flag].sum()) for flag in risk.FLAGS} if len(risks) else {}
    detail = ", ".join(f"{n} {flag.replace('_', ' ')}" for flag, n in counts.items() if n)
    return narrative.paragraph(
        f"{len(risks)} of {len(open_deals)} open deals "
        f"({narrative.format_money(float(risks['amount'].sum()) if len(risks) else 0.0)}) "
        f"carry at least one risk flag" + (f": {detail}." if detail else ".")
    )
