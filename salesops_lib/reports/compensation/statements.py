"""Rep statements: one self-contained HTML page per rep (no scripts, no external assets).

A statement shows one rep's own numbers only: OTE and plan, quota after ramp and proration,
attainment, earned / paid / held / draws / clawbacks / true-up per period, every line of the
report's period (each credited deal with its tier, rate and amount, and each SPIF, clawback,
draw or true-up line), and the plans file as it was in the snapshot. Every text from data
(names, ids, deal ids, the plan text) is escaped.

A regional run publishes them under ``reports/<as_of>/<region>/statements/<rep_id>.html``: the
runner gives the notebook an attachments folder (parameter ``attachments_dir``), and
:func:`write_statements` writes ``statements/`` into it (see ``salesops_lib.runs.attachments``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from salesops_lib.core.errors import ParameterError
from salesops_lib.reports import narrative
from salesops_lib.reports.compensation.load import CompReport
from salesops_lib.reports.compensation.summary import payouts_gap

STATEMENTS_DIR = "statements"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_STYLE = (
    "body{font-family:Helvetica,Arial,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
    "th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    "pre{background:#f6f6f6;padding:1em;font-size:85%;white-space:pre-wrap}"
    ".note{color:#666}"
)
PERIOD_COLUMNS = {
    "period": "Period",
    "quota": "Quota (after ramp, proration)",
    "credit": "Credit",
    "attainment": "Attainment",
    "commission": "Earned commission",
    "spif": "SPIF",
    "clawback": "Clawbacks",
    "draw": "Draws",
    "draw_recovery": "Draw recovered",
    "true_up": "True-up",
    "held": "Held",
    "payout": "Paid",
}
LINE_COLUMNS = {
    "kind": "Kind",
    "deal_id": "Deal",
    "credit_date": "Credited",
    "credit": "Credit",
    "tier": "Tier",
    "rate": "Rate",
    "amount": "Amount",
    "note": "Note",
}


def safe_rep_id(rep_id: str) -> str:
    """Check that a rep id can name a file (letters, digits, ``_.-``; not starting with a dot).

    Raises:
        ParameterError: If it cannot.
    """
    if not isinstance(rep_id, str) or not _SAFE_ID.match(rep_id):
        raise ParameterError(
            f"rep id {rep_id!r} cannot name a statement file: use letters, digits, '_', '.', '-'"
        )
    return rep_id


def _cell(value: object, money: bool = False, pct: bool = False) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if money:
        return f"{float(value):,.2f}"
    if pct:
        return f"{float(value) * 100:.1f}%"
    return html.escape(str(value))


def _table(frame: pd.DataFrame, labels: dict[str, str], money: set[str], pct: set[str]) -> str:
    columns = [c for c in labels if c in frame.columns]
    head = "".join(f"<th>{html.escape(labels[c])}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{_cell(row[c], c in money, c in pct)}</td>" for c in columns)
        + "</tr>"
        for _, row in frame.iterrows()
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def statement_html(report: CompReport, rep_id: str) -> str:
    """The statement page of one rep of the report.

    Args:
        report: The compensation report (its region's data).
        rep_id: A rep with payouts in the report.

    Returns:
        A complete HTML document.

    Raises:
        ParameterError: If the rep has no payouts in the report.
    """
    payouts = report.payouts[report.payouts["rep_id"] == rep_id].sort_values("period_start")
    if payouts.empty:
        raise ParameterError(f"rep {rep_id!r} has no payouts in this report")
    assigned = report.assignments[report.assignments["rep_id"] == rep_id]
    name = str(payouts["rep_name"].iloc[0]) if "rep_name" in payouts else rep_id
    terms = assigned.sort_values("start_date").iloc[-1] if not assigned.empty else None
    period = (
        report.period if report.period in set(payouts["period"]) else payouts["period"].iloc[-1]
    )
    current = payouts[payouts["period"] == period].iloc[0]
    lines = report.lines[(report.lines["rep_id"] == rep_id) & (report.lines["period"] == period)]
    lines = lines.sort_values(["kind", "credit_date", "deal_id", "tier"], kind="stable")
    plan_list = ", ".join(
        f"{r.plan_id} ({r.plan_name}) from {pd.Timestamp(r.start_date):%Y-%m-%d}"
        + (f" to {pd.Timestamp(r.end_date):%Y-%m-%d}" if pd.notna(r.end_date) else "")
        for r in assigned.itertuples()
    )
    ote = narrative.format_money(float(terms["ote"])) if terms is not None else "n/a"
    facts = [
        ("Rep", f"{name} ({rep_id})"),
        ("Region", str(current.get("region_id", ""))),
        ("Plan(s)", plan_list or "none"),
        ("On-target earnings (year)", ote),
        ("Period", str(period)),
        ("Quota after ramp and proration", f"{float(current['quota']):,.2f}"),
        ("Attainment", _cell(current["attainment"], pct=True)),
        ("Paid this period", f"{float(current['payout']):,.2f}"),
    ]
    facts_html = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts
    )
    money = {
        "quota",
        "credit",
        "commission",
        "spif",
        "clawback",
        "draw",
        "draw_recovery",
        "true_up",
        "held",
        "payout",
        "amount",
    }
    title = f"Compensation statement: {name}, {period}"
    plan_text = report.book.text if report.book is not None else "(no plans file)"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><table>{facts_html}</table>"
        "<h2>Periods</h2>"
        + _table(payouts, PERIOD_COLUMNS, money, {"attainment"})
        + f"<h2>Lines of {html.escape(str(period))}</h2>"
        "<p class='note'>Every credited deal with its tier, rate and amount (exact; the period "
        "total is rounded to the cent once), and every SPIF, clawback, draw and true-up line.</p>"
        + _table(lines, LINE_COLUMNS, {"credit", "amount"}, {"rate"})
        + f"<h2>The plan as it was ({html.escape(report.plan_source)})</h2>"
        f"<pre>{html.escape(plan_text)}</pre>"
        f"<p class='note'>Snapshot {html.escape(report.context.snapshot_id)}, "
        f"checksum {html.escape(report.context.snapshot_checksum[:12])}.</p>"
        "</body></html>\n"
    )


def write_statements(report: CompReport, attachments_dir: str) -> narrative.Html:
    """Write one statement per rep of the region into ``<attachments_dir>/statements/``.

    Args:
        report: The compensation report.
        attachments_dir: The run's attachments folder (given by the runner); ``""`` when the
            notebook runs outside the runner (nothing is written).

    Returns:
        A sentence saying what was written, with links to the statements.

    Raises:
        ParameterError: If a rep id cannot name a file.
    """
    if report.context.is_company:
        return narrative.paragraph(
            "Rep statements are published with each region's report (statements/<rep>.html)."
        )
    gap = payouts_gap(report, "the rep statements")
    if gap is not None:
        return gap
    reps = sorted(set(report.payouts["rep_id"].astype(str)))
    if not reps:
        return narrative.paragraph("No rep of this region has payouts: no statements.")
    if not attachments_dir:
        return narrative.paragraph(
            f"{len(reps):,} rep statement(s) are written when the runner publishes this report "
            "(reports/<as_of>/<region>/statements/)."
        )
    folder = Path(attachments_dir) / STATEMENTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for rep in reps:
        target = folder / f"{safe_rep_id(rep)}.html"
        target.write_text(statement_html(report, rep), encoding="utf-8")
    links = "".join(
        f'<li><a href="{STATEMENTS_DIR}/{html.escape(r)}.html">'
        f"{STATEMENTS_DIR}/{html.escape(r)}.html</a></li>"
        for r in reps
    )
    return narrative.Html(
        f"<p>{len(reps):,} rep statement(s) published beside this report, one per rep:</p>"
        f'<ul class="statements">{links}</ul>'
    )
