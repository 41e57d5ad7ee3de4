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
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.build import BuildContext, BuildStep
from salesops_lib.analytics.segmentation.scope import BOOKING_COLUMNS, segment_scope
from salesops_lib.analytics.segmentation.store_tables import (
    TABLES,
    empty_tables,
    fits_row,
    scope_tables,
    typed,
)
from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.core.errors import ParameterError
from salesops_lib.data.snapshot import snapshot_dates_before

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse


@dataclass(frozen=True)
class ScopeInput:
    """What one scope's segmentation needs (sent to a worker as one task).

    Attributes:
        scope: ``all`` or a region id.
        as_of: The snapshot's as-of date.
        bookings: The scope's order book at ``as_of``.
        compare_to: The previous snapshot's date, or None.
        previous_bookings: The scope's order book at ``compare_to`` (None when there is no
            earlier snapshot or the region is not in it).
    """

    scope: str
    as_of: dt.date
    bookings: pd.DataFrame
    compare_to: dt.date | None
    previous_bookings: pd.DataFrame | None


def scope_bookings(warehouse: Warehouse, scope: str) -> pd.DataFrame:
    """A scope's ``fct_bookings`` rows (:data:`BOOKING_COLUMNS`, typed for the analytics)."""
    frame = warehouse.table("fct_bookings", region=scope, columns=list(BOOKING_COLUMNS))
    return frame.assign(
        order_date=pd.to_datetime(frame["order_date"]).astype("datetime64[ns]"),
        amount=frame["amount"].astype(float),
        discount=frame["discount"].astype(float),
    )


def segment_one_scope(item: ScopeInput) -> dict[str, pd.DataFrame]:
    """Segment one scope and return its rows of every segmentation table (a worker task)."""
    try:
        result = segment_scope(
            item.scope, item.bookings, item.as_of, item.previous_bookings, item.compare_to
        )
    except ParameterError as exc:
        tables = empty_tables()
        tables["an_segmentation_fits"] = typed(
            "an_segmentation_fits", fits_row(None, item.scope, item.as_of, str(exc))
        )
        return tables
    return scope_tables(result)


def scope_inputs(context: BuildContext) -> list[ScopeInput]:
    """Every scope's order books: this snapshot's and the previous weekly snapshot's."""
    from salesops_lib.data.warehouse import Warehouse

    warehouse = context.warehouse
    as_of = warehouse.snapshot.as_of
    scopes = [ALL_REGIONS, *warehouse.region_ids()]
    earlier = snapshot_dates_before(context.snapshots_dir, as_of)
    compare_to = earlier[0] if earlier else None
    previous: dict[str, pd.DataFrame] = {}
    if compare_to is not None:
        with Warehouse.open(compare_to, snapshots_dir=context.snapshots_dir) as old:
            known = set(old.region_ids())
            for scope in scopes:
                if scope == ALL_REGIONS or scope in known:
                    previous[scope] = scope_bookings(old, scope)
    return [
        ScopeInput(scope, as_of, scope_bookings(warehouse, scope), compare_to, previous.get(scope))
        for scope in scopes
    ]


def compute_segmentation(context: BuildContext) -> dict[str, pd.DataFrame]:
    """The build step: every scope segmented, its rows concatenated per table."""
    parts = context.executor.map(segment_one_scope, scope_inputs(context))
    return {
        name: typed(name, pd.concat([part[name] for part in parts], ignore_index=True))
        for name in TABLES
    }


STEPS: tuple[BuildStep, ...] = (
    BuildStep(name="segmentation", tables=TABLES, compute=compute_segmentation),
)
"""The segmentation topic's build steps."""
