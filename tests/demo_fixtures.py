"""Helpers for the demo generator tests: generate into a folder, open it in DuckDB."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb

from salesops_lib.core.config import Region
from salesops_lib.data.schema import TABLES
from salesops_lib.sources.demo import generate_demo

AS_OF = dt.date(2026, 11, 23)
REGIONS = [
    Region(id="na-east", name="North America East"),
    Region(id="na-west", name="North America West"),
    Region(id="na-central", name="North America Central"),
    Region(id="latam", name="Latin America"),
    Region(id="uki", name="UK & Ireland"),
    Region(id="dach", name="DACH"),
    Region(id="nordics", name="Nordics"),
    Region(id="apac", name="Asia Pacific"),
]
"""The eight default regions, spelled out so the tests do not depend on the config file."""


def generate(folder: Path, scale: str | int, weeks: int, seed: int = 42) -> list[Path]:
    """Generate demo snapshots ending at :data:`AS_OF` into ``folder``."""
    return generate_demo(folder, AS_OF, seed=seed, scale=scale, weeks=weeks, regions=REGIONS)


def connect(snapshot: Path, previous: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per table of ``snapshot``.

    With ``previous``, its tables are also available as ``prev_<table>``.
    """
    con = duckdb.connect()
    for folder, prefix in ((snapshot, ""), (previous, "prev_")):
        if folder is None:
            continue
        for name in TABLES:
            path = str(folder / f"{name}.parquet").replace("'", "''")
            con.execute(f"CREATE VIEW {prefix}{name} AS SELECT * FROM read_parquet('{path}')")
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    """The single value a query returns."""
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def read_truth(snapshot: Path) -> dict[str, Any]:
    """The snapshot's ``_truth.json`` (used only to know where to look)."""
    return json.loads((snapshot / "_truth.json").read_text(encoding="utf-8"))


def manifest(snapshot: Path) -> dict[str, Any]:
    """The snapshot's parsed ``_manifest.json``."""
    return json.loads((snapshot / "_manifest.json").read_text(encoding="utf-8"))
