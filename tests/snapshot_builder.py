"""Build tiny hand-made snapshots for tests, through the real :class:`SnapshotWriter`.

``build_snapshot(tmp_path, "2024-03-20", {"order_lines": [...]})`` writes one snapshot whose
tables are the given rows; a table that is not given gets :data:`DEFAULT_ROWS`, one consistent
row per table (region ``r1``, rep ``rep1``, account ``acc1``, product ``prod1``, opportunity
``opp1``) that passes every contract. A given row may leave out columns: they are filled from the
table's default row, so a test states only what matters to it. Pass an empty list for an empty
table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import Snapshot, SnapshotWriter, open_snapshot

D = dt.date

DEFAULT_ROWS: dict[str, dict[str, Any]] = {
    "regions": {"region_id": "r1", "region_name": "Region One"},
    "reps": {
        "rep_id": "rep1",
        "rep_name": "Rep One",
        "role": "rep",
        "region_id": "r1",
        "manager_id": None,
        "hire_date": D(2023, 1, 1),
    },
    "accounts": {
        "account_id": "acc1",
        "account_name": "Account One",
        "industry": "Tech",
        "size_band": "SMB",
        "region_id": "r1",
        "owner_rep_id": "rep1",
        "created_date": D(2023, 2, 1),
    },
    "products": {
        "product_id": "prod1",
        "product_name": "Product One",
        "family": "Hardware",
        "list_price": 100.0,
    },
    "order_lines": {
        "order_id": "ord1",
        "line_number": 1,
        "order_date": D(2024, 1, 10),
        "account_id": "acc1",
        "rep_id": "rep1",
        "product_id": "prod1",
        "quantity": 2,
        "unit_price": 100.0,
        "discount": 0.1,
        "amount": 180.0,
        "region_id": None,
        "opportunity_id": None,
    },
    "quotas": {"rep_id": "rep1", "month": D(2024, 1, 1), "quota_amount": 1000.0},
    "region_targets": {"region_id": "r1", "month": D(2024, 1, 1), "target_amount": 5000.0},
    "opportunities": {
        "opportunity_id": "opp1",
        "opportunity_name": "Opportunity One",
        "account_id": "acc1",
        "owner_rep_id": "rep1",
        "product_id": "prod1",
        "created_date": D(2024, 1, 2),
        "stage": "Qualification",
        "amount": 500.0,
        "close_date": D(2024, 6, 30),
        "forecast_category": "Pipeline",
        "push_count": 0,
    },
    "opportunity_stage_history": {
        "opportunity_id": "opp1",
        "sequence": 1,
        "stage": "Prospecting",
        "entered_date": D(2024, 1, 2),
    },
}
"""One consistent default row per table; every contract passes on them."""

DEFAULT_TABLES: dict[str, list[dict[str, Any]]] = {
    name: [row] for name, row in DEFAULT_ROWS.items()
} | {
    "opportunity_stage_history": [
        DEFAULT_ROWS["opportunity_stage_history"],
        {
            "opportunity_id": "opp1",
            "sequence": 2,
            "stage": "Qualification",
            "entered_date": D(2024, 1, 20),
        },
    ]
}
"""The tables used when a test does not give one (the history reaches the opportunity's stage)."""


def arrow_table(
    name: str,
    rows: Sequence[Mapping[str, Any]],
    reps: Sequence[Mapping[str, Any]] | None = None,
) -> pa.Table:
    """Return rows as an Arrow table with the snapshot schema, filling missing columns.

    Args:
        name: Table name from :data:`salesops_lib.data.schema.TABLES`.
        rows: Rows as dicts; missing columns take the table's default value.
        reps: For ``order_lines``: the reps whose region a line without ``region_id`` books in
            (default: the reps of :data:`DEFAULT_TABLES` and :data:`TWO_REGION_TABLES`).

    Returns:
        The table with exactly the schema's columns and types.
    """
    if name == "order_lines":
        known = [*DEFAULT_TABLES["reps"], *TWO_REGION_TABLES["reps"]]
        rows = _with_line_regions(rows, known if reps is None else reps)
    schema = TABLES[name].schema
    filled = [{**DEFAULT_ROWS[name], **dict(row)} for row in rows]
    columns = {col: [row[col] for row in filled] for col in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


def build_snapshot(
    tmp_path: Path,
    as_of: str | dt.date,
    tables: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    snapshots_dir: Path | None = None,
) -> Snapshot:
    """Write a snapshot of hand-made rows and open it (verified).

    Args:
        tmp_path: A temporary folder; the snapshot goes to ``tmp_path / "snapshots"``.
        as_of: The snapshot's as-of date.
        tables: Rows per table; tables not given get :data:`DEFAULT_TABLES`.
        snapshots_dir: Write here instead of ``tmp_path / "snapshots"``.

    Returns:
        The opened snapshot.
    """
    given = dict(tables or {})
    unknown = sorted(set(given) - set(TABLES))
    if unknown:
        raise KeyError(f"unknown table(s) {unknown}; known: {list(TABLES)}")
    folder = snapshots_dir or tmp_path / "snapshots"
    with SnapshotWriter(folder, as_of, source="tests.snapshot_builder", created_at="test") as w:
        for name in TABLES:
            rows = given.get(name, DEFAULT_TABLES[name])
            w.write_table(name, arrow_table(name, rows, given.get("reps", DEFAULT_TABLES["reps"])))
    return open_snapshot(folder, as_of)


def _with_line_regions(
    lines: Sequence[Mapping[str, Any]], reps: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Give each order line without a ``region_id`` its rep's region (a line books in the rep's)."""
    rep_region = {
        row.get("rep_id", DEFAULT_ROWS["reps"]["rep_id"]): row.get(
            "region_id", DEFAULT_ROWS["reps"]["region_id"]
        )
        for row in reps
    }
    filled = []
    for line in lines:
        row = dict(line)
        if row.get("region_id") is None:
            rep = row.get("rep_id", DEFAULT_ROWS["order_lines"]["rep_id"])
            row["region_id"] = rep_region.get(rep, DEFAULT_ROWS["reps"]["region_id"])
        filled.append(row)
    return filled


def _ol(
    order_id: str,
    line: int,
    day: dt.date,
    account: str,
    rep: str,
    product: str,
    quantity: int,
    price: float,
    discount: float,
    amount: float,
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "line_number": line,
        "order_date": day,
        "account_id": account,
        "rep_id": rep,
        "product_id": product,
        "quantity": quantity,
        "unit_price": price,
        "discount": discount,
        "amount": amount,
    }


def _opp(
    opp_id: str,
    account: str,
    rep: str,
    product: str,
    created: dt.date,
    stage: str,
    amount: float,
    close: dt.date,
    category: str,
    pushes: int,
) -> dict[str, Any]:
    return {
        "opportunity_id": opp_id,
        "opportunity_name": f"{opp_id} deal",
        "account_id": account,
        "owner_rep_id": rep,
        "product_id": product,
        "created_date": created,
        "stage": stage,
        "amount": amount,
        "close_date": close,
        "forecast_category": category,
        "push_count": pushes,
    }


TWO_REGION_AS_OF = D(2024, 3, 20)
"""As-of date of :data:`TWO_REGION_TABLES` (a Wednesday)."""

TWO_REGION_TABLES: dict[str, list[dict[str, Any]]] = {
    "regions": [
        {"region_id": "east", "region_name": "East"},
        {"region_id": "west", "region_name": "West"},
    ],
    "reps": [
        {
            "rep_id": "m1",
            "rep_name": "Mona Manager",
            "role": "manager",
            "region_id": "east",
            "manager_id": None,
            "hire_date": D(2020, 6, 15),
        },
        {
            "rep_id": "r1",
            "rep_name": "Rita Rep",
            "role": "rep",
            "region_id": "east",
            "manager_id": "m1",
            "hire_date": D(2023, 1, 20),
        },
        {
            "rep_id": "r2",
            "rep_name": "Raj Rep",
            "role": "rep",
            "region_id": "east",
            "manager_id": "m1",
            "hire_date": D(2023, 11, 25),
        },
        {
            "rep_id": "r3",
            "rep_name": "Wes Rep",
            "role": "rep",
            "region_id": "west",
            "manager_id": None,
            "hire_date": D(2024, 3, 20),
        },
    ],
    "accounts": [
        {
            "account_id": "a1",
            "account_name": "Acme",
            "industry": "Tech",
            "size_band": "SMB",
            "region_id": "east",
            "owner_rep_id": "r1",
            "created_date": D(2022, 5, 1),
        },
        {
            "account_id": "a2",
            "account_name": "Beta",
            "industry": "Retail",
            "size_band": "Enterprise",
            "region_id": "east",
            "owner_rep_id": "r2",
            "created_date": D(2023, 12, 1),
        },
        {
            "account_id": "a3",
            "account_name": "Gamma",
            "industry": "Tech",
            "size_band": "Mid-Market",
            "region_id": "west",
            "owner_rep_id": "r3",
            "created_date": D(2024, 3, 1),
        },
        {
            "account_id": "a4",
            "account_name": "Delta",
            "industry": "Health",
            "size_band": "SMB",
            "region_id": "west",
            "owner_rep_id": "r3",
            "created_date": D(2024, 3, 2),
        },
    ],
    "products": [
        {"product_id": "p1", "product_name": "Widget", "family": "Hardware", "list_price": 100.0},
        {"product_id": "p2", "product_name": "Cloud", "family": "Software", "list_price": 50.0},
    ],
    "order_lines": [
        _ol("ord1", 1, D(2024, 1, 15), "a1", "r1", "p1", 2, 100.0, 0.0, 200.0),
        _ol("ord1", 2, D(2024, 1, 15), "a1", "r1", "p1", 1, 100.0, 0.1, 90.0),
        _ol("ord2", 1, D(2024, 1, 31), "a1", "r1", "p1", 1, 100.0, 0.25, 75.0),
        _ol("ord3", 1, D(2024, 2, 4), "a2", "r2", "p2", 3, 50.0, 0.0, 150.0),
        _ol("ord4", 1, D(2024, 3, 1), "a3", "r3", "p2", 4, 50.0, 0.5, 100.0),
        _ol("ord5", 1, D(2024, 3, 18), "a2", "r2", "p2", 1, 33.33, 0.1, 30.0),
    ],
    "quotas": [
        {"rep_id": "r1", "month": D(2024, 1, 1), "quota_amount": 400.0},
        {"rep_id": "r1", "month": D(2024, 2, 1), "quota_amount": 300.0},
        {"rep_id": "r2", "month": D(2024, 2, 1), "quota_amount": 200.0},
        {"rep_id": "r2", "month": D(2024, 3, 1), "quota_amount": 0.0},
        {"rep_id": "r3", "month": D(2024, 3, 1), "quota_amount": 250.0},
        {"rep_id": "r1", "month": D(2024, 4, 1), "quota_amount": 500.0},
    ],
    "region_targets": [
        {"region_id": "east", "month": D(2024, 1, 1), "target_amount": 500.0},
        {"region_id": "east", "month": D(2024, 2, 1), "target_amount": 300.0},
        {"region_id": "east", "month": D(2024, 3, 1), "target_amount": 0.0},
        {"region_id": "west", "month": D(2024, 3, 1), "target_amount": 200.0},
        {"region_id": "west", "month": D(2024, 4, 1), "target_amount": 100.0},
    ],
    "opportunities": [
        _opp(
            "o1",
            "a1",
            "r1",
            "p1",
            D(2024, 1, 2),
            "Negotiation",
            1000.0,
            D(2024, 4, 30),
            "Commit",
            1,
        ),
        _opp(
            "o2", "a2", "r2", "p2", D(2024, 1, 5), "Closed Won", 500.0, D(2024, 2, 4), "Closed", 0
        ),
        _opp(
            "o3",
            "a3",
            "r3",
            "p2",
            D(2024, 3, 10),
            "Prospecting",
            300.0,
            D(2024, 5, 31),
            "Pipeline",
            0,
        ),
    ],
    "opportunity_stage_history": [
        {
            "opportunity_id": "o1",
            "sequence": 1,
            "stage": "Prospecting",
            "entered_date": D(2024, 1, 2),
        },
        {
            "opportunity_id": "o1",
            "sequence": 2,
            "stage": "Qualification",
            "entered_date": D(2024, 1, 10),
        },
        {"opportunity_id": "o1", "sequence": 3, "stage": "Proposal", "entered_date": D(2024, 2, 1)},
        {
            "opportunity_id": "o1",
            "sequence": 4,
            "stage": "Negotiation",
            "entered_date": D(2024, 3, 5),
        },
        {
            "opportunity_id": "o2",
            "sequence": 1,
            "stage": "Prospecting",
            "entered_date": D(2024, 1, 5),
        },
        {
            "opportunity_id": "o2",
            "sequence": 2,
            "stage": "Proposal",
            "entered_date": D(2024, 1, 20),
        },
        {
            "opportunity_id": "o2",
            "sequence": 3,
            "stage": "Closed Won",
            "entered_date": D(2024, 2, 4),
        },
        {
            "opportunity_id": "o3",
            "sequence": 1,
            "stage": "Prospecting",
            "entered_date": D(2024, 3, 10),
        },
    ],
}
"""A hand-made two-region company (2 regions, 3 reps + 1 manager, 4 accounts, 2 products, 6 order
lines, 3 opportunities with histories, quotas and targets) that passes every contract. Its expected
mart values are worked out by hand in tests/test_marts.py."""


def build_two_region_snapshot(
    tmp_path: Path, overrides: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
) -> Snapshot:
    """Write :data:`TWO_REGION_TABLES` (with some tables replaced) as a snapshot and open it.

    Args:
        tmp_path: A temporary folder.
        overrides: Tables to use instead of the fixture's.

    Returns:
        The opened snapshot, as of :data:`TWO_REGION_AS_OF`.
    """
    return build_snapshot(tmp_path, TWO_REGION_AS_OF, {**TWO_REGION_TABLES, **(overrides or {})})
