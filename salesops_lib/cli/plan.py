"""Planning commands: ``salesops plan quotas`` and ``salesops plan territories`` (issue 15).

Both read one snapshot (the latest, or ``--as-of``) and write a proposal as CSV for review:

* ``plan quotas``: next year's top-down quotas in the snapshot's ``quotas`` schema (rep_id,
  month, quota_amount), so the attainment and compensation code can run on it; per region the
  amounts add up to the region's planning target x (1 + over-assignment) to the cent.
* ``plan territories``: the fewest account moves that bring every territory within the
  tolerance of its region's mean potential (account_id, region_id, from_rep, to_rep,
  potential). Account names are left out on purpose: a CSV cell from CRM text could be read as
  a spreadsheet formula.

The numbers are the planning report's (:mod:`salesops_lib.reports.planning`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from salesops_lib.cli.app import _say, app, handles_errors

if TYPE_CHECKING:
    import pandas as pd

    from salesops_lib.reports.planning.load import PlanningData

plan = typer.Typer(
    help="Planning proposals as CSV for review: next year's quotas, territory moves.",
    no_args_is_help=True,
)
app.add_typer(plan, name="plan")

QUOTA_COLUMNS = ["rep_id", "month", "quota_amount"]
MOVE_COLUMNS = ["account_id", "region_id", "from_rep", "to_rep", "potential"]

AsOf = Annotated[str, typer.Option("--as-of", help="Snapshot date YYYY-MM-DD (default: latest).")]
Region = Annotated[str, typer.Option("--region", help="A region id, or 'all' (default).")]
Output = Annotated[
    Path, typer.Option("--output", help="CSV file to write (replaced if it exists).")
]


def _load(as_of: str, region: str, **parameters: object) -> PlanningData:
    """Open the snapshot, check the parameters and the region, and read the planning data."""
    from salesops_lib.core.config import ALL_REGIONS, settings
    from salesops_lib.core.errors import ParameterError
    from salesops_lib.data.warehouse import Warehouse
    from salesops_lib.reports.planning.load import check_parameters, load_planning

    with Warehouse.open(as_of or None, snapshots_dir=settings().snapshots_dir) as warehouse:
        known = warehouse.region_ids()
        if region != ALL_REGIONS and region not in known:
            raise ParameterError(
                f"--region {region!r} is not in snapshot {warehouse.snapshot.snapshot_id}; "
                f"allowed: {', '.join(known)} or {ALL_REGIONS!r}"
            )
        checked = check_parameters(warehouse.as_of, **parameters)  # type: ignore[arg-type]
        return load_planning(warehouse, region, checked)


def _write_csv(frame: pd.DataFrame, output: Path) -> None:
    """Write ``frame`` to ``output`` whole or not at all (a temporary file renamed into place)."""
    from salesops_lib.core.errors import ParameterError

    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise ParameterError(f"--output {output}: folder {folder} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=".plan-", suffix=".csv", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            frame.to_csv(stream, index=False, float_format="%.2f")
        os.replace(temporary, output)
    except OSError as exc:
        raise ParameterError(f"--output {output}: cannot write ({exc.strerror or exc})") from exc


@plan.command("quotas")
@handles_errors
def plan_quotas(
    year: Annotated[int, typer.Option("--year", help="Planning year (January to December).")],
    growth: Annotated[
        float,
        typer.Option(
            "--growth",
            help="Target growth over the same month a year earlier, for the months without a "
            "target in the snapshot (0.1 = +10%).",
        ),
    ],
    output: Output,
    method: Annotated[
        str,
        typer.Option("--method", help="Allocation basis: prior_year, t12m, potential or even."),
    ] = "t12m",
    over_assignment: Annotated[
        float, typer.Option("--over-assignment", help="Quota above target (0.1 = 10%).")
    ] = 0.1,
    region: Region = "all",
    as_of: AsOf = "",
) -> None:
    """Write next year's top-down quotas (the snapshot's quotas schema) as CSV."""
    from salesops_lib.reports.planning.compute import (
        month_seasonality,
        region_targets_for_year,
        top_down_proposal,
    )

    data = _load(
        as_of,
        region,
        planning_year=year,
        target_growth=growth,
        over_assignment=over_assignment,
        method=method,
    )
    targets = region_targets_for_year(data)
    quotas = top_down_proposal(data, targets, month_seasonality(data))
    _write_csv(quotas[QUOTA_COLUMNS], output)
    total_target = float(targets["target_amount"].sum())
    _say(
        f"{output}: {len(quotas):,} quota rows for {quotas['rep_id'].nunique()} reps, "
        f"{data.parameters.planning_year}; total {quotas['quota_amount'].sum():,.2f} = target "
        f"{total_target:,.2f} x (1 + {data.parameters.over_assignment:g}) "
        f"(snapshot {data.context.snapshot_id}, method {data.parameters.method})"
    )


@plan.command("territories")
@handles_errors
def plan_territories(
    tolerance: Annotated[
        float,
        typer.Option("--tolerance", help="Allowed deviation from the region's mean (0.1 = 10%)."),
    ],
    output: Output,
    region: Region = "all",
    key_accounts: Annotated[
        str,
        typer.Option("--key-accounts", help="Comma-separated account ids that keep their owner."),
    ] = "",
    as_of: AsOf = "",
) -> None:
    """Write the fewest account moves that balance every territory, as CSV."""
    from salesops_lib.analytics.planning import rebalance_territories

    data = _load(as_of, region, tolerance=tolerance, key_accounts=key_accounts)
    present = set(data.accounts["account_id"])
    reps = data.reps.loc[data.reps["role"] == "rep", ["rep_id", "region_id"]]
    proposal = rebalance_territories(
        data.accounts,
        tolerance=data.parameters.tolerance,
        key_accounts=[a for a in data.parameters.key_accounts if a in present],
        reps=reps,
    )
    moves = proposal.moves.sort_values(["region_id", "account_id"])[MOVE_COLUMNS]
    _write_csv(moves, output)
    before = int((~proposal.before["within_tolerance"]).sum())
    after = int((~proposal.after["within_tolerance"]).sum())
    _say(
        f"{output}: {len(moves):,} account moves, {moves['potential'].sum():,.2f} of potential; "
        f"territories outside +-{data.parameters.tolerance:.0%}: {before} before, {after} after "
        f"({proposal.status}; snapshot {data.context.snapshot_id})"
    )
    if proposal.reason:
        _say(f"not balanced: {proposal.reason}")
