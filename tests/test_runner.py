"""The runner: parallel papermill runs per region, failure isolation, atomic publishing, index.

These tests start real kernels (five runs in all) on a trivial notebook built here.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from salesops_lib.errors import ParameterError
from salesops_lib.runner import HEADLINES_MIMETYPE, plan_jobs, record_crash, run_reports

AS_OF = "2026-11-23"


def _write_notebook(path: Path, fail_for: str) -> Path:
    parameters = new_code_cell('region: str = "all"  # region id\nas_of: str = ""  # date')
    parameters.metadata["tags"] = ["parameters"]
    headlines = new_code_cell(
        "from IPython.display import display\n"
        f"display({{{HEADLINES_MIMETYPE!r}: {{'open_pipeline': 1500000.0, "
        "'region_name': '<i>' + region + '</i>'}}, raw=True)"
    )
    headlines.metadata["tags"] = ["headlines"]
    notebook = new_notebook(
        cells=[
            new_markdown_cell("# Trivial report"),
            parameters,
            new_code_cell(f"if region == {fail_for!r}:\n    raise ValueError('boom in ' + region)"),
            new_code_cell("if region == 'slow':\n    import time\n    time.sleep(60)"),
            new_code_cell("print('report body for', region, 'as of', as_of)"),
            headlines,
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(notebook, path)
    return path


@pytest.mark.e2e
def test_failing_region_is_isolated_and_not_published(tmp_path: Path) -> None:
    notebook = _write_notebook(tmp_path / "01-trivial.ipynb", fail_for="bad")
    reports = tmp_path / "reports"
    lines: list[str] = []
    results = run_reports(
        [notebook], ["good", "bad"], AS_OF, reports, workers=2, progress=lines.append
    )

    by_region = {r.region: r for r in results}
    assert [r.region for r in results] == ["good", "bad"]
    assert by_region["good"].status == "ok"
    assert by_region["good"].headlines["open_pipeline"] == 1500000.0
    assert by_region["bad"].status == "failed"
    assert by_region["bad"].error.startswith("ValueError: boom in bad")
    assert len(lines) == 2

    day = reports / AS_OF
    good_html = (day / "good" / "01-trivial.html").read_text()
    assert "report body for good as of 2026-11-23" in good_html
    assert (day / "good" / "01-trivial.ipynb").is_file()
    record = json.loads((day / "good" / "01-trivial.run.json").read_text())
    assert record["status"] == "ok"
    assert record["parameters"] == {"region": "good", "as_of": AS_OF}
    assert set(record["durations"]) == {"execute_s", "render_s", "total_s"}

    assert not (day / "bad" / "01-trivial.html").exists()
    failed_notebook = nbformat.read(day / "_failed" / "bad" / "01-trivial.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in failed_notebook.cells
               for o in c.get("outputs", []))  # fmt: skip
    assert not list(day.glob(".tmp-*"))

    index = (day / "index.html").read_text()
    assert 'href="good/01-trivial.html"' in index
    assert 'href="bad/01-trivial.html"' not in index
    assert (
        'class="status-ok"' in index and 'class="status-failed"' in index and "boom in bad" in index
    )
    assert "&lt;i&gt;good&lt;/i&gt;" in index and "<i>good</i>" not in index
    assert "$1.5M" in index
    assert 'href="2026-11-23/index.html"' in (reports / "index.html").read_text()


@pytest.mark.e2e
def test_published_report_survives_a_failed_rerun(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    day = reports / AS_OF
    notebook = _write_notebook(tmp_path / "01-trivial.ipynb", fail_for="nobody")
    first = run_reports([notebook], ["good"], AS_OF, reports, workers=1)
    assert first[0].status == "ok"
    published = (day / "good" / "01-trivial.html").read_bytes()

    _write_notebook(notebook, fail_for="good")
    second = run_reports([notebook], ["good"], AS_OF, reports, workers=1)
    assert second[0].status == "failed"
    assert (day / "good" / "01-trivial.html").read_bytes() == published
    assert (day / "_failed" / "good" / "01-trivial.ipynb").is_file()
    index = (day / "index.html").read_text()
    assert 'class="status-failed"' in index and 'previous <a href="good/01-trivial.html"' in index

    _write_notebook(notebook, fail_for="nobody")
    third = run_reports([notebook], ["good"], AS_OF, reports, workers=1)
    assert third[0].status == "ok"
    assert not (day / "_failed" / "good" / "01-trivial.ipynb").exists()
    assert 'class="status-failed"' not in (day / "index.html").read_text()


@pytest.mark.e2e
def test_a_cell_over_the_timeout_fails_only_that_run(tmp_path: Path) -> None:
    notebook = _write_notebook(tmp_path / "01-trivial.ipynb", fail_for="nobody")
    reports = tmp_path / "reports"
    (result,) = run_reports([notebook], ["slow"], AS_OF, reports, workers=1, timeout_s=2)
    assert result.status == "failed"
    assert result.error.startswith("CellTimeoutError") and "timed out" in result.error
    assert not (reports / AS_OF / "slow" / "01-trivial.html").exists()
    assert 'class="status-failed"' in (reports / AS_OF / "index.html").read_text()


def test_plan_rejects_unsafe_region_ids_and_bad_dates(tmp_path: Path) -> None:
    notebook = _write_notebook(tmp_path / "01-trivial.ipynb", fail_for="x")
    with pytest.raises(ParameterError, match=r"region '\.\./etc'"):
        plan_jobs([notebook], ["../etc"], AS_OF, tmp_path)
    with pytest.raises(ParameterError, match="not a date"):
        plan_jobs([notebook], ["good"], "23/11/2026", tmp_path)
    jobs = plan_jobs([notebook], ["good", "all", "good"], AS_OF, tmp_path, kernel_name="k")
    assert [(j.region, j.kernel_name, j.topic) for j in jobs] == [
        ("good", "k", "01-trivial"),
        ("all", "k", "01-trivial"),
    ]


def test_a_crashed_worker_is_filed_as_failed_with_a_record(tmp_path: Path) -> None:
    notebook = _write_notebook(tmp_path / "01-trivial.ipynb", fail_for="x")
    (job,) = plan_jobs([notebook], ["good"], AS_OF, tmp_path / "reports", kernel_name="k")
    result = record_crash(job, RuntimeError("worker died\nsecond line"))
    assert (result.status, result.error, result.html_path) == (
        "failed",
        "RuntimeError: worker died",
        None,
    )
    failed = tmp_path / "reports" / AS_OF / "_failed" / "good"
    record = json.loads((failed / "01-trivial.run.json").read_text())
    assert record["status"] == "failed" and record["kernel_name"] == "k"
    assert not (tmp_path / "reports" / AS_OF / "good").exists()
