"""Hostile text reaching the run layer: commands stay inert when pasted, errors print literally."""

from __future__ import annotations

import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from salesops_lib.runs.model import RunJob
from salesops_lib.runs.progress import failure_table
from salesops_lib.runs.runner import _command


def _job(parameters: dict[str, object], job_name: str = "default") -> RunJob:
    return RunJob(
        notebook=Path("notebooks/10-performance.ipynb"),
        region="dach",
        as_of="2026-11-23",
        reports_dir=Path("reports"),
        kernel_name="salesops",
        timeout_s=60,
        job_name=job_name,
        parameters=parameters,
    )


def test_the_recorded_command_is_shell_quoted_and_splits_back_to_the_same_words() -> None:
    hostile = "x; touch /tmp/pwned $(id) `id` 'quote"
    command = _command(_job({"compare_to": hostile}))
    words = shlex.split(command)  # what a shell would hand to salesops
    assert words[:3] == ["salesops", "run", "default"]
    assert words[words.index("--param") + 1] == f"compare_to={hostile}"
    assert words[-1] == "--force"
    assert words[words.index("--notebook") + 1] == "10-performance"


def test_an_adhoc_run_has_no_job_word() -> None:
    assert shlex.split(_command(_job({}, job_name="adhoc")))[:3] == ["salesops", "run", "--region"]


def test_failure_table_prints_rich_markup_in_errors_literally() -> None:
    error = "ValueError: [/x] closing tag [bold red]not a style[/] [link=file:///etc]y[/link]"
    failed = SimpleNamespace(
        status="failed", region="[/region]", notebook="10-performance", error=error,
        notebook_path=None, record_path="reports/_failed/[/x].run.json",
    )  # fmt: skip
    console = Console(record=True, width=400, color_system=None)
    console.print(failure_table([failed]))
    text = console.export_text()
    assert error in text
    assert "[/region]" in text and "[/x].run.json" in text


def test_a_run_whose_last_attempt_failed_is_not_skipped_as_unchanged(tmp_path: Path) -> None:
    import json

    from salesops_lib.runs.records import unchanged_since_success

    day = tmp_path / "2026-11-23"
    (day / "dach").mkdir(parents=True)
    ok = {"status": "ok", "inputs_fingerprint": "F", "region": "dach", "notebook": "01-x"}
    (day / "dach" / "01-x.run.json").write_text(json.dumps(ok))
    (day / "dach" / "01-x.html").write_text("<html></html>")
    assert unchanged_since_success(tmp_path, "2026-11-23", "dach", "01-x", "F") == ok
    # a transient failure with the same inputs: the next plain run must retry it
    (day / "_failed" / "dach").mkdir(parents=True)
    failed = ok | {"status": "failed", "error": "DeadKernelError: killed"}
    (day / "_failed" / "dach" / "01-x.run.json").write_text(json.dumps(failed))
    assert unchanged_since_success(tmp_path, "2026-11-23", "dach", "01-x", "F") is None


KILLS_ITS_WORKER = (
    "import os, signal, time\n"
    "if region == 'killer':\n"
    "    os.kill(os.getppid(), signal.SIGKILL)  # the kernel's parent is the pool worker\n"
    "    time.sleep(30)\n"
    "print('report body for', region)"
)


@pytest.mark.e2e
def test_a_killed_pool_worker_fails_only_its_own_run(tmp_path: Path) -> None:
    from salesops_lib.runs.runner import run_reports
    from tests.trivial_notebooks import write_notebook

    notebook = write_notebook(tmp_path / "01-trivial.ipynb", body=KILLS_ITS_WORKER)
    regions = ["killer", "na-east", "dach", "uki", "apac"]
    results = run_reports([notebook], regions, "2026-11-23", tmp_path / "reports", workers=2)
    by_region = {r.region: r for r in results}
    assert by_region["killer"].status == "failed"
    assert "BrokenProcessPool" in (by_region["killer"].error or "")
    assert {r.region for r in results if r.status == "ok"} == set(regions) - {"killer"}
    for region in set(regions) - {"killer"}:
        assert (tmp_path / "reports" / "2026-11-23" / region / "01-trivial.html").is_file()
