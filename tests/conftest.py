"""Shared fixtures, and the ``e2e`` / ``slow`` marks every test gets at collection.

Fixtures (session-wide, generated once per run, shared by every test that asks):

- ``tiny_workspace``: tiny demo, two weekly snapshots (about a second to generate);
- ``weekly_demo_workspace``: default-scale demo (500k order lines), 13 weekly snapshots;
- ``tiny_store``: the tiny workspace's analytics store, built once (tests using it are slow).

Marks (:func:`pytest_collection_modifyitems`; see :data:`KERNEL_TESTS`, :data:`SLOW_TESTS` and
:data:`SLOW_FIXTURES`):

- ``e2e``: the test starts a Jupyter kernel (papermill, nbval, the runner or ``salesops run``
  with real notebooks);
- ``slow``: the test needs a default-scale demo or takes more than a few seconds.

``make test-fast`` runs ``-m "not e2e and not slow"``: unit and contract tests on tiny data.
A test that starts a Jupyter kernel without the ``e2e`` mark fails at teardown (the kernel guard
below), so the marks stay true as tests are added.
The tables name test modules by file name only, so they keep working when the test files move
into sub-folders of ``tests/`` (each sub-folder needs an ``__init__.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

if TYPE_CHECKING:
    from salesops_lib.data.store import Store

# nbformat imports jsonschema, which imports the optional rfc3987_syntax: it compiles about 35
# Earley parsers for the "iri" formats at import, about 1 s of every test process. Nothing the
# suite runs in this process checks formats (nbformat, papermill, nbclient and nbconvert validate
# without a format checker), so jsonschema is told the optional library is absent (it then skips
# those two formats). Kernels and `salesops` subprocesses are unaffected.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _project_root(start: Path) -> Path:
    """The nearest folder above ``start`` that holds ``pyproject.toml`` (the checkout)."""
    for folder in start.parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    raise RuntimeError(f"no pyproject.toml above {start}")


ROOT = _project_root(Path(__file__).resolve())
"""The checkout (the folder holding ``pyproject.toml``), wherever the test file lives."""

SAMPLES = ROOT / "data" / "samples"
"""The public sample exports shipped with the project (see data/samples/README.md)."""

ALL_TESTS = None
"""In :data:`KERNEL_TESTS` / :data:`SLOW_TESTS`: every test of the module."""

KERNEL_TESTS: dict[str, frozenset[str] | None] = {
    # test file name -> test functions that start a kernel (ALL_TESTS: every test in the file)
    "test_dask_executor.py": ALL_TESTS,  # the runner with trivial notebooks on a Dask cluster
    "test_end_to_end.py": ALL_TESTS,  # `salesops run` of every report notebook
    "test_import_maven_e2e.py": ALL_TESTS,  # `salesops run --all` on the imported Maven data
    "test_import_quotas_e2e.py": frozenset(
        {"test_performance_headline_attainment_equals_sql"}  # `salesops run -n 10-performance`
    ),
    "test_import_regional_e2e.py": ALL_TESTS,  # import + `salesops run` of a region-per-line book
    "test_corpus_cdnow_e2e.py": ALL_TESTS,  # import, validate, `salesops run --all` (CDNOW)
    "test_corpus_template_e2e.py": frozenset(
        {"test_template_order_book_imports_validates_and_every_report_matches_the_source"}
    ),  # import, validate, `salesops run --all` (the order-lines template)
    "test_partial_data.py": ALL_TESTS,  # papermill, every report notebook, emptied tables
    "test_compensation_run.py": ALL_TESTS,  # `salesops run -n 40-compensation`, statements
    "test_notebooks.py": frozenset({"test_notebook_runs_under_nbval"}),
    "test_performance.py": frozenset({"test_notebook_headlines_equal_sql"}),
    "test_planning_notebook.py": ALL_TESTS,  # 50-planning for a region and the company
    "test_forecast_call.py": frozenset({"test_notebook_runs_for_a_region_and_the_company"}),
    "test_forecast_demo.py": frozenset(
        {"test_forecast_backfill_runs_the_report_on_an_earlier_snapshot"}
    ),
    "test_records.py": frozenset(
        {
            "test_unchanged_runs_are_skipped_until_inputs_change_or_forced",
            "test_failed_run_exits_non_zero_with_a_table_and_is_listed",
        }
    ),
    "test_runner.py": frozenset(
        {
            "test_failing_region_is_isolated_and_not_published",
            "test_published_report_survives_a_failed_rerun",
            "test_hanging_cell_and_dying_kernel_fail_only_their_runs",
            "test_run_timeout_limits_the_whole_run",
            "test_a_kernel_that_fails_to_start_is_retried",
            "test_killed_runner_leaves_nothing_partial_and_the_rerun_completes",
        }
    ),
}
"""Tests that start a Jupyter kernel: marked ``e2e``."""

ANY_MODULE = "*"
"""In :data:`SLOW_FIXTURES`: the fixtures are slow in every test file."""

SLOW_FIXTURES: dict[str, frozenset[str]] = {
    # test file name (or ANY_MODULE) -> fixtures whose tests are slow (directly or through
    # another fixture): default-scale demos, analytics store builds, Dask clusters
    ANY_MODULE: frozenset({"weekly_demo_workspace", "tiny_store"}),
    "test_performance.py": frozenset({"tiny_diagnoses"}),  # builds the tiny workspace's store
    "test_forecast_build.py": frozenset({"built"}),  # builds the forecast store steps
    "test_segmentation_build.py": frozenset({"snapshots"}),  # builds segmentation steps
    "test_planning_report.py": frozenset({"demo"}),  # small demo, company rebalancing (30 s)
    "test_plan_cli.py": frozenset({"workspace"}),  # small demo, `salesops` subprocesses
    "test_build_store.py": frozenset({"cluster"}),  # a Dask cluster of worker processes
}
"""Fixtures that make every test using them slow."""

SLOW_TESTS: dict[str, frozenset[str] | None] = {
    # test file name -> slow test functions (ALL_TESTS: every test in the file)
    "test_performance_demo.py": ALL_TESTS,  # default-scale demo (500k lines), full diagnosis
    "test_forecast_call.py": ALL_TESTS,  # tiny 13-week demo with submissions (10 s)
    "test_forecast_demo.py": ALL_TESTS,  # weekly_demo_workspace, backtests every series
    "test_pipeline_forecast_demo.py": ALL_TESTS,  # weekly_demo_workspace, win model on 13 weeks
    "test_segmentation_demo.py": ALL_TESTS,  # small demo (50k lines), clusters every scope
    "test_demo_comp.py": ALL_TESTS,  # small demo (50k lines), the payout engine on all reps
    "test_forecast_airpassengers.py": ALL_TESTS,  # backtests every model, 144 months
    "test_build_store.py": frozenset(
        {"test_dask_build_without_an_address_runs_on_a_local_cluster"}
    ),
    "test_cli.py": frozenset(
        {
            "test_import_command_writes_a_valid_maven_snapshot",
            "test_console_script_validates_and_exits_non_zero_naming_the_broken_file",
        }
    ),  # real `salesops` processes (the other CLI tests run the app in the test process)
    "test_import_parsing.py": frozenset({"test_module_entry_point"}),  # `python -m` processes
    "test_cockpit_browser.py": ALL_TESTS,  # headless Chromium at two widths
    "test_import_regional_e2e.py": ALL_TESTS,  # import + 6 report runs + a store build
    "test_corpus_cdnow_e2e.py": ALL_TESTS,  # 16 report runs + a store build (about 40 s)
    "test_corpus_template_e2e.py": frozenset(
        {"test_template_order_book_imports_validates_and_every_report_matches_the_source"}
    ),  # 32 report runs + a store build (about 50 s)
    "test_import_quotas_e2e.py": frozenset(
        {"test_performance_headline_attainment_equals_sql"}  # 2 report runs + a store build
    ),
}
"""Tests that need a default-scale demo or take more than a few seconds: marked ``slow``."""


def _slow_fixtures(item: pytest.Item) -> frozenset[str]:
    """The fixtures of ``item`` that make it slow."""
    used = frozenset(getattr(item, "fixturenames", ()))
    listed = SLOW_FIXTURES[ANY_MODULE] | SLOW_FIXTURES.get(item.path.name, frozenset())
    return used & listed


def _listed(table: dict[str, frozenset[str] | None], item: pytest.Item) -> bool:
    """Whether ``item`` is named in ``table`` (by its file name and test function name)."""
    module = item.path.name
    if module not in table:
        return False
    names = table[module]
    return names is ALL_TESTS or getattr(item, "originalname", item.name) in names


def _warn_about_stale_names(items: list[pytest.Item]) -> None:
    """Warn when a table names a test function that its (collected) file does not define.

    A renamed kernel or slow test would otherwise silently join ``make test-fast``.
    """
    modules = {item.path.name: getattr(item, "module", None) for item in items}
    for label, table in (("KERNEL_TESTS", KERNEL_TESTS), ("SLOW_TESTS", SLOW_TESTS)):
        for file_name, names in table.items():
            module = modules.get(file_name)
            if names is ALL_TESTS or module is None:
                continue
            for name in sorted(n for n in names if not hasattr(module, n)):
                warnings.warn(
                    f"tests/conftest.py {label} names {file_name}::{name}, which that file "
                    "does not define: rename it there (or remove it)",
                    pytest.PytestWarning,
                    stacklevel=1,
                )


LONGEST_FILES: dict[str, int] = {
    name: rank
    for rank, name in enumerate(
        [
            # measured with --durations and junit totals (2 cores, about 8 minutes in all)
            "test_end_to_end.py",  # make demo + make run with the canary (72 runs), ~118 s
            "test_forecast_demo.py",  # default-scale 13-week demo, backfill, ~74 s
            "test_runner.py",  # real kernels: faults, timeouts, a killed runner, ~63 s
            "test_notebooks.py",  # every report notebook under nbval, ~62 s
            "test_import_maven_e2e.py",  # import + 32 report runs, ~44 s
            "test_partial_data.py",  # two emptied-table variants x 8 reports, ~43 s
            "test_corpus_cdnow_e2e.py",  # import + 16 report runs, ~37 s
            "test_forecast_build.py",  # forecasting store steps, locally and on Dask, ~36 s
            "test_forecast_call.py",  # tiny 13-week demo, two report runs, ~35 s
            "test_corpus_template_e2e.py",  # import + report runs, ~31 s
            "test_performance.py",  # the tiny store, the notebook against SQL, ~30 s
            "test_import_regional_e2e.py",  # import + 6 report runs, ~23 s
            "test_records.py",  # skip-when-unchanged with real runs, ~23 s
            "test_runner_faults.py",
            "test_compensation_run.py",
            "test_import_quotas_e2e.py",
        ]
    )
}
"""Test files that take longest, run first (by rank); measured with ``--durations``."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark kernel-starting tests ``e2e`` and default-scale or long tests ``slow``.

    Runs before pytest's own ``-m`` selection, which then sees these marks.
    """
    for item in items:
        if _listed(KERNEL_TESTS, item):
            item.add_marker(pytest.mark.e2e)
        if _listed(SLOW_TESTS, item) or _slow_fixtures(item):
            item.add_marker(pytest.mark.slow)
    _warn_about_stale_names(items)
    # Longest files first (a stable sort keeps every other order): with `make test` on two
    # processes and a file per process, a two-minute file started last leaves one core idle.
    items.sort(key=lambda item: LONGEST_FILES.get(Path(str(item.fspath)).name, len(LONGEST_FILES)))


KERNEL_GUARD_LAUNCHER = """\
import os, sys
log, command = sys.argv[1], sys.argv[2:]
with open(log, "a", encoding="utf-8") as handle:
    handle.write(os.environ.get("PYTEST_CURRENT_TEST", "?") + "\\n")
if command[0] in ("python", "python3"):
    command[0] = sys.executable
os.execvp(command[0], command)
"""
"""Kernel launcher of the guard: notes which test started the kernel, then starts it as usual."""

_GUARD = pytest.StashKey[tuple[Path, Path]]()
_SAVED = pytest.StashKey[tuple[str | None, int]]()


def _kernel_guard(config: pytest.Config) -> tuple[Path, Path]:
    """A Jupyter data folder whose kernelspecs are every installed one behind a logging launcher.

    Built once per session. Returns the folder (for ``JUPYTER_PATH``) and the log file each
    kernel start appends a line to.
    """
    if _GUARD in config.stash:
        return config.stash[_GUARD]
    from jupyter_client.kernelspec import KernelSpecManager

    folder = Path(tempfile.mkdtemp(prefix="salesops-kernel-guard-"))
    log = folder / "kernel-starts.log"
    log.touch()
    launcher = folder / "launch.py"
    launcher.write_text(KERNEL_GUARD_LAUNCHER, encoding="utf-8")
    for name, found in KernelSpecManager().get_all_specs().items():
        spec = dict(found["spec"])
        spec["argv"] = [sys.executable, str(launcher), str(log), *spec["argv"]]
        (folder / "kernels" / name).mkdir(parents=True)
        (folder / "kernels" / name / "kernel.json").write_text(json.dumps(spec), "utf-8")
    config.stash[_GUARD] = (folder, log)
    return folder, log


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """Outside ``e2e`` tests, start Jupyter kernels through the guard (see the teardown)."""
    if item.get_closest_marker("e2e") is None:
        folder, log = _kernel_guard(item.config)
        before = os.environ.get("JUPYTER_PATH")
        item.stash[_SAVED] = (before, log.stat().st_size)
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(folder), before]))
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    """Fail a test that is not marked ``e2e`` but started a kernel, so the marks stay true."""
    result = yield
    if _SAVED in item.stash:
        before, size = item.stash[_SAVED]
        if before is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = before
        _, log = item.config.stash[_GUARD]
        if log.stat().st_size > size:
            pytest.fail(
                f"{item.nodeid} started a Jupyter kernel but is not marked e2e: add it to "
                "KERNEL_TESTS in tests/conftest.py (or mark it with pytest.mark.e2e)",
                pytrace=False,
            )
    return result


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the kernel guard's folder."""
    if _GUARD in config.stash:
        shutil.rmtree(config.stash[_GUARD][0], ignore_errors=True)


@dataclass(frozen=True)
class Workspace:
    """A throw-away workbench: its own config file, snapshots folder and reports folder."""

    config: Path
    snapshots: Path
    reports: Path

    def env(self) -> dict[str, str]:
        """Environment variables that point the CLI, the runner and kernels at this workspace."""
        return {"SALESOPS_CONFIG": str(self.config), "SALESOPS_HOME": str(ROOT)}


def make_workspace(folder: Path, scale: str = "tiny", weeks: int = 2) -> Workspace:
    """Write a config for a workspace under ``folder`` (no data yet)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text())
    config["paths"] = {"snapshots": str(folder / "snapshots"), "reports": str(folder / "reports")}
    config["demo"] = {**config["demo"], "scale": scale, "weeks": weeks}
    path = folder / "workbench.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return Workspace(path, folder / "snapshots", folder / "reports")


def generated_workspace(folder: Path, scale: str, weeks: int) -> Workspace:
    """A workspace under ``folder`` with its demo snapshots generated (config seed and as-of)."""
    from salesops_lib.core.config import load_settings
    from salesops_lib.sources.demo import generate_demo

    workspace = make_workspace(folder, scale=scale, weeks=weeks)
    cfg = load_settings(workspace.config)
    generate_demo(
        workspace.snapshots,
        cfg.demo.as_of,
        seed=cfg.demo.seed,
        scale=scale,
        weeks=weeks,
        regions=cfg.regions,
    )
    return workspace


@pytest.fixture(scope="session")
def tiny_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace with tiny demo snapshots (two weekly snapshots), generated once."""
    yield generated_workspace(tmp_path_factory.mktemp("tiny-workspace"), "tiny", 2)


@pytest.fixture(scope="session")
def weekly_demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Default-scale demo with 13 weekly snapshots (earlier snapshots to learn from and score
    against), generated once for the forecast and pipeline-model tests."""
    return generated_workspace(tmp_path_factory.mktemp("weekly-demo-workspace"), "default", 13)


@pytest.fixture(scope="session")
def tiny_store(tiny_workspace: Workspace) -> Store:
    """The tiny workspace's analytics store (every build step, latest snapshot), built once.

    It is the store ``open_report_warehouse`` finds for ``tiny_workspace``, so tests that read
    the store or open report warehouses on the tiny demo share one build (about 15 s of CPU).
    """
    from salesops_lib.analytics.build import build_store

    with pytest.MonkeyPatch.context() as patch:
        for key, value in tiny_workspace.env().items():
            patch.setenv(key, value)
        return build_store(None, snapshots_dir=tiny_workspace.snapshots).store
