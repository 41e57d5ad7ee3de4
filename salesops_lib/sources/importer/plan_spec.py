"""What an ``order_lines`` mapping may say about its quota and target files.

An ``order_lines`` mapping reads the order book (source ``orders``) and, optionally, a quota
file (source ``quotas``) and a region targets file (source ``targets``); see
:mod:`~salesops_lib.sources.importer.plan_files` for how their rows become monthly quotas and
targets. This module holds only the names and the checks :mod:`.mapping` runs when it loads a
mapping (kept apart so that the mapping does not import the build recipe).
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from typing import Any

GRAINS: tuple[str, ...] = ("month", "quarter", "year")
"""Period grains a plan row may have: a calendar month, quarter or year."""

ORDERS_SOURCE = "orders"
PLAN_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "quotas": (("rep", "period_start", "amount"), ("period_end", "grain", "region")),
    "targets": (("region", "period_start", "amount"), ("period_end", "grain")),
}
"""Plan source -> (required fields, optional fields)."""

GRAIN_CONSTANTS: dict[str, str] = {"quotas": "quota_grain", "targets": "target_grain"}
"""Plan source -> the mapping constant that gives the grain of every row of that file."""

FIELD_TYPES: dict[str, str] = {
    "period_start": "date",
    "period_end": "date",
    "amount": "number",
    "rep": "category",
    "region": "category",
    "grain": "category",
}
"""The type each plan field must be read as (``rep``/``region``/``grain`` may be strings too)."""
_TEXT_TYPES = ("string", "category")


def check_order_line_sources(sources: MappingType[str, Any]) -> None:
    """Check the source names and plan-file fields of an ``order_lines`` mapping.

    Args:
        sources: Source name -> its spec (with ``columns``: field -> spec with ``type``).

    Raises:
        ValueError: Naming the source and field that break the format.
    """
    allowed = (ORDERS_SOURCE, *PLAN_FIELDS)
    unknown = sorted(set(sources) - set(allowed))
    if unknown:
        raise ValueError(
            f"order_lines sources are {', '.join(allowed)}; unknown: {', '.join(unknown)}"
        )
    if ORDERS_SOURCE not in sources:
        raise ValueError("an order_lines mapping needs the source 'orders'")
    for name, (required, optional) in PLAN_FIELDS.items():
        if name not in sources:
            continue
        columns = sources[name].columns
        missing = [f for f in required if f not in columns]
        if missing:
            raise ValueError(f"{name}: missing field(s) {', '.join(missing)}")
        extra = sorted(set(columns) - set(required) - set(optional))
        if extra:
            raise ValueError(
                f"{name}: unknown field(s) {', '.join(extra)}; "
                f"allowed: {', '.join((*required, *optional))}"
            )
        for field, spec in columns.items():
            wanted = FIELD_TYPES[field]
            ok = spec.type in _TEXT_TYPES if wanted == "category" else spec.type == wanted
            if not ok:
                raise ValueError(f"{name}.{field}: type must be {wanted}, not {spec.type}")


def check_plan_grains(sources: MappingType[str, Any], constants: MappingType[str, Any]) -> None:
    """Check that every plan file can tell each row's period end.

    A row's period ends at its ``period_end`` when the file has that column, else at the end of
    its grain's calendar period (the ``grain`` column, else the ``quota_grain`` /
    ``target_grain`` constant).

    Args:
        sources: Source name -> its spec.
        constants: The mapping's constants.

    Raises:
        ValueError: If a grain constant is not a grain, or a plan file has no way to end a row.
    """
    for name, constant in GRAIN_CONSTANTS.items():
        value = constants.get(constant)
        if value is not None and str(value).strip().casefold() not in GRAINS:
            raise ValueError(f"constants.{constant}: {value!r} is not one of {', '.join(GRAINS)}")
        if name not in sources:
            continue
        columns = sources[name].columns
        if value is None and "grain" not in columns and "period_end" not in columns:
            raise ValueError(
                f"sources.{name}: give a period_end or grain column, or constants.{constant} "
                f"({' | '.join(GRAINS)})"
            )
