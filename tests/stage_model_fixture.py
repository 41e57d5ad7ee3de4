"""A hand-made snapshot and workspace with a custom stage model (3 open stages, 2 lost stages).

The model: Lead, Demo, Contract (open), Signed (won), Lost and Disqualified (lost). Six deals of
region ``r1`` (rep ``rep1``, account ``acc1``, product ``prod1``), as of 2024-03-20:

====  ==============================  ======  =========================
deal  stage path (entered dates)      amount  forecast category
====  ==============================  ======  =========================
a1    Lead 01-02, Demo 01-12, Contract 01-22, Signed 02-20   100  Closed
a2    Lead 01-02, Demo 01-07, Lost 02-01                     200  Omitted
a3    Lead 01-02, Disqualified 01-05                         300  Omitted
a4    Lead 01-02, Demo 02-01 (open)                          400  Best Case
a5    Lead 03-01 (open)                                      500  Pipeline
a6    Lead 01-02, Contract 03-10 (open, skipped Demo)        600  Commit
====  ==============================  ======  =========================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from salesops_lib.core.stages import STAGE_FILE, Stage, StageModel
from salesops_lib.data.schema import TABLES
from salesops_lib.data.snapshot import Snapshot, SnapshotWriter, open_snapshot
from tests.conftest import ROOT
from tests.snapshot_builder import DEFAULT_TABLES, arrow_table

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

D = dt.date
AS_OF = D(2024, 3, 20)
CUSTOM_STAGES_YAML = """\
stages:
  - {name: Lead, probability: 0.1}
  - {name: Demo, probability: 0.3, forecast_category: Best Case}
  - {name: Contract, probability: 0.7, forecast_category: Commit}
  - {name: Signed, outcome: won}
  - {name: Lost, outcome: lost}
  - {name: Disqualified, outcome: lost}
"""
CUSTOM_MODEL = StageModel(
    stages=(
        Stage("Lead", probability=0.1),
        Stage("Demo", probability=0.3, forecast_category="Best Case"),
        Stage("Contract", probability=0.7, forecast_category="Commit"),
        Stage("Signed", outcome="won", forecast_category="Closed"),
        Stage("Lost", outcome="lost", forecast_category="Omitted"),
        Stage("Disqualified", outcome="lost", forecast_category="Omitted"),
    )
)
"""What :data:`CUSTOM_STAGES_YAML` declares, written out by hand."""

PATHS: dict[str, list[tuple[str, dt.date]]] = {
    "a1": [("Lead", D(2024, 1, 2)), ("Demo", D(2024, 1, 12)), ("Contract", D(2024, 1, 22)),
           ("Signed", D(2024, 2, 20))],
    "a2": [("Lead", D(2024, 1, 2)), ("Demo", D(2024, 1, 7)), ("Lost", D(2024, 2, 1))],
    "a3": [("Lead", D(2024, 1, 2)), ("Disqualified", D(2024, 1, 5))],
    "a4": [("Lead", D(2024, 1, 2)), ("Demo", D(2024, 2, 1))],
    "a5": [("Lead", D(2024, 3, 1))],
    "a6": [("Lead", D(2024, 1, 2)), ("Contract", D(2024, 3, 10))],
}  # fmt: skip
AMOUNTS = {"a1": 100.0, "a2": 200.0, "a3": 300.0, "a4": 400.0, "a5": 500.0, "a6": 600.0}
CATEGORIES = {
    "a1": "Closed", "a2": "Omitted", "a3": "Omitted", "a4": "Best Case", "a5": "Pipeline",
    "a6": "Commit",
}  # fmt: skip


def custom_tables() -> dict[str, list[dict[str, Any]]]:
    """The snapshot's tables: the builder's defaults with the six deals above."""
    opportunities, history = [], []
    for deal, path in PATHS.items():
        stage, entered = path[-1]
        closed = stage in CUSTOM_MODEL.closed_stages
        opportunities.append(
            {
                "opportunity_id": deal,
                "opportunity_name": f"{deal} deal",
                "created_date": path[0][1],
                "stage": stage,
                "amount": AMOUNTS[deal],
                "close_date": entered if closed else D(2024, 6, 30),
                "forecast_category": CATEGORIES[deal],
            }
        )
        history += [
            {"opportunity_id": deal, "sequence": i, "stage": s, "entered_date": day}
            for i, (s, day) in enumerate(path, start=1)
        ]
    return {
        **DEFAULT_TABLES,
        "opportunities": opportunities,
        "opportunity_stage_history": history,
    }


def write_stage_snapshot(
    folder: Path,
    tables: dict[str, list[dict[str, Any]]] | None = None,
    model: StageModel | None = CUSTOM_MODEL,
) -> Snapshot:
    """Write a snapshot under ``folder`` recording ``model`` (``None``: no ``_stages.json``)."""
    given = tables or custom_tables()
    with SnapshotWriter(folder, AS_OF, source="tests.stage_model_fixture", created_at="t") as w:
        for name in TABLES:
            w.write_table(name, arrow_table(name, given[name], given["reps"]))
        if model is not None:
            w.write_extra(STAGE_FILE, model.to_json_bytes())
    return open_snapshot(folder, AS_OF)


def write_workspace_config(folder: Path, stages_yaml: str | None = CUSTOM_STAGES_YAML) -> Path:
    """A workspace configuration under ``folder`` (the project's regions, these stages)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text(encoding="utf-8"))
    config["paths"] = {"snapshots": str(folder / "snapshots"), "reports": str(folder / "reports")}
    text = yaml.safe_dump(config, sort_keys=False) + (stages_yaml or "")
    path = folder / "workbench.yml"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def custom_warehouse(folder: Path) -> Iterator[Warehouse]:
    """The custom snapshot's warehouse, opened (and kept) in a workspace of the custom stages."""
    from salesops_lib.data.warehouse import Warehouse

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALESOPS_CONFIG", str(write_workspace_config(folder / "ws")))
        with Warehouse(write_stage_snapshot(folder / "ws" / "snapshots"), threads=1) as wh:
            yield wh
