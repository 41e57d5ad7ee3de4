"""The runner: parallel papermill runs per region, failure isolation, atomic publishing, index.

These tests start real kernels on trivial notebooks built here (tests/trivial_notebooks.py):
a cell that raises for one region, a cell that hangs, a kernel that dies, a kernel that fails to
start once, and a runner killed in the middle of a job.
"""

from __future__ import annotations

import html
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from salesops_lib.core.errors import ParameterError
from salesops_lib.runs.runner import plan_jobs, record_crash, run_reports
from tests.conftest import Workspace
from tests.trivial_notebooks import (
    SLOW_MARKER_ENV,
    project_env,
    salesops_cli,
    workspace_project,
    write_notebook,
)

AS_OF = "2026-11-23"


@pytest.mark.e2e
def test_failing_region_is_isolated_and_not_published(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "01-trivial.ipynb", fail_for="bad")
    other = write_notebook(tmp_path / "02-other.ipynb", body="print('second topic', region)")
    reports = tmp_path / "reports"
    seen: list[str] = []
    results = run_reports(
        [notebook, other],
        ["good", "bad"],
        AS_OF,
        reports,
        workers=2,
        on_result=lambda r: seen.append(r.region),
    )

    by_region = {r.region: r for r in results if r.notebook == "01-trivial"}
    assert [(r.notebook, r.region) for r in results] == [
        ("01-trivial", "good"),
        ("01-trivial", "bad"),
        ("02-other", "good"),
        ("02-other", "bad"),
    ]
    assert sorted(seen) == ["bad", "bad", "good", "good"]
    assert [r.status for r in results[2:]] == ["ok", "ok"]
    assert by_region["good"].status == "ok"
    assert by_region["good"].headlines["open_pipeline"] == 1500000.0
    assert by_region["bad"].status == "failed"
    assert by_region["bad"].error.startswith("ValueError: boom in bad")

    day = reports / AS_OF
    good_html = (day / "good" / "01-trivial.html").read_text()
    assert "report body for good as of 2026-11-23" in good_html
    assert (day / "good" / "01-trivial.ipynb").is_file()
    assert "second topic bad" in (day / "bad" / "02-other.html").read_text()
    record = json.loads((day / "good" / "01-trivial.run.json").read_text())
    assert record["status"] == "ok"
    assert record["parameters"] == {"region": "good", "as_of": AS_OF}
    assert {"kernel_start_s", "execute_s", "render_s", "total_s"} <= set(record["durations"])
    assert record["package_versions"]["papermill"] == "2.7.0"

    assert not (day / "bad" / "01-trivial.html").exists()
    failed_notebook = nbformat.read(day / "_failed" / "bad" / "01-trivial.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in failed_notebook.cells
               for o in c.get("outputs", []))  # fmt: skip
    assert not list(day.glob(".tmp-*"))
    manifests = [json.loads(p.read_text()) for p in (reports / "_runs").glob("*.json")]
    assert sorted((m["notebook"], m["region"], m["status"]) for m in manifests) == [
        ("01-trivial", "bad", "failed"),
        ("01-trivial", "good", "ok"),
        ("02-other", "bad", "ok"),
        ("02-other", "good", "ok"),
    ]

    index = (day / "index.html").read_text()
    assert 'href="good/01-trivial.html"' in index
    assert 'href="bad/01-trivial.html"' not in index
    assert (
        'class="status-ok"' in index and 'class="status-failed"' in index and "boom in bad" in index
    )
    assert "&lt;i&gt;good&lt;/i&gt;" in index and "<i>good</i>" not in index
    assert "$1.5M" in index
    assert 'href="2026-11-23/index.html"' in (reports / "index.html").read_text()
    links = [html.unescape(link) for link in re.findall(r'href="([^"]+)"', index)]
    assert sorted(link for link in links if link.endswith(".html") and "/" in link
                  and not link.startswith("..")) == [
        "bad/02-other.html", "good/01-trivial.html", "good/02-other.html"
    ]  # fmt: skip
    for link in links:
        assert not link.startswith(("/", "http")), link
        assert (day / link).resolve().is_file(), link
    for link in re.findall(r'href="([^"]+)"', (reports / "index.html").read_text()):
        assert (reports / html.unescape(link)).resolve().is_file(), link


@pytest.mark.e2e
def test_published_report_survives_a_failed_rerun(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    day = reports / AS_OF
    notebook = write_notebook(tmp_path / "01-trivial.ipynb", fail_for="nobody")
    first = run_reports([notebook], ["good"], AS_OF, reports, workers=1)
    assert first[0].status == "ok"
    published = (day / "good" / "01-trivial.html").read_bytes()

    write_notebook(notebook, fail_for="good")
    second = run_reports([notebook], ["good"], AS_OF, reports, workers=1)
    assert second[0].status == "failed"
    assert (day / "good" / "01-trivial.html").read_bytes() == published
    assert (day / "_failed" / "good" / "01-trivial.ipynb").is_file()
    index = (day / "index.html").read_text()
    assert 'class="status-failed"' in index and 'previous <a href="good/01-trivial.html"' in index

    write_notebook(notebook, fail_for="nobody")
    third = run_reports([notebook], ["good"], AS_OF, reports, workers=1)
    assert third[0].status == "ok"
    assert not (day / "_failed" / "good" / "01-trivial.ipynb").exists()
    assert 'class="status-failed"' not in (day / "index.html").read_text()


@pytest.mark.e2e
def test_hanging_cell_and_dying_kernel_fail_only_their_runs(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "01-trivial.ipynb")
    reports = tmp_path / "reports"
    results = run_reports(
        [notebook], ["slow", "dies", "fine"], AS_OF, reports, workers=2, timeout_s=3
    )
    by_region = {r.region: r for r in results}
    assert by_region["fine"].status == "ok"
    assert by_region["slow"].status == "failed"
    assert by_region["slow"].error.startswith("CellTimeoutError")
    assert "timed out" in by_region["slow"].error
    assert by_region["dies"].status == "failed"
    assert "DeadKernelError" in by_region["dies"].error
    day = reports / AS_OF
    assert (day / "fine" / "01-trivial.html").is_file()
    for region in ("slow", "dies"):
        assert not (day / region / "01-trivial.html").exists()
        record = json.loads((day / "_failed" / region / "01-trivial.run.json").read_text())
        assert record["status"] == "failed" and record["error"] == by_region[region].error
    # the notebook of a run that stopped early is still kept, with the cells that ran
    partial = nbformat.read(day / "_failed" / "slow" / "01-trivial.ipynb", as_version=4)
    parameters = next(
        c for c in partial.cells if "injected-parameters" in c.metadata.get("tags", [])
    )
    assert 'region = "slow"' in parameters.source and parameters.get("execution_count") is not None
    assert 'class="status-failed"' in (day / "index.html").read_text()


@pytest.mark.e2e
def test_run_timeout_limits_the_whole_run(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "01-trivial.ipynb")
    (result,) = run_reports(
        [notebook], ["slow"], AS_OF, tmp_path / "reports", workers=1, timeout_s=600, run_timeout_s=4
    )
    assert result.status == "failed"
    assert result.error == "RunTimeout: the run exceeded run_timeout_s=4"
    assert result.duration_s < 60  # the cell sleeps 60 s: the run limit, not the cell's, stopped it


@pytest.mark.e2e
def test_a_kernel_that_fails_to_start_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kernel spec whose first start exits at once: the second start runs the notebook."""
    flag = tmp_path / "started-once"
    spec = tmp_path / "share" / "kernels" / "flaky"
    spec.mkdir(parents=True)
    script = (
        f'if [ ! -e "{flag}" ]; then touch "{flag}"; exit 3; fi; '
        f'exec "{sys.executable}" -m ipykernel_launcher -f "$0"'
    )
    argv = ["bash", "-c", script, "{connection_file}"]
    spec_json = {"argv": argv, "display_name": "flaky", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(spec_json))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share"))
    notebook = write_notebook(tmp_path / "01-trivial.ipynb")
    reports = tmp_path / "reports"
    (result,) = run_reports([notebook], ["good"], AS_OF, reports, workers=1, kernel_name="flaky")
    assert flag.exists()
    assert result.status == "ok", result.error
    record = json.loads((reports / AS_OF / "good" / "01-trivial.run.json").read_text())
    assert record["kernel_starts"] == 2 and record["kernel_name"] == "flaky"


def test_plan_rejects_unsafe_region_ids_and_bad_dates(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "01-trivial.ipynb", fail_for="x")
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
    notebook = write_notebook(tmp_path / "01-trivial.ipynb", fail_for="x")
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


KILL_SCHEDULE = """\
jobs:
  default:
    notebooks: [01-trivial]
    regions: [na-east, dach, uki]
    cron: "0 6 * * mon"
"""


def _kill_tree(process: subprocess.Popen[str]) -> None:
    parent = psutil.Process(process.pid)
    family = [parent, *parent.children(recursive=True)]
    for member in family:
        try:
            member.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            continue
    process.wait(timeout=30)
    psutil.wait_procs(family, timeout=30)


@pytest.mark.e2e
def test_killed_runner_leaves_nothing_partial_and_the_rerun_completes(
    tiny_workspace: Workspace, tmp_path: Path
) -> None:
    project = workspace_project(
        tmp_path / "project", tiny_workspace, KILL_SCHEDULE, {"01-trivial": "nobody"}
    )
    marker = tmp_path / "slow-marker"
    marker.touch()
    env = project_env(project) | {SLOW_MARKER_ENV: str(marker)}
    day = project / "reports" / AS_OF
    runner = subprocess.Popen(
        [sys.executable, "-m", "salesops_lib.cli", "run", "--workers", "2"],
        env=env,
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # na-east finishes; dach and uki sleep in their cells
            staged = [p for p in day.glob(".tmp-*") if p.is_dir()] if day.is_dir() else []
            if (day / "na-east" / "01-trivial.html").is_file() and staged:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the runner never published na-east while another run was in progress")
    finally:
        _kill_tree(runner)

    assert [p for p in day.glob(".tmp-*") if p.is_dir()]  # what the killed runner left behind
    for region in ("dach", "uki"):
        assert not (day / region / "01-trivial.html").exists()
        assert not (day / region / "01-trivial.run.json").exists()
    for html_file in day.glob("*/01-trivial.html"):
        assert html_file.with_suffix("").with_suffix(".run.json").is_file()
        assert html_file.with_suffix(".ipynb").is_file()

    marker.unlink()
    rerun = salesops_cli(env, "run", "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "2 report(s) published, 1 unchanged (skipped), 0 failed" in rerun.stdout
    for region in ("na-east", "dach", "uki"):
        assert (day / region / "01-trivial.html").is_file(), region
    assert not list(day.glob(".tmp-*"))
    assert not (day / "_failed").exists()


def test_index_headlines_show_known_numbers_of_any_report() -> None:
    from salesops_lib.runs.publish import headline_text

    text = headline_text(
        {"customers": 1234, "revenue_at_stake": 70998.55, "region_name": "DACH", "other": 5.0}
    )
    assert text == "Customers 1,234 · Revenue at stake $71K"


ISOLATION_BODY = """\
import os, warnings
print('leaked:', 'leak' in globals(), os.environ.get('SALESOPS_TEST_LEAK'),
      os.getcwd() == os.path.dirname(os.path.abspath('01-trivial.ipynb')), len(warnings.filters),
      'pid', os.getpid())
leak = region
os.environ['SALESOPS_TEST_LEAK'] = region
warnings.simplefilter('ignore')
os.chdir('/')
"""


@pytest.mark.e2e
def test_kept_kernel_starts_every_run_fresh_and_a_failed_run_ends_its_kernel(
    tmp_path: Path,
) -> None:
    """One worker runs four regions in a row: each sees none of the previous run's state."""
    notebook = write_notebook(tmp_path / "01-trivial.ipynb", fail_for="bad", body=ISOLATION_BODY)
    reports = tmp_path / "reports"
    results = run_reports([notebook], ["a", "b", "bad", "c"], AS_OF, reports, workers=1)
    assert [r.status for r in results] == ["ok", "ok", "failed", "ok"]

    def run_of(region: str) -> tuple[str, list[int | None], bool]:
        folder = reports / AS_OF / (region if region != "bad" else "_failed/bad")
        executed = nbformat.read(folder / "01-trivial.ipynb", as_version=4)
        printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", [])
                          if o.get("name") == "stdout")  # fmt: skip
        counts = [c.get("execution_count") for c in executed.cells if c.cell_type == "code"]
        record = json.loads((folder / "01-trivial.run.json").read_text())
        return printed, counts, record["kernel_reused"]

    (a_out, a_counts, a_reused), (b_out, b_counts, b_reused) = run_of("a"), run_of("b")
    c_out, c_counts, c_reused = run_of("c")
    assert (a_reused, b_reused, run_of("bad")[2], c_reused) == (False, True, True, False)
    for out in (a_out, b_out, c_out):  # no global, env var, filter or folder of a previous run
        assert out.startswith("leaked: False None True "), out
    assert a_out.split("pid")[0] == b_out.split("pid")[0] == c_out.split("pid")[0]
    assert a_out.split("pid")[1] == b_out.split("pid")[1] != c_out.split("pid")[1]
    assert a_counts == b_counts == c_counts == list(range(1, len(a_counts) + 1))


QUIET_SCHEDULE = """\
jobs:
  default:
    notebooks: [01-trivial]
    regions: [na-east, dach, uki]
    cron: "0 6 * * mon"
"""


@pytest.mark.e2e
def test_terminal_shows_progress_and_results_only_and_kernel_logs_go_to_records(
    tiny_workspace: Workspace, tmp_path: Path
) -> None:
    project = workspace_project(
        tmp_path / "project", tiny_workspace, QUIET_SCHEDULE, {"01-trivial": "dach"}
    )
    write_notebook(
        project / "notebooks" / "01-trivial.ipynb",
        fail_for="dach",
        body="import sys\nsys.__stderr__.write('kernel says hello from ' + region + '\\n')\n"
        "sys.__stderr__.flush()",
    )
    result = salesops_cli(project_env(project), "run", "--workers", "2")
    assert result.returncode == 1, result.stderr[-3000:]
    terminal = result.stdout + result.stderr
    assert "without encryption" not in terminal
    assert "KeyboardInterrupt" not in terminal
    assert "kernel says hello" not in terminal
    assert "[3/3]" in result.stderr and "ValueError: boom in dach" in result.stderr
    assert "2 report(s) published, 0 unchanged (skipped), 1 failed" in result.stdout
    day = project / "reports" / AS_OF
    for region in ("na-east", "uki"):
        record = json.loads((day / region / "01-trivial.run.json").read_text())
        assert record["kernel_log"] == f"kernel says hello from {region}\n"
    failed = json.loads((day / "_failed" / "dach" / "01-trivial.run.json").read_text())
    assert failed["kernel_log"] == ""
