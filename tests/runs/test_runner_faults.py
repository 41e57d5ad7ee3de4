"""Faults in the runner: a full or read-only reports folder, and a runner killed with SIGKILL.

Disk faults are injected in this process (tests run as root, where ``chmod`` does not stop
writes, and no small tmpfs is available): ``os`` calls that write under the reports folder
raise ``OSError`` with ``ENOSPC`` (disk full) or ``EROFS`` (read-only). The notebooks are the
trivial ones of :mod:`tests.trivial_notebooks`, run in real kernels.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from salesops_lib.runs.publish import ReportsWriteError
from salesops_lib.runs.runner import run_reports
from tests.conftest import Workspace
from tests.trivial_notebooks import (
    SLOW_MARKER_ENV,
    project_env,
    salesops_cli,
    workspace_project,
    write_notebook,
)

AS_OF = "2026-11-23"
TOPIC = "01-trivial"


def _failing(
    original: Callable[..., Any], errno_code: int, hit: Callable[[str], bool]
) -> Callable[..., Any]:
    """Wrap an ``os`` call so it raises ``OSError(errno_code)`` when its path argument hits."""

    def call(*args: Any, **kwargs: Any) -> Any:
        paths = [str(a) for a in args if isinstance(a, str | os.PathLike)]
        target = paths[-1] if paths else ""
        if hit(target):
            raise OSError(errno_code, os.strerror(errno_code), target)
        return original(*args, **kwargs)

    return call


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> content), index pages left out."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "index.html"
    }


def _leftovers(day: Path) -> list[Path]:
    return [p for p in day.rglob(".*") if p.name.startswith((".tmp-", ".old-"))]


@pytest.mark.e2e
def test_disk_full_while_publishing_fails_the_runs_and_keeps_the_published_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "reports"
    day = reports / AS_OF
    notebook = write_notebook(tmp_path / f"{TOPIC}.ipynb")
    first = run_reports([notebook], ["dach"], AS_OF, reports, workers=1)
    assert first[0].status == "ok"
    published = _snapshot(day / "dach")
    assert sorted(published) == [f"{TOPIC}.html", f"{TOPIC}.ipynb", f"{TOPIC}.run.json"]

    # the disk fills up when the report's HTML is moved in, after its record and notebook
    monkeypatch.setattr(
        os, "replace", _failing(os.replace, errno.ENOSPC, lambda t: t.endswith(f"{TOPIC}.html"))
    )
    results = run_reports([notebook], ["na-east", "dach"], AS_OF, reports, workers=1)

    assert [(r.region, r.status) for r in results] == [("na-east", "failed"), ("dach", "failed")]
    for result in results:
        assert result.error is not None and "\n" not in result.error
        assert "No space left on device" in result.error and f"{TOPIC}.html" in result.error
        assert result.html_path is None
    assert _snapshot(day / "dach") == published  # the earlier report, byte for byte
    assert not (day / "na-east").exists() or not list((day / "na-east").iterdir())
    for region in ("na-east", "dach"):  # what failed is recorded, where there was room
        record = (day / "_failed" / region / f"{TOPIC}.run.json").read_text()
        assert '"status": "failed"' in record and "No space left on device" in record
    assert _leftovers(day) == []
    index = (day / "index.html").read_text()
    assert index.count('class="status-failed"') == 2
    assert 'previous <a href="dach/01-trivial.html"' in index


@pytest.mark.e2e
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_an_unwritable_reports_folder_is_one_error_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    reports = tmp_path / "reports"
    day = reports / AS_OF
    notebook = write_notebook(tmp_path / f"{TOPIC}.ipynb")
    assert run_reports([notebook], ["dach"], AS_OF, reports, workers=1)[0].status == "ok"
    before = _snapshot(reports)
    index = (day / "index.html").read_bytes()

    def under_reports(target: str) -> bool:
        return target.startswith(str(reports))

    for name in ("open", "mkdir", "replace", "rename", "link", "unlink", "rmdir"):
        monkeypatch.setattr(os, name, _failing(getattr(os, name), code, under_reports))
    seen: list[str] = []
    with pytest.raises(ReportsWriteError) as raised:
        run_reports(
            [notebook], ["na-east", "dach"], AS_OF, reports, workers=2,
            on_result=lambda r: seen.append(r.region),
        )  # fmt: skip
    monkeypatch.undo()

    message = str(raised.value)
    assert "\n" not in message and message.startswith("cannot write to the reports folder")
    assert str(day) in message and os.strerror(code) in message
    assert raised.value.exit_code != 0
    assert seen == []  # no run started
    assert _snapshot(reports) == before
    assert (day / "index.html").read_bytes() == index
    assert _leftovers(day) == []


KILL_SCHEDULE = """\
jobs:
  default:
    notebooks: [01-trivial]
    regions: [na-east, dach, uki]
    cron: "0 6 * * mon"
"""


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.e2e
def test_runner_killed_by_sigkill_takes_its_workers_along_and_leaves_a_true_index(
    tiny_workspace: Workspace, tmp_path: Path
) -> None:
    project = workspace_project(
        tmp_path / "project", tiny_workspace, KILL_SCHEDULE, {TOPIC: "nobody"}
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
    )
    family: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # na-east published; dach and uki sleep in a cell
            staged = [p for p in day.glob(".tmp-*") if p.is_dir()] if day.is_dir() else []
            if (day / "na-east" / f"{TOPIC}.html").is_file() and staged:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the runner never published na-east while another run was in progress")
        time.sleep(1.0)  # let the publishing worker finish its index page
        family = psutil.Process(runner.pid).children(recursive=True)
        assert family, "the runner has no worker processes"
        runner.send_signal(signal.SIGKILL)  # the runner only, not its children
        runner.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(p) for p in family):
            time.sleep(0.2)
        survivors = [(p.pid, p.name()) for p in family if _alive(p)]
        assert survivors == [], "processes outlived their runner"
    finally:
        marker.unlink(missing_ok=True)
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=30)
        for process in family:  # clean up after a failure of this test only
            if _alive(process):
                process.kill()

    published = sorted(p.parent.name for p in day.glob(f"*/{TOPIC}.html"))
    assert published == ["na-east"]
    index = (day / "index.html").read_text()
    linked = sorted(
        region for region in ("na-east", "dach", "uki") if f'href="{region}/{TOPIC}.html"' in index
    )
    assert linked == published
    assert f'href="{AS_OF}/index.html"' in (project / "reports" / "index.html").read_text()

    rerun = salesops_cli(env, "run", "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "2 report(s) published, 1 unchanged (skipped), 0 failed" in rerun.stdout
    index = (day / "index.html").read_text()
    for region in ("na-east", "dach", "uki"):
        assert f'href="{region}/{TOPIC}.html"' in index, region
    assert not list(day.glob(".tmp-*"))


QUERY = """\
-- title: Lines per region
-- description: How many order lines each region booked.
-- parameters: region
-- chart: none
select region_id, count(*) as lines from fct_bookings where region_id = $region group by 1
"""


def test_a_question_page_that_cannot_be_written_is_one_failure_line(
    tiny_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from salesops_lib.runs.queries import render_queries

    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "lines-per-region.sql").write_text(QUERY)
    reports = tmp_path / "reports"
    monkeypatch.setattr(
        os, "replace", _failing(os.replace, errno.ENOSPC, lambda t: t.endswith(".html"))
    )
    failures: list[tuple[str, str, str]] = []
    written = render_queries(
        queries, regions=["dach", "uki"], snapshots_dir=tiny_workspace.snapshots,
        reports_dir=reports, on_error=lambda spec, region, exc: failures.append(
            (spec.name, region, str(exc))
        ),
    )  # fmt: skip

    assert written == []
    assert [(name, region) for name, region, _ in failures] == [
        ("lines-per-region", "dach"),
        ("lines-per-region", "uki"),
    ]
    for _, region, message in failures:
        assert "\n" not in message and message.startswith("cannot write the question page")
        assert f"{region}/q-lines-per-region.html" in message
        assert "No space left on device" in message
    assert not [p for p in reports.rglob("*") if p.is_file()]  # no temporary file left either
