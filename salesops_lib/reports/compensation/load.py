"""Load the compensation report: the region's payouts from the store, its inputs for what-if.

Payouts and lines come from the analytics store (``an_comp_*``, computed once per snapshot from
the snapshot's own plans file; see :mod:`salesops_lib.analytics.compensation.build`), read for
the report's scope only, so a regional report holds its reps only. The what-if sections re-run
the engine on the region's reps' credits (their bookings), quotas and hire dates, read here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.compensation import load_plan_book, read_cancellations_csv
from salesops_lib.analytics.compensation.build import (
    CANCELLATIONS_FILE,
    INPUT_TABLES,
    PLANS_FILE,
    has_file,
)
from salesops_lib.core.config import settings
from salesops_lib.core.errors import ParameterError
from salesops_lib.reports.base import ReportContext, report_context, store_slice

if TYPE_CHECKING:
    from salesops_lib.analytics.compensation.model import PlanBook
    from salesops_lib.data.warehouse import Warehouse

NOTEBOOK = "40-compensation"
ALTERNATIVE_FILE = "comp_plans_alternative.yml"
"""A snapshot's alternative plans (optional): the what-if compares the plans with it."""
NEEDS: tuple[str, ...] = INPUT_TABLES
"""Snapshot tables the payouts need (the build step computes none without them)."""


@dataclass(frozen=True)
class CompReport:
    """Everything the compensation report shows.

    Attributes:
        context: The report's context.
        book: The snapshot's plans (assignments of the report's reps only), or ``None``.
        plan_source: Where the plans came from (snapshot file name) for the words.
        payouts: Every rep x period payout of the region (store rows, all periods).
        lines: The region's payout lines (every period).
        assignments: The region's plan assignments.
        notes: The store's notes for the region (no plans file, rep with bookings on no plan).
        period: The period the report is about (label), ``""`` when there are no payouts.
        current: The payouts of ``period``.
        credits: The region's reps' credits (for the what-if re-runs).
        quotas: The region's reps' monthly quotas.
        hire_dates: The region's reps' hire dates.
        cancellations: The snapshot's cancelled deals (or ``None``).
        alternative: Alternative plans to compare with (or ``None``).
        alternative_source: Where they came from.
        adjustments: Prior-period adjustments of the latest payout-ledger run for the region.
        ledger_note: What the ledger holds, in words.
    """

    context: ReportContext
    book: PlanBook | None
    plan_source: str
    payouts: pd.DataFrame
    lines: pd.DataFrame
    assignments: pd.DataFrame
    notes: pd.DataFrame
    period: str
    current: pd.DataFrame
    credits: pd.DataFrame
    quotas: pd.DataFrame
    hire_dates: pd.DataFrame
    cancellations: pd.DataFrame | None
    alternative: PlanBook | None
    alternative_source: str
    adjustments: pd.DataFrame
    ledger_note: str

    @property
    def engine_kwargs(self) -> dict[str, object]:
        """The engine's keyword arguments for a re-run of the report's period."""
        return {
            "period": self.period or None,
            "cancellations": self.cancellations,
            "hire_dates": self.hire_dates,
            "as_of": self.context.as_of,
        }


def choose_period(payouts: pd.DataFrame, as_of: dt.date, period: str = "") -> str:
    """The period the report is about: ``period`` if given, else the last one closed by as_of.

    Args:
        payouts: Payout rows (``period``, ``period_end``).
        as_of: The snapshot date.
        period: A period label such as ``2026-Q3``, or ``""``.

    Returns:
        The label, ``""`` when there are no payouts.

    Raises:
        ParameterError: If ``period`` is given but has no payouts.
    """
    labels = sorted(set(payouts["period"].astype(str)))
    if period:
        if period not in labels:
            raise ParameterError(
                f"period {period!r}: no payouts for it; periods with payouts: "
                f"{', '.join(labels[-8:]) or '(none)'}"
            )
        return period
    if payouts.empty:
        return ""
    ends = pd.to_datetime(payouts["period_end"])
    closed = payouts[ends.dt.date <= as_of]
    chosen = closed if not closed.empty else payouts
    last = pd.to_datetime(chosen["period_end"]).max()
    labels_at = chosen.loc[pd.to_datetime(chosen["period_end"]) == last, "period"].astype(str)
    return str(labels_at.mode().sort_values().iloc[0])


def _region_reps(warehouse: Warehouse, context: ReportContext) -> str:
    """SQL filter (with ``?``) selecting the region's reps, or every rep for the company."""
    if context.is_company:
        return "TRUE", []
    return "rep_id IN (SELECT rep_id FROM dim_reps WHERE region_id = ?)", [context.region]


def region_inputs(
    warehouse: Warehouse, context: ReportContext
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Credits, monthly quotas and hire dates of the region's reps (what the store used)."""
    where, params = _region_reps(warehouse, context)
    credits = warehouse.query(
        "SELECT rep_id, order_date AS credit_date, amount, order_id AS deal_id, product_family "
        f"FROM fct_bookings WHERE {where} ORDER BY order_date, order_id, line_number",
        params,
    )
    credits = credits.assign(
        credit_date=pd.to_datetime(credits["credit_date"]),
        amount=credits["amount"].astype(float),
        deal_id=credits["deal_id"].astype(str),
        split_pct=100.0,
    )
    quotas = warehouse.query(
        "SELECT rep_id, month AS period_start, quota_amount AS quota FROM fct_quota_plan "
        f"WHERE {where} ORDER BY rep_id, month",
        params,
    )
    quotas = quotas.assign(
        period_start=pd.to_datetime(quotas["period_start"]), quota=quotas["quota"].astype(float)
    )
    hires = warehouse.query(
        f"SELECT rep_id, hire_date FROM dim_reps WHERE {where} ORDER BY rep_id", params
    )
    return credits, quotas, hires.assign(hire_date=pd.to_datetime(hires["hire_date"]))


def ledger_dir() -> Path:
    """The payout ledger folder (``Settings.comp_ledger_dir``)."""
    return settings().comp_ledger_dir


def latest_adjustments(folder: Path, rep_ids: set[str]) -> tuple[pd.DataFrame, str]:
    """Adjustments posted by the ledger's latest run, for the given reps, and a sentence."""
    from salesops_lib.analytics.compensation.ledger import adjustments_since, list_runs

    runs = list_runs(folder) if folder.is_dir() else pd.DataFrame()
    if runs.empty:
        return pd.DataFrame(), (
            "The payout ledger has no runs yet: nothing has been recorded or locked, so there are "
            "no adjustments to report."
        )
    ids = list(runs["run_id"].astype(str))
    previous = ids[-2] if len(ids) > 1 else None
    found = adjustments_since(folder, previous)
    found = found[found["rep_id"].astype(str).isin(rep_ids)].reset_index(drop=True)
    since = f"since run {previous}" if previous else "in the ledger's first run"
    if found.empty:
        return found, f"No prior-period adjustments {since} (latest run {ids[-1]})."
    return found, f"{len(found):,} prior-period adjustment(s) {since} (latest run {ids[-1]})."


def regional_book(book: PlanBook | None, rep_ids: set[str]) -> PlanBook | None:
    """The plans with the assignments of the given reps only (the same text and version)."""
    if book is None:
        return None
    kept = book.assignments[book.assignments["rep_id"].astype(str).isin(rep_ids)]
    return dataclasses.replace(book, assignments=kept.reset_index(drop=True))


def load_report(
    warehouse: Warehouse, region: str, period: str = "", alternative_plans: str = ""
) -> CompReport:
    """Read the compensation report of one region (or the company).

    Args:
        warehouse: An open warehouse with its store (from ``open_report_warehouse``).
        region: Region id or ``all``.
        period: Payout period label (``2026-Q3``); ``""`` = the last period closed by as_of.
        alternative_plans: A plans file to compare with in the what-if; ``""`` = the snapshot's
            ``comp_plans_alternative.yml`` if it has one.

    Returns:
        The report's data.

    Raises:
        ParameterError: If ``period`` has no payouts.
        CompPlanError: If a plans file is not valid.
    """
    context = report_context(warehouse, region)
    snapshot = warehouse.snapshot
    book = (
        load_plan_book(snapshot.extra_path(PLANS_FILE)) if has_file(warehouse, PLANS_FILE) else None
    )
    payouts = store_slice(warehouse, "an_comp_payouts", context)
    lines = warehouse.table("an_comp_lines", region=None if context.is_company else region)
    current_period = choose_period(payouts, context.as_of, period)
    credits, quotas, hires = region_inputs(warehouse, context)
    cancellations = (
        read_cancellations_csv(snapshot.extra_path(CANCELLATIONS_FILE))
        if has_file(warehouse, CANCELLATIONS_FILE)
        else None
    )
    if alternative_plans:
        alternative, alt_source = load_plan_book(Path(alternative_plans)), alternative_plans
    elif has_file(warehouse, ALTERNATIVE_FILE):
        alternative = load_plan_book(snapshot.extra_path(ALTERNATIVE_FILE))
        alt_source = f"the snapshot's {ALTERNATIVE_FILE}"
    else:
        alternative, alt_source = None, ""
    assignments = store_slice(warehouse, "an_comp_assignments", context)
    reps = set(hires["rep_id"].astype(str))
    book, alternative = regional_book(book, reps), regional_book(alternative, reps)
    adjustments, ledger_note = latest_adjustments(ledger_dir(), set(assignments["rep_id"]))
    return CompReport(
        context=context,
        book=book,
        plan_source=f"the snapshot's {PLANS_FILE}",
        payouts=payouts,
        lines=lines,
        assignments=assignments,
        notes=store_slice(warehouse, "an_comp_notes", context),
        period=current_period,
        current=payouts[payouts["period"].astype(str) == current_period].reset_index(drop=True),
        credits=credits,
        quotas=quotas,
        hire_dates=hires,
        cancellations=cancellations,
        alternative=alternative,
        alternative_source=alt_source,
        adjustments=adjustments,
        ledger_note=ledger_note,
    )
