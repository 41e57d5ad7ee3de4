"""Compensation inputs read from a snapshot, for ``salesops comp`` without input files.

Credits come from the mart ``fct_bookings`` (one credit per order line: ``rep_id``,
``order_date`` as ``credit_date``, ``amount``, ``order_id`` as ``deal_id``, ``product_family``,
``split_pct`` 100), monthly quotas from ``fct_quota_plan`` (``month`` as ``period_start``,
``quota_amount`` as ``quota``; the engine sums months into the plan period), hire dates from
``dim_reps``, and the snapshot's own cancellations and plans files when it has them. The
readers are the analytics store's (:mod:`.build`), so the command and the store see the same
inputs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salesops_lib.analytics.compensation.build import (
    cancellations_of,
    credits_of,
    plan_book_of,
    quotas_of,
    reps_of,
)
from salesops_lib.analytics.compensation.model import PlanBook
from salesops_lib.data.warehouse import Warehouse


@dataclass(frozen=True)
class SnapshotInputs:
    """Everything the payout engine needs from one snapshot.

    Attributes:
        as_of: The snapshot's as-of date.
        snapshot_id: The snapshot's id (its folder name).
        checksum: The snapshot's checksum (recorded in the payout ledger as the inputs' checksum).
        credits: ``rep_id, credit_date, amount, deal_id, product_family, split_pct``.
        quotas: Monthly ``rep_id, period_start, quota``.
        hire_dates: ``rep_id, hire_date``.
        cancellations: ``deal_id, cancel_date`` from the snapshot's extra file, or ``None``.
        book: The snapshot's plans (extra file ``comp_plans.yml``), or ``None``.
    """

    as_of: dt.date
    snapshot_id: str
    checksum: str
    credits: pd.DataFrame
    quotas: pd.DataFrame
    hire_dates: pd.DataFrame
    cancellations: pd.DataFrame | None
    book: PlanBook | None


def read_snapshot_inputs(
    as_of: str | dt.date | None = None, snapshots_dir: Path | None = None
) -> SnapshotInputs:
    """Open a snapshot (the latest by default) and read the compensation inputs from it.

    Args:
        as_of: The snapshot's date (``YYYY-MM-DD``); ``None`` = the latest.
        snapshots_dir: Folder of snapshots; defaults to the configured one.

    Returns:
        The inputs, as new frames.

    Raises:
        SnapshotError: If there is no such snapshot or it does not match its manifest.
        CompPlanError: If the snapshot's plans file is invalid.
        CompInputError: If the snapshot's cancellations file is invalid.
    """
    with Warehouse.open(as_of, snapshots_dir=snapshots_dir) as warehouse:
        reps = reps_of(warehouse)
        return SnapshotInputs(
            as_of=warehouse.snapshot.as_of,
            snapshot_id=warehouse.snapshot.snapshot_id,
            checksum=warehouse.snapshot.checksum,
            credits=credits_of(warehouse),
            quotas=quotas_of(warehouse),
            hire_dates=reps[["rep_id", "hire_date"]].reset_index(drop=True),
            cancellations=cancellations_of(warehouse),
            book=plan_book_of(warehouse),
        )
