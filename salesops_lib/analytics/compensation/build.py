"""Compensation tables of the analytics store: every rep's payouts, once per snapshot.

The step reads the snapshot's own plans file (extra file ``comp_plans.yml``, the plans as they
were on the snapshot's date) and cancellations (``comp_cancellations.csv``, optional), the
credits (``fct_bookings``: one credit per order line, the order id as deal id), the monthly
quotas (``fct_quota_plan``) and the hire dates (``dim_reps``), and runs the payout engine over
every period up to the as-of date. Tables:

* ``an_comp_payouts``: one row per scope x rep x period (the engine's payout columns, with
  ``region_id`` and ``rep_name``); scope ``all`` holds every rep, a region's scope its reps;
* ``an_comp_lines``: one row per rep x credited deal x tier slice and per adjustment line, with
  ``region_id`` (read a region's with ``Warehouse.table(..., region=...)``);
* ``an_comp_assignments``: one row per scope x rep x plan assignment (dates, plan, OTE, period);
* ``an_comp_notes``: one row per scope x note (``kind``, ``detail``): why a table is empty, say
  a snapshot without a plans file, or a rep with bookings and no plan.

A snapshot without a plans file, or whose bookings or quotas are empty (:data:`INPUT_TABLES`:
an import without them), gets empty tables and a note, never an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.build import BuildContext, BuildStep
from salesops_lib.core.config import ALL_REGIONS

if TYPE_CHECKING:
    from salesops_lib.analytics.compensation.model import PayoutResult, PlanBook
    from salesops_lib.data.warehouse import Warehouse

PLANS_FILE = "comp_plans.yml"
"""The snapshot's plans file (extra file; written by the demo or the importer)."""
CANCELLATIONS_FILE = "comp_cancellations.csv"
"""The snapshot's cancelled deals (extra file ``deal_id,cancel_date``), optional."""

PAYOUT_TEXT = ("scope", "rep_id", "rep_name", "region_id", "plan_id", "period")
LINE_TEXT = ("rep_id", "region_id", "plan_id", "period", "deal_id", "tier", "kind", "note")
ASSIGNMENT_COLUMNS = (
    "scope",
    "rep_id",
    "rep_name",
    "region_id",
    "plan_id",
    "plan_name",
    "period_grain",
    "start_date",
    "end_date",
    "ote",
    "base_pct",
    "tier_mode",
)
ASSIGNMENT_TEXT = tuple(
    c for c in ASSIGNMENT_COLUMNS if c not in ("start_date", "end_date", "ote", "base_pct")
)
NOTE_COLUMNS = ("scope", "kind", "rep_id", "detail")
INPUT_TABLES: tuple[str, ...] = ("order_lines", "quotas")
"""Snapshot tables the payouts need: credits come from the bookings, attainment from quotas."""


def has_file(warehouse: Warehouse, filename: str) -> bool:
    """Whether the warehouse's snapshot lists the extra file ``filename``."""
    return filename in warehouse.snapshot.manifest.get("files", {})


def plan_book_of(warehouse: Warehouse) -> PlanBook | None:
    """The snapshot's plans (``comp_plans.yml``), or ``None`` when it has none.

    Raises:
        CompPlanError: If the file is there but not valid (``FILE:LINE: rule``).
    """
    from salesops_lib.analytics.compensation import load_plan_book

    if not has_file(warehouse, PLANS_FILE):
        return None
    return load_plan_book(warehouse.snapshot.extra_path(PLANS_FILE))


def cancellations_of(warehouse: Warehouse) -> pd.DataFrame | None:
    """The snapshot's cancelled deals (``deal_id``, ``cancel_date``), or ``None``."""
    from salesops_lib.analytics.compensation import read_cancellations_csv

    if not has_file(warehouse, CANCELLATIONS_FILE):
        return None
    return read_cancellations_csv(warehouse.snapshot.extra_path(CANCELLATIONS_FILE))


def credits_of(warehouse: Warehouse) -> pd.DataFrame:
    """One credit per booked order line: rep_id, credit_date, amount, deal_id, split_pct."""
    frame = warehouse.query(
        "SELECT rep_id, order_date AS credit_date, amount, order_id AS deal_id, "
        "product_family FROM fct_bookings ORDER BY order_date, order_id, line_number"
    )
    return frame.assign(
        credit_date=pd.to_datetime(frame["credit_date"]),
        amount=frame["amount"].astype(float),
        deal_id=frame["deal_id"].astype(str),
        split_pct=100.0,
    )


def quotas_of(warehouse: Warehouse) -> pd.DataFrame:
    """Monthly quotas: rep_id, period_start (first day of the month), quota."""
    frame = warehouse.query(
        "SELECT rep_id, month AS period_start, quota_amount AS quota FROM fct_quota_plan "
        "ORDER BY rep_id, month"
    )
    return frame.assign(
        period_start=pd.to_datetime(frame["period_start"]), quota=frame["quota"].astype(float)
    )


def reps_of(warehouse: Warehouse) -> pd.DataFrame:
    """rep_id, rep_name, region_id, hire_date of every rep."""
    frame = warehouse.query(
        "SELECT rep_id, rep_name, region_id, hire_date FROM dim_reps ORDER BY rep_id"
    )
    return frame.assign(hire_date=pd.to_datetime(frame["hire_date"]))


def _text(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    present = [c for c in columns if c in frame.columns]
    return frame.astype(dict.fromkeys(present, "string")).reset_index(drop=True)


def _notes(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return _text(pd.DataFrame(rows, columns=list(NOTE_COLUMNS)), NOTE_COLUMNS)


def _scoped(frame: pd.DataFrame, region_ids: list[str]) -> pd.DataFrame:
    """The frame once with scope ``all`` and once per region with that region's rows."""
    parts = [frame.assign(scope=ALL_REGIONS)]
    parts += [frame[frame["region_id"] == r].assign(scope=r) for r in region_ids]
    out = pd.concat(parts, ignore_index=True)
    return out[["scope", *[c for c in frame.columns if c != "scope"]]]


def empty_input_tables(warehouse: Warehouse) -> list[str]:
    """The :data:`INPUT_TABLES` the warehouse's snapshot has no rows in."""
    return [name for name in INPUT_TABLES if warehouse.snapshot.row_count(name) == 0]


def empty_tables(
    note: str, region_ids: list[str], kind: str = "no_plans"
) -> dict[str, pd.DataFrame]:
    """The step's tables without rows, and ``note`` (of ``kind``) in every scope."""
    from salesops_lib.analytics.compensation.model import LINE_COLUMNS, PAYOUT_COLUMNS

    payouts = pd.DataFrame(columns=["scope", *PAYOUT_COLUMNS, "region_id", "rep_name"])
    lines = pd.DataFrame(columns=[*LINE_COLUMNS, "region_id"])
    assignments = pd.DataFrame(columns=list(ASSIGNMENT_COLUMNS))
    text = {*PAYOUT_TEXT, *LINE_TEXT, *ASSIGNMENT_TEXT, "amount_exact"}
    flags = {"gate_met", "capped"}
    dates = {"period_start", "period_end", "credit_date", "start_date", "end_date"}
    for frame in (payouts, lines, assignments):
        for column in frame.columns:
            kind = "string" if column in text else "float64"
            kind = "bool" if column in flags else "datetime64[ns]" if column in dates else kind
            frame[column] = frame[column].astype(kind)
    notes = [(s, kind, "", note) for s in (ALL_REGIONS, *region_ids)]
    return {
        "an_comp_payouts": payouts,
        "an_comp_lines": lines,
        "an_comp_assignments": assignments,
        "an_comp_notes": _notes(notes),
    }


def assignment_rows(book: PlanBook, reps: pd.DataFrame) -> pd.DataFrame:
    """One row per assignment with the rep's region and name and the plan's key terms."""
    plans = pd.DataFrame(
        [
            {
                "plan_id": p.plan_id,
                "plan_name": p.name,
                "period_grain": p.period,
                "ote": float(p.ote),
                "base_pct": float(p.base_pct),
                "tier_mode": p.tier_mode,
            }
            for p in book.plans.values()
        ]
    )
    out = book.assignments[["rep_id", "plan_id", "start_date", "end_date"]].merge(
        plans, on="plan_id", how="left"
    )
    out = out.merge(reps[["rep_id", "rep_name", "region_id"]], on="rep_id", how="left")
    return out.assign(region_id=out["region_id"].fillna("")).sort_values(
        ["rep_id", "start_date"], kind="stable"
    )


def payout_tables(
    result: PayoutResult, reps: pd.DataFrame, assignments: pd.DataFrame, region_ids: list[str]
) -> dict[str, pd.DataFrame]:
    """The engine's result as store tables (regions and names joined, scoped)."""
    who = reps[["rep_id", "rep_name", "region_id"]]
    payouts = result.payouts.merge(who, on="rep_id", how="left")
    payouts = payouts.assign(region_id=payouts["region_id"].fillna(""))
    lines = result.lines.merge(who[["rep_id", "region_id"]], on="rep_id", how="left")
    lines = lines.assign(region_id=lines["region_id"].fillna(""))
    return {
        "an_comp_payouts": _text(_scoped(payouts, region_ids), PAYOUT_TEXT),
        "an_comp_lines": _text(lines, LINE_TEXT),
        "an_comp_assignments": _text(
            _scoped(assignments, region_ids)[list(ASSIGNMENT_COLUMNS)], ASSIGNMENT_TEXT
        ),
    }


def compute_compensation(context: BuildContext) -> dict[str, pd.DataFrame]:
    """Payouts and lines of every rep on a plan, from the snapshot's plans and bookings.

    Args:
        context: The build's context.

    Returns:
        The step's tables (see the module docstring); empty with a note without a plans file.
    """
    from salesops_lib.analytics.compensation import calculate_payouts

    warehouse = context.warehouse
    region_ids = list(warehouse.region_ids())
    book = plan_book_of(warehouse)
    if book is None:
        return empty_tables(
            f"snapshot {warehouse.snapshot.snapshot_id} has no {PLANS_FILE}: no plans, no payouts",
            region_ids,
        )
    missing = empty_input_tables(warehouse)
    if missing:
        return empty_tables(
            f"snapshot {warehouse.snapshot.snapshot_id} has no {' and no '.join(missing)}: "
            "no payouts",
            region_ids,
            kind="no_inputs",
        )
    reps = reps_of(warehouse)
    credits = credits_of(warehouse)
    on_plan = set(book.assignments["rep_id"])
    result = calculate_payouts(
        book,
        credits[credits["rep_id"].isin(on_plan)].reset_index(drop=True),
        quotas_of(warehouse),
        cancellations=cancellations_of(warehouse),
        hire_dates=reps[["rep_id", "hire_date"]],
        as_of=warehouse.snapshot.as_of,
    )
    tables = payout_tables(result, reps, assignment_rows(book, reps), region_ids)
    region_of = dict(zip(reps["rep_id"], reps["region_id"], strict=True))
    notes: list[tuple[str, str, str, str]] = []
    for rep in sorted(set(credits["rep_id"]) - on_plan):
        region = str(region_of.get(rep, ""))
        text = f"rep {rep} has bookings but is on no plan in {PLANS_FILE}"
        notes += [(ALL_REGIONS, "no_plan", rep, text), (region, "no_plan", rep, text)]
    tables["an_comp_notes"] = _notes(notes)
    return tables


STEPS: tuple[BuildStep, ...] = (
    BuildStep(
        name="compensation",
        tables=("an_comp_payouts", "an_comp_lines", "an_comp_assignments", "an_comp_notes"),
        compute=compute_compensation,
    ),
)
"""The compensation build step."""
