"""``notebooks/50-planning.ipynb`` in a real kernel, for one region and the company view.

Runs on the tiny demo workspace through papermill (its store built once by ``tiny_store``);
the headlines the notebook records must equal the report functions' numbers in-process.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import papermill
import pytest

from salesops_lib.data.store import Store
from salesops_lib.data.warehouse import Warehouse
from salesops_lib.reports import planning
from tests.conftest import ROOT, Workspace

HEADLINES = "application/vnd.salesops.headlines+json"
PARAMETERS = {"target_growth": 0.05, "tolerance": 0.2, "method": "potential"}


def _outputs(path: Path) -> list[dict[str, Any]]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [o for c in cells for o in c.get("outputs", [])]


def test_notebook_runs_for_a_region_and_the_company(
    tiny_workspace: Workspace,
    tiny_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in tiny_workspace.env().items():
        monkeypatch.setenv(key, value)
    for region in ("nordics", "all"):
        output = tmp_path / f"{region}.ipynb"
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "50-planning.ipynb"),
            str(output),
            parameters={"region": region, "as_of": "", **PARAMETERS},
            kernel_name=os.environ.get("SALESOPS_KERNEL", "python3"),
            cwd=str(ROOT / "notebooks"),
            progress_bar=False,
        )
        outputs = _outputs(output)
        assert not any(o.get("output_type") == "error" for o in outputs)
        recorded = [o["data"][HEADLINES] for o in outputs if HEADLINES in o.get("data", {})]
        assert len(recorded) == 1
        with Warehouse.open(None, snapshots_dir=tiny_workspace.snapshots) as warehouse:
            expected = planning.headline_numbers(
                planning.load_report(warehouse, region, **PARAMETERS)
            )
        assert recorded[0] == json.loads(json.dumps(expected))
        assert recorded[0]["region"] == region
        text = json.dumps(outputs)
        assert "image/png" in text and "<script>alert" not in text
