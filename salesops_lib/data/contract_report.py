"""Contract results as text, and the check that raises on the first failing one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from salesops_lib.core.errors import ContractError
from salesops_lib.data.contracts import CheckResult, run_contracts
from salesops_lib.data.warehouse import Warehouse


def _label(result: CheckResult) -> str:
    column = f".{result.column}" if result.column else ""
    return f"{result.model}{column} {result.check} [{result.rule}]"


def format_results(results: Sequence[CheckResult], show_passing: bool = True) -> str:
    """Format check results as text, one line per check, offending rows under failures.

    Args:
        results: Results from :func:`run_contracts`.
        show_passing: Include the passing checks.

    Returns:
        The report, ending with a summary line.
    """
    lines = []
    for result in results:
        if result.passed and not show_passing:
            continue
        status = "PASS" if result.passed else "FAIL"
        lines.append(f"{status} {_label(result)}: {result.failing_rows} failing row(s)")
        if not result.passed:
            sample = result.sample.to_string(index=False, max_colwidth=40)
            lines.extend(f"    {line}" for line in sample.splitlines())
    failed = sum(not r.passed for r in results)
    lines.append(f"{len(results) - failed} passed, {failed} failed, {len(results)} checks")
    return "\n".join(lines)


def _plain(value: Any) -> str:
    """Show a sample value briefly: midnight timestamps as dates."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return str(value)


def assert_valid(wh: Warehouse) -> None:
    """Raise if any staging or mart contract check fails.

    Args:
        wh: The warehouse over the snapshot to check.

    Raises:
        ContractError: Naming the first failing model, column, rule, count and a sample row.
    """
    results = run_contracts(wh)
    failures = [r for r in results if not r.passed]
    if not failures:
        return
    first = failures[0]
    row = first.sample.head(1).to_dict(orient="records")[0] if len(first.sample) else {}
    shown = ", ".join(f"{k}={_plain(v)}" for k, v in row.items())
    more = f" (and {len(failures) - 1} more failing checks)" if len(failures) > 1 else ""
    raise ContractError(
        f"snapshot {wh.snapshot.snapshot_id}: {_label(first)}: {first.failing_rows} failing "
        f"row(s){more}\n  e.g. {shown}"
    )
