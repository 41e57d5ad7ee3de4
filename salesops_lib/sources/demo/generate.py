"""Orchestration: draw the company once, then write every weekly snapshot in one pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesops_lib.core import config
from salesops_lib.core.errors import ParameterError, SnapshotError
from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import SnapshotWriter, parse_as_of
from salesops_lib.sources.demo import calendar as cal
from salesops_lib.sources.demo import (
    comp,
    orders,
    outlook,
    pipeline,
    plan,
    planning,
    shape,
    truth,
)
from salesops_lib.sources.demo import submissions as demo_submissions

SCALES: dict[str, int] = {
    "tiny": 5_000,
    "small": 50_000,
    "default": 500_000,
    "large": 10_000_000,
    "huge": 50_000_000,
}
"""Named sizes, in order lines."""
MIN_LINES, MAX_LINES = 1_000, 100_000_000
MAX_WEEKS = 104
_SHAPE_KEY, _PIPELINE_KEY, _ORDERS_KEY = 1, 2, 3


def resolve_scale(scale: str | int) -> int:
    """Return the number of order lines for a named scale or a number.

    Args:
        scale: ``tiny``, ``small``, ``default``, ``large``, ``huge``, or a whole number of order
            lines between 1,000 and 100,000,000 (an int or a string of digits).

    Returns:
        The number of order lines.

    Raises:
        ParameterError: If the scale is not one of those.
    """
    allowed = f"use one of {', '.join(SCALES)} or a whole number from {MIN_LINES} to {MAX_LINES}"
    if isinstance(scale, str) and scale.strip().lower() in SCALES:
        return SCALES[scale.strip().lower()]
    if isinstance(scale, bool) or not isinstance(scale, int | str):
        raise ParameterError(f"demo scale {scale!r} is not allowed; {allowed}")
    text = str(scale).strip().replace("_", "")
    if not text.isdigit() or not MIN_LINES <= int(text) <= MAX_LINES:
        raise ParameterError(f"demo scale {scale!r} is not allowed; {allowed}")
    return int(text)


def _rng(seed: int, *key: int) -> np.random.Generator:
    """A generator for one part of the data, independent of the order parts are made in."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _check_inputs(seed: int, weeks: int, regions: Sequence[config.Region]) -> None:
    """Reject a negative or non-integer seed, weeks outside 1-104, or no regions."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"demo seed {seed!r} is not allowed; use a whole number >= 0")
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_WEEKS:
        raise ParameterError(f"demo weeks {weeks!r} is not allowed; use 1 to {MAX_WEEKS}")
    if not regions:
        raise ParameterError("demo regions: at least one region is needed")


def generate_demo(
    snapshots_dir: Path,
    as_of: str | dt.date,
    seed: int = 42,
    scale: str | int = "default",
    weeks: int = 13,
    regions: Sequence[config.Region] | None = None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write ``weeks`` weekly demo snapshots ending at ``as_of``, with planted signals.

    Args:
        snapshots_dir: Folder that receives one sub-folder per snapshot.
        as_of: The last snapshot's date (``YYYY-MM-DD`` or a date).
        seed: Random seed; the same inputs give byte-identical files.
        scale: Named scale or number of order lines (see :func:`resolve_scale`).
        weeks: Number of weekly snapshots (as_of, as_of - 7 days, ...).
        regions: Sales regions; defaults to the configured regions.
        overwrite: Replace existing snapshots of the same dates.
        progress: Called with a short message as the work advances.

    Returns:
        The snapshot folders, oldest first.

    Raises:
        SnapshotError: If ``as_of`` is not a date, or a snapshot exists and ``overwrite`` is off.
        ParameterError: If the scale, seed, weeks or regions are not allowed.
    """
    report = progress or (lambda _message: None)
    last = parse_as_of(as_of)
    if isinstance(last, dt.datetime):
        last = last.date()
    lines = resolve_scale(scale)
    region_list = list(regions if regions is not None else config.settings().regions)
    _check_inputs(seed, weeks, region_list)
    calendar = cal.build_calendar(last, weeks)
    snapshots_dir = Path(snapshots_dir)
    existing = [d for d in calendar.snapshot_dates if (snapshots_dir / d.isoformat()).exists()]
    if existing and not overwrite:
        raise SnapshotError(
            f"snapshot {snapshots_dir / existing[0].isoformat()} already exists "
            f"({len(existing)} of {weeks} dates taken); pass overwrite/--force to replace"
        )

    report(f"drawing the company ({lines:,} order lines requested)")
    company = shape.build_shape(
        _rng(seed, _SHAPE_KEY), region_list, calendar, shape.account_count(lines)
    )
    plants = planning.choose_plants(company, calendar)  # planning report's plants (issue 15)
    company = planning.plant_territory(company, plants)
    deals = pipeline.build_pipeline(
        _rng(seed, _PIPELINE_KEY), company, calendar, pipeline.opportunity_count(lines)
    )
    # won deals are booked as orders (issue 12): the run-rate orders make up the other lines
    won_lines = pipeline.booked_line_count(deals, calendar)
    volume = orders.plan_volume(company, calendar, max(lines - won_lines, lines // 2))
    quota_to_as_of = np.bincount(  # per region, not the planned months
        company.rep_region,
        volume.quotas_to_as_of(calendar).sum(axis=1),
        len(company.region_ids),
    )
    deals = pipeline.price_deals(
        deals, company, calendar, plan.WON_DEALS_SHARE_OF_BOOKINGS * quota_to_as_of
    )
    answers = truth.build_truth(company, deals, calendar, seed, lines)
    answers["planning"] = planning.planning_truth(company, calendar, plants)
    answers["quarter_outlook"] = outlook.quarter_outlook(company, calendar, volume)  # issue 12
    answers["forecast_call"] = demo_submissions.truth_entry(company, calendar)  # issue 16
    truth_file = truth.truth_bytes(answers)
    planned = planning.plant_quotas(volume, company, calendar, plants)
    quotas, targets = _quota_tables(company, calendar, planned)
    comp_demo = comp.build_comp_demo(  # compensation plans and payouts (issue 14)
        company,
        calendar,
        quotas,
        lambda m: _month_lines(company, calendar, volume, deals, m, seed),
    )
    truth_file = truth.truth_bytes({**answers, "compensation": comp_demo.truth})
    source = f"demo seed={seed} order_lines={lines} weeks={weeks}"

    with ExitStack() as stack:
        writers = []
        for day in calendar.snapshot_dates:
            writer = stack.enter_context(
                SnapshotWriter(
                    snapshots_dir,
                    day,
                    source=source,
                    created_at=f"{day.isoformat()}T00:00:00+00:00",
                    overwrite=overwrite,
                )
            )
            _write_small_tables(writer, company, deals, calendar, day, quotas, targets)
            writer.write_extra("_truth.json", truth_file)
            comp.write_extras(writer, comp_demo)
            writer.stream("order_lines")
            writers.append(writer)
        for m, month in enumerate(calendar.months):
            report(f"order lines {month:%Y-%m} ({m + 1}/{len(calendar.months)})")
            _append_by_date(writers, _month_lines(company, calendar, volume, deals, m, seed))
        report(f"publishing {weeks} snapshot(s)")
    report("forecast submissions")  # the weekly forecast call (issue 16)
    demo_submissions.write_demo_submissions(snapshots_dir, company, calendar, seed)
    return [snapshots_dir / d.isoformat() for d in calendar.snapshot_dates]


def _month_lines(
    company: shape.Shape,
    calendar: cal.Calendar,
    volume: orders.Volume,
    deals: pipeline.Pipeline,
    month: int,
    seed: int,
) -> pa.Table:
    """The order lines of one month of the window: run-rate orders and the deals won in it.

    Args:
        company: The company.
        calendar: The demo's dates.
        volume: The run-rate's calibration.
        deals: The pipeline (its deals won in the month are booked as orders).
        month: Index into ``calendar.months``.
        seed: The demo's seed.

    Returns:
        The month's lines, sorted by date, then order id and line number.
    """
    first = calendar.months[month]
    run_rate = orders.sample_month(
        company, calendar, volume, month, _rng(seed, _ORDERS_KEY, first.year, first.month)
    )
    last = min(cal.day_number(cal.next_month(first)) - 1, cal.day_number(calendar.as_of))
    won = pipeline.booked_lines(deals, company, cal.day_number(first), last)
    if won.num_rows == 0:
        return run_rate
    lines = pa.concat_tables([run_rate, won])
    return lines.take(
        pc.sort_indices(
            lines,
            sort_keys=[("order_date", "ascending"), ("order_id", "ascending"),
                       ("line_number", "ascending")],
        )
    )  # fmt: skip


def _append_by_date(writers: list[SnapshotWriter], chunk: pa.Table) -> None:
    """Append to each snapshot the chunk's lines dated on or before its as-of date."""
    if chunk.num_rows == 0:
        return
    dates = chunk["order_date"]
    newest = pc.max(dates).as_py()
    for writer in writers:
        if writer.as_of >= newest:
            writer.append("order_lines", chunk)
        else:
            part = chunk.filter(pc.less_equal(dates, pa.scalar(writer.as_of, pa.date32())))
            if part.num_rows:
                writer.append("order_lines", part)


def _write_small_tables(
    writer: SnapshotWriter,
    company: shape.Shape,
    deals: pipeline.Pipeline,
    calendar: cal.Calendar,
    day: dt.date,
    quotas: pa.Table,
    targets: pa.Table,
) -> None:
    """Write every table but the order lines for one snapshot date."""
    prices = orders.prices_on(company, calendar, cal.day_number(day))
    writer.write_table("regions", company.regions_table)
    writer.write_table("reps", company.reps_table)
    writer.write_table("accounts", company.accounts_table)
    writer.write_table(
        "products",
        pa.table(
            {
                "product_id": company.product_ids,
                "product_name": company.product_names,
                "family": np.array(plan.FAMILIES, dtype=object)[company.product_family],
                "list_price": prices,
            },
            schema=TABLES["products"].schema,
        ),
    )
    writer.write_table("quotas", quotas)
    writer.write_table("region_targets", targets)
    writer.write_table(
        "opportunities", pipeline.opportunities_on(deals, company, day, calendar.as_of)
    )
    writer.write_table("opportunity_stage_history", pipeline.stage_history_on(deals, day))


def _quota_tables(
    company: shape.Shape, calendar: cal.Calendar, volume: orders.Volume
) -> tuple[pa.Table, pa.Table]:
    """Quotas per rep and month from the hire month on, and region targets (sum of quotas).

    Both run through the plan's last month (``Calendar.plan_months``), after the as-of month.
    """
    months = np.array(calendar.plan_months, dtype="datetime64[D]")
    hire_month = company.rep_hire_day.astype("datetime64[D]").astype("datetime64[M]")
    has_quota = months.astype("datetime64[M]")[None, :] >= hire_month[:, None]
    rep, month = np.nonzero(has_quota)
    amounts = np.maximum(volume.quotas[rep, month], 100.0)
    quotas = pa.table(
        {
            "rep_id": pa.array(company.rep_ids).take(pa.array(rep)),
            "month": pa.array(months[month]),
            "quota_amount": pa.array(amounts),
        },
        schema=TABLES["quotas"].schema,
    )
    n_regions = len(company.region_ids)
    region = company.rep_region[rep]
    sums = np.zeros((n_regions, len(months)))
    np.add.at(sums, (region, month), amounts)
    target_region, target_month = np.divmod(np.arange(n_regions * len(months)), len(months))
    targets = pa.table(
        {
            "region_id": pa.array(np.array(company.region_ids, dtype=object)[target_region]),
            "month": pa.array(months[target_month]),
            "target_amount": pa.array(np.round(sums.ravel(), 2)),
        },
        schema=TABLES["region_targets"].schema,
    )
    return quotas, targets
