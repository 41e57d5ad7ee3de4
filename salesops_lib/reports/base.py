"""The small base every report module builds on: context, missing-data guard, headlines,
provenance.

A report module (one per notebook) does three things: *load* its region's slice from the marts
and the analytics store, *compute* what little is left, and return *display objects* a notebook
cell shows. The pieces every report shares live here, once:

* :func:`open_report_warehouse` checks a notebook's ``region`` and ``as_of`` parameters and
  opens the snapshot's warehouse (read-only).
* :class:`ReportContext` is what every report knows about its run: region, display name,
  snapshot id and checksum, the snapshot's region ids and its empty tables.
* :func:`needs` is the one missing-data guard: the sentence that stands in for a section whose
  input tables are empty, or ``None``.
* :class:`Headlines` carries a report's headline numbers to the runner (under
  :data:`HEADLINES_MIMETYPE`); :func:`headline_base` is the part every report's headlines share.
* :func:`report_provenance` ends every report with its data, parameters, code and command.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from salesops_lib.analytics.build import build_store
from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.headlines import HEADLINES_MIMETYPE
from salesops_lib.data.snapshot import list_snapshots
from salesops_lib.reports import missing_data, narrative
from salesops_lib.reports.provenance import provenance as _provenance

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

COMPANY_NAME = "All regions"
"""Display name of the company view (region ``all``)."""


@dataclass(frozen=True)
class ReportContext:
    """What every report knows about its run.

    Attributes:
        region: Region id, or ``all`` for the company view.
        region_name: Display name (untrusted text: escape before HTML).
        as_of: The snapshot's as-of date.
        snapshot_id: The snapshot's id (its as-of date, ``YYYY-MM-DD``).
        snapshot_checksum: The snapshot's content checksum.
        region_ids: Every region id of the snapshot (keys of the chart palette).
        empty_tables: The snapshot's tables without rows.
    """

    region: str
    region_name: str
    as_of: dt.date
    snapshot_id: str
    snapshot_checksum: str
    region_ids: tuple[str, ...]
    empty_tables: frozenset[str] = frozenset()

    @property
    def is_company(self) -> bool:
        """Whether this is the company view (every region)."""
        return self.region == ALL_REGIONS


def open_report_warehouse(region: str, as_of: str, snapshots_dir: Path | None = None) -> Warehouse:
    """Check a report's parameters and open the warehouse they name.

    Args:
        region: Region id or ``all``.
        as_of: Snapshot date ``YYYY-MM-DD``, or ``""`` for the latest snapshot.
        snapshots_dir: Snapshot folder; defaults to the configured one.

    Returns:
        An open :class:`~salesops_lib.data.warehouse.Warehouse`.

    Raises:
        ParameterError: If there is no snapshot for ``as_of`` or the region is not in the
            snapshot; the message lists what is allowed.
    """
    from salesops_lib.data.warehouse import Warehouse

    folder = snapshots_dir or settings().snapshots_dir
    available = [d.isoformat() for d in list_snapshots(folder)]
    if not available:
        raise ParameterError(f"no snapshots in {folder}; create them with `salesops demo`")
    if as_of and as_of not in available:
        raise ParameterError(
            f"as_of {as_of!r}: no snapshot for that date in {folder}; "
            f"available: {', '.join(available[-10:])} (or '' for the latest)"
        )
    warehouse = Warehouse.open(as_of or None, snapshots_dir=folder)  # verified once, here
    if warehouse.store is None:  # first report of this snapshot and code: build, then attach
        warehouse.close()
        built = build_store(as_of or None, snapshots_dir=folder)
        warehouse = Warehouse.open(as_of or None, snapshots_dir=folder, store=built.store)
    region_ids = sorted(warehouse.regions()["region_id"])
    if region != ALL_REGIONS and region not in region_ids:
        warehouse.close()
        raise ParameterError(
            f"region {region!r} is not in snapshot {warehouse.snapshot.snapshot_id}; "
            f"allowed: {', '.join(region_ids)} or {ALL_REGIONS!r}"
        )
    return warehouse


def report_context(warehouse: Warehouse, region: str) -> ReportContext:
    """The context of a report on ``region`` over the warehouse's snapshot.

    Args:
        warehouse: An open warehouse (from :func:`open_report_warehouse`).
        region: Region id or ``all``.

    Returns:
        The report's context.
    """
    regions = warehouse.regions()
    names = dict(zip(regions["region_id"], regions["region_name"], strict=True))
    snapshot = warehouse.snapshot
    return ReportContext(
        region=region,
        region_name=COMPANY_NAME if region == ALL_REGIONS else str(names[region]),
        as_of=snapshot.as_of,
        snapshot_id=snapshot.snapshot_id,
        snapshot_checksum=snapshot.checksum,
        region_ids=tuple(sorted(names)),
        empty_tables=missing_data.empty_tables(snapshot),
    )


def needs(context: ReportContext, tables: Iterable[str], enables: str) -> narrative.Html | None:
    """The missing-data guard: a sentence for a section whose input tables are empty.

    Args:
        context: The report's context.
        tables: Snapshot tables the section needs.
        enables: What the section shows, e.g. ``"the quota attainment tables"``.

    Returns:
        ``<p class="missing">This snapshot has no quotas: loading them would enable ….</p>``,
        or ``None`` when every table the section needs has rows.
    """
    return missing_data.section_gap(context.empty_tables, tables, enables)


def store_slice(warehouse: Warehouse, table: str, context: ReportContext) -> pd.DataFrame:
    """A report's rows of an analytics-store table: those whose ``scope`` is its region.

    Store tables computed at several grains carry a ``scope`` column: a region id for results
    computed over that region alone, ``all`` for results computed over the whole company. A
    regional report reads its own scope only, so it holds its region's data only, and shows
    exactly the numbers the store (and the company report, for the same scope) holds.

    Args:
        warehouse: An open warehouse whose snapshot's store is built.
        table: An ``an_…`` table with a ``scope`` column.
        context: The report's context.

    Returns:
        A new DataFrame, rows in a deterministic order.

    Raises:
        ParameterError: If the table is unknown, the store is not built, or the table has no
            ``scope`` column.
    """
    if "scope" not in warehouse.columns(table):
        raise ParameterError(f"{table} has no scope column; read it with Warehouse.table")
    return warehouse.query(
        f'SELECT * FROM "{table}" WHERE scope = ? ORDER BY ALL', [context.region]
    )


@dataclass(frozen=True)
class Headlines:
    """A display carrying headline numbers under :data:`HEADLINES_MIMETYPE`."""

    values: dict[str, Any]

    def _repr_mimebundle_(self, **_: Any) -> dict[str, Any]:
        return {HEADLINES_MIMETYPE: self.values, "text/plain": f"headlines: {self.values}"}


def headline_base(context: ReportContext) -> dict[str, Any]:
    """The headline entries every report records: region, its name, the snapshot and checksum."""
    return {
        "region": context.region,
        "region_name": context.region_name,
        "snapshot_id": context.snapshot_id,
        "snapshot_checksum": context.snapshot_checksum,
    }


def report_provenance(
    context: ReportContext,
    notebook: str,
    parameters: Mapping[str, Any],
    compared_with: dt.date | None = None,
) -> narrative.Html:
    """The provenance block that ends a report.

    Args:
        context: The report's context.
        notebook: The notebook's stem, e.g. ``"00-overview"``.
        parameters: The notebook's parameters as given.
        compared_with: The earlier snapshot a comparison used, if any.

    Returns:
        The block, ready to display.
    """
    return _provenance(
        notebook,
        context.region,
        context.snapshot_id,
        context.snapshot_checksum,
        parameters,
        compared_with=compared_with,
    )
