"""The segmentation build step: every segmentation result, once per snapshot and scope.

For each scope (``all``, then every region id) the step runs
:func:`~salesops_lib.analytics.segmentation.scope.segment_scope` on that scope's
``fct_bookings`` rows alone (a region's customers are clustered, scored and valued among that
region's customers only), with the automatic choice of k, and compares with the previous weekly
snapshot (the latest snapshot before this one; earlier snapshots are read here, once). Scopes
run through ``context.executor.map``. The tables and what one row is are listed in
:mod:`salesops_lib.analytics.segmentation.store_tables`; every table has a ``scope`` column.

A scope whose order book cannot be segmented (say, an unusable column in imported data) gets an
``an_segmentation_fits`` row with the error and no other rows, so only its report fails.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.build import BuildContext, BuildStep
from salesops_lib.analytics.segmentation.rfm import rfm_scores, rfm_table
from salesops_lib.analytics.segmentation.scope import BOOKING_COLUMNS, segment_totals
from salesops_lib.analytics.segmentation.store_tables import (
    TABLES,
    empty_tables,
    fits_row,
    scope_tables,
    typed,
)
from salesops_lib.analytics.segmentation.totals import (
    OrderBookTotals,
    order_book_totals,
    warehouse_totals,
)
from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.core.errors import ParameterError
from salesops_lib.data.snapshot import open_snapshot, snapshot_dates_before

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse


@dataclass(frozen=True)
class ScopeInput:
    """What one scope's segmentation needs (sent to a worker as one task).

    Attributes:
        scope: ``all`` or a region id.
        as_of: The snapshot's as-of date.
        bookings: The scope's order book at ``as_of``: its lines, or its totals (what the
            build reads, so it never holds the lines).
        compare_to: The previous snapshot's date, or None.
        previous_bookings: The scope's order book at ``compare_to``, as lines or totals (None
            when there is no earlier snapshot or the region is not in it).
    """

    scope: str
    as_of: dt.date
    bookings: pd.DataFrame | OrderBookTotals
    compare_to: dt.date | None
    previous_bookings: pd.DataFrame | OrderBookTotals | None


def scope_bookings(warehouse: Warehouse, scope: str) -> pd.DataFrame:
    """A scope's ``fct_bookings`` rows (:data:`BOOKING_COLUMNS`, typed for the analytics).

    Text columns are Arrow-backed strings (``string[pyarrow]``), not Python objects: at 10M
    order lines that is the difference between about 0.5 GB and 2.5 GB per order book.
    """
    import pyarrow as pa

    table = warehouse.table_arrow("fct_bookings", region=scope, columns=list(BOOKING_COLUMNS))
    decimals = {
        field.name: pa.float64() for field in table.schema if pa.types.is_decimal(field.type)
    }
    if decimals:
        table = table.cast(
            pa.schema([pa.field(f.name, decimals.get(f.name, f.type)) for f in table.schema])
        )
    text = (pa.string(), pa.large_string())
    frame = table.to_pandas(
        types_mapper=lambda kind: pd.StringDtype("pyarrow") if kind in text else None,
        date_as_object=False,
    )
    return frame.assign(
        order_date=pd.to_datetime(frame["order_date"]).astype("datetime64[ns]"),
        amount=frame["amount"].astype(float),
        discount=frame["discount"].astype(float),
    )


def segment_one_scope(item: ScopeInput) -> dict[str, pd.DataFrame]:
    """Segment one scope and return its rows of every segmentation table (a worker task)."""
    try:
        totals = item.bookings
        if isinstance(totals, pd.DataFrame):
            totals = order_book_totals(totals, item.as_of)
        previous_rfm = None
        if item.compare_to is not None and item.previous_bookings is not None:
            previous = item.previous_bookings
            if isinstance(previous, pd.DataFrame):
                previous_rfm = rfm_table(previous, item.compare_to)
            else:
                previous_rfm = rfm_scores(previous.accounts, item.compare_to)
        result = segment_totals(item.scope, totals, item.as_of, previous_rfm, item.compare_to)
    except ParameterError as exc:
        tables = empty_tables()
        tables["an_segmentation_fits"] = typed(
            "an_segmentation_fits", fits_row(None, item.scope, item.as_of, str(exc))
        )
        return tables
    return scope_tables(result)


@dataclass(frozen=True)
class ScopeSource:
    """Where one scope's order books are: a task that loads its own (small to send).

    Attributes:
        scope: ``all`` or a region id.
        as_of: The snapshot's as-of date.
        snapshots_dir: The snapshots folder (a Dask worker reads the same files).
        compare_to: The previous snapshot's date, or None.
    """

    scope: str
    as_of: dt.date
    snapshots_dir: Path
    compare_to: dt.date | None


def load_scope(source: ScopeSource) -> ScopeInput:
    """Read one scope's order-book totals: this snapshot's and the previous one's RFM totals.

    The totals are computed in DuckDB (:func:`warehouse_totals`), so a task holds about one row
    per customer and purchase day, never the order lines as a frame: the previous snapshot is
    read first (per-customer totals only) and closed before this snapshot is opened.
    """
    from salesops_lib.data.warehouse import Warehouse

    def opened(day: dt.date) -> Warehouse:  # verified once by the build, not per scope
        return Warehouse(open_snapshot(source.snapshots_dir, day, verify=False))

    previous = None
    if source.compare_to is not None:
        with opened(source.compare_to) as old:
            if source.scope == ALL_REGIONS or source.scope in old.region_ids():
                previous = warehouse_totals(old, source.scope, source.compare_to, True)
    with opened(source.as_of) as warehouse:
        totals = warehouse_totals(warehouse, source.scope, source.as_of)
    return ScopeInput(source.scope, source.as_of, totals, source.compare_to, previous)


def segment_from_snapshots(source: ScopeSource) -> dict[str, pd.DataFrame]:
    """Load one scope's order books and segment them (a worker task)."""
    return segment_one_scope(load_scope(source))


def scope_sources(context: BuildContext) -> list[ScopeSource]:
    """Every scope of the snapshot, with the previous weekly snapshot to compare with."""
    warehouse = context.warehouse
    as_of = warehouse.snapshot.as_of
    earlier = snapshot_dates_before(context.snapshots_dir, as_of)
    compare_to = earlier[0] if earlier else None
    return [
        ScopeSource(scope, as_of, Path(context.snapshots_dir), compare_to)
        for scope in [ALL_REGIONS, *warehouse.region_ids()]
    ]


def compute_segmentation(context: BuildContext) -> dict[str, pd.DataFrame]:
    """The build step: every scope segmented, its rows concatenated per table."""
    parts = context.executor.map(segment_from_snapshots, scope_sources(context))
    return {
        name: typed(name, pd.concat([part[name] for part in parts], ignore_index=True))
        for name in TABLES
    }


STEPS: tuple[BuildStep, ...] = (
    BuildStep(name="segmentation", tables=TABLES, compute=compute_segmentation),
)
"""The segmentation topic's build steps."""
