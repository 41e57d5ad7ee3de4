"""The snapshot tables: names, columns and parquet types (schema version 2).

One snapshot holds one parquet file per table below. Every producer (the demo generator, and
later the importers) writes exactly these columns in this order; the loader and the staging SQL
read them. Money is stored as float64 and cast to DECIMAL in staging, so sums in the warehouse
are exact: order-line and deal amounts keep the source's precision (DECIMAL(18, 6); an import
writes them unrounded, so totals equal the source sum to the cent), other money is in cents
(DECIMAL(18, 2)). Rounding happens only for display. Dates are parquet DATE (date32).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from salesops_lib.core.stages import DEFAULT_STAGE_MODEL
from salesops_lib.core.stages import FORECAST_CATEGORIES as ALL_FORECAST_CATEGORIES

SCHEMA_VERSION = 2

STAGES: tuple[str, ...] = DEFAULT_STAGE_MODEL.names
"""The DEFAULT stage model's stages in funnel order (the demo's). A workspace may configure its
CRM's own stages (:mod:`salesops_lib.core.stages`): code that reads a snapshot uses the
warehouse's ``stage_model`` / ``ref_stages``, never these names."""

OPEN_STAGES: tuple[str, ...] = DEFAULT_STAGE_MODEL.open_stages
FORECAST_CATEGORIES: tuple[str, ...] = ALL_FORECAST_CATEGORIES
"""Won deals are 'Closed', lost ones 'Omitted'; open deals use the first three."""

SIZE_BANDS: tuple[str, ...] = ("SMB", "Mid-Market", "Enterprise")
UNKNOWN_SIZE_BAND = "Unknown"
"""Size band of an account the source does not describe (an importer's placeholder account)."""
ACCEPTED_SIZE_BANDS: tuple[str, ...] = (*SIZE_BANDS, UNKNOWN_SIZE_BAND)
REP_ROLES: tuple[str, ...] = ("rep", "manager")


@dataclass(frozen=True)
class Table:
    """One snapshot table.

    Attributes:
        name: Table name; also the parquet file stem (``<name>.parquet``).
        grain: What one row is, in words.
        key: Columns that together identify a row.
        schema: Column names and parquet types, in file order.
    """

    name: str
    grain: str
    key: tuple[str, ...]
    schema: pa.Schema

    @property
    def columns(self) -> list[str]:
        """Column names in file order."""
        return list(self.schema.names)


def _schema(*fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype, nullable=nullable) for name, dtype, nullable in fields])


S, D, F, I32 = pa.string(), pa.date32(), pa.float64(), pa.int32()

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "regions",
            "one row per sales region",
            ("region_id",),
            _schema(("region_id", S, False), ("region_name", S, False)),
        ),
        Table(
            "reps",
            "one row per sales rep or first-line manager",
            ("rep_id",),
            _schema(
                ("rep_id", S, False),
                ("rep_name", S, False),
                ("role", S, False),
                ("region_id", S, False),
                ("manager_id", S, True),
                ("hire_date", D, False),
            ),
        ),
        Table(
            "accounts",
            "one row per customer account",
            ("account_id",),
            _schema(
                ("account_id", S, False),
                ("account_name", S, False),
                ("industry", S, False),
                ("size_band", S, False),
                ("region_id", S, False),
                ("owner_rep_id", S, False),
                ("created_date", D, False),
            ),
        ),
        Table(
            "products",
            "one row per product in the catalogue",
            ("product_id",),
            _schema(
                ("product_id", S, False),
                ("product_name", S, False),
                ("family", S, False),
                ("list_price", F, False),
            ),
        ),
        Table(
            "order_lines",
            "one row per line of a booked order; region_id is the region the line was booked in "
            "(a customer may buy in several regions), opportunity_id the won deal it books "
            "(null for run-rate business)",
            ("order_id", "line_number"),
            _schema(
                ("order_id", S, False),
                ("line_number", I32, False),
                ("order_date", D, False),
                ("account_id", S, False),
                ("rep_id", S, False),
                ("product_id", S, False),
                ("quantity", I32, False),
                ("unit_price", F, False),
                ("discount", F, False),
                ("amount", F, False),
                ("region_id", S, False),
                ("opportunity_id", S, True),
            ),
        ),
        Table(
            "quotas",
            "one row per rep and calendar month (month = first day of the month)",
            ("rep_id", "month"),
            _schema(("rep_id", S, False), ("month", D, False), ("quota_amount", F, False)),
        ),
        Table(
            "region_targets",
            "one row per region and calendar month (month = first day of the month)",
            ("region_id", "month"),
            _schema(("region_id", S, False), ("month", D, False), ("target_amount", F, False)),
        ),
        Table(
            "opportunities",
            "one row per opportunity, in the state it had on the snapshot's as-of date",
            ("opportunity_id",),
            _schema(
                ("opportunity_id", S, False),
                ("opportunity_name", S, False),
                ("account_id", S, False),
                ("owner_rep_id", S, False),
                ("product_id", S, False),
                ("created_date", D, False),
                ("stage", S, False),
                ("amount", F, False),
                ("close_date", D, False),
                ("forecast_category", S, False),
                ("push_count", I32, False),
            ),
        ),
        Table(
            "opportunity_stage_history",
            "one row per stage an opportunity entered, up to the as-of date",
            ("opportunity_id", "sequence"),
            _schema(
                ("opportunity_id", S, False),
                ("sequence", I32, False),
                ("stage", S, False),
                ("entered_date", D, False),
            ),
        ),
    )
}
"""Every snapshot table, by name."""


def table(name: str) -> Table:
    """Return the table definition called ``name``.

    Args:
        name: A table name such as ``"order_lines"``.

    Returns:
        The table's definition.

    Raises:
        KeyError: If no table has that name; the message lists the known tables.
    """
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}") from None
