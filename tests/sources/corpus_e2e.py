"""The real-data corpus, end to end: import a source through a mapping, validate, run every report.

Shared by the corpus tests (``test_corpus_*_e2e.py``): :func:`import_validate_run` writes a
throw-away workspace whose regions are the mapping's, then runs the real CLI as subprocesses,
exactly as a user would (``salesops import``, ``salesops validate``, ``salesops run --all``, every
report notebook of the default job for each region and the company view in ONE run call on two
workers), and returns the run records (``reports/_runs/*.json``) and the published HTML. The
figures a test compares come from an independent DuckDB query over the source file, never from
the workbench: :func:`source_sql` runs one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from tests.conftest import ROOT

SALESOPS = Path(sys.executable).with_name("salesops")
"""The project's console script (the one a user runs), beside the venv's Python."""

COMPANY = "all"
"""The company view's region id."""


def report_notebooks() -> list[str]:
    """The default job's report notebooks, read from config/schedule.yml (not from the runner)."""
    schedule = yaml.safe_load((ROOT / "config" / "schedule.yml").read_text(encoding="utf-8"))
    return [str(name) for name in schedule["jobs"]["default"]["notebooks"]]


def write_workspace(folder: Path, settings: dict[str, Any]) -> Path:
    """Write ``folder/workbench.yml``: the project's config, ``settings`` over it, own folders.

    Args:
        folder: An empty folder (a test's ``tmp_path``).
        settings: Top-level entries that replace the project config's: ``regions`` (the ids
            the import produces, as ``{"id": ..., "name": ...}``) and, for a CRM with its own
            stages, ``stages`` (for Maven: those of config/workbench.maven_crm.yml).

    Returns:
        The config file, for ``SALESOPS_CONFIG``.
    """
    config = yaml.safe_load((ROOT / "config" / "workbench.yml").read_text(encoding="utf-8"))
    config.update(settings)
    config["paths"] = {"snapshots": str(folder / "snapshots"), "reports": str(folder / "reports")}
    path = folder / "workbench.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def salesops(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``salesops ARGS`` from the project root and return what it did (never raises)."""
    return subprocess.run(
        [str(SALESOPS), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900
    )


@dataclass(frozen=True)
class CorpusRun:
    """One imported, validated and fully run workspace.

    Attributes:
        folder: The workspace folder.
        as_of: The snapshot date the import chose (the folder name under ``snapshots/``).
        records: Every run record of the ``salesops run`` call.
        seconds: Wall time of import, validate and run, by step.
        validate_output: What ``salesops validate`` printed.
        env: The environment that points the CLI at this workspace.
    """

    folder: Path
    as_of: str
    records: list[dict[str, Any]]
    seconds: dict[str, float]
    validate_output: str
    env: dict[str, str]

    def headlines(self, notebook: str) -> dict[str, dict[str, Any]]:
        """Region -> the headlines of ``notebook``'s run for that region."""
        return {r["region"]: r["headlines"] for r in self.records if r["notebook"] == notebook}

    def html(self, region: str, notebook: str) -> str:
        """The published HTML of ``notebook`` for ``region``."""
        folder = self.folder / "reports" / self.as_of / region
        return (folder / f"{notebook}.html").read_text(encoding="utf-8")

    def sql(self, query: str) -> list[list[str]]:
        """Rows of ``salesops sql QUERY --format csv`` over the snapshot (header dropped)."""
        done = salesops(["sql", query, "--format", "csv"], self.env)
        return [line.split(",") for line in _checked("sql", done).strip().splitlines()[1:]]

    def failures(self) -> list[tuple[str, str, str]]:
        """(region, notebook, error) of every run that did not end ``ok``."""
        return [
            (r["region"], r["notebook"], str(r["error"])[-500:])
            for r in self.records
            if r["status"] != "ok" or r["error"]
        ]


def _checked(step: str, done: subprocess.CompletedProcess[str]) -> str:
    """Return the step's stdout, or fail with its command and the end of its output."""
    if done.returncode != 0:
        output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        raise AssertionError(f"salesops {step} exited {done.returncode}:\n{output}")
    return done.stdout


def import_validate_run(
    folder: Path,
    mapping: Path,
    sources: list[Path],
    settings: dict[str, Any],
    run_regions: list[str] | None = None,
) -> CorpusRun:
    """Import ``sources`` through ``mapping``, validate the snapshot, run every report.

    Args:
        folder: An empty folder for the workspace.
        mapping: The mapping file.
        sources: The source files or folders, as given on the command line.
        settings: The workspace config's own entries (see :func:`write_workspace`).
        run_regions: Run every report for these regions and the company only (``None``: for
            every region, ``salesops run --all``).

    Returns:
        The run; every step exited 0 (else an ``AssertionError`` with its output).
    """
    env = {
        **os.environ,
        "SALESOPS_CONFIG": str(write_workspace(folder, settings)),
        "SALESOPS_HOME": str(ROOT),
        "SALESOPS_KERNEL": os.environ.get("SALESOPS_KERNEL", "salesops"),
    }
    seconds: dict[str, float] = {}
    outputs: dict[str, str] = {}
    for step, args in (
        ("import", ["import", str(mapping), *map(str, sources)]),
        ("validate", ["validate"]),
        ("run", ["run", *_scopes(run_regions), "--workers", "2"]),
    ):
        start = time.perf_counter()
        outputs[step] = _checked(step, salesops(args, env))
        seconds[step] = round(time.perf_counter() - start, 1)
    (as_of,) = [p.name for p in (folder / "snapshots").iterdir() if p.is_dir()]
    records = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((folder / "reports" / "_runs").glob("*.json"))
    ]
    return CorpusRun(folder, as_of, records, seconds, outputs["validate"], env)


def _scopes(run_regions: list[str] | None) -> list[str]:
    """``salesops run`` arguments for every region, or for the given ones and the company."""
    if run_regions is None:
        return ["--all"]
    return [arg for region in [*run_regions, COMPANY] for arg in ("--region", region)]


def assert_every_report_published(run: CorpusRun, region_ids: list[str]) -> None:
    """Every report notebook ran once per region and the company view, ok, and is published."""
    expected = {(r, n) for r in [*region_ids, COMPANY] for n in report_notebooks()}
    ran = [(r["region"], r["notebook"]) for r in run.records]
    assert sorted(ran) == sorted(expected)  # each exactly once
    assert not run.failures(), run.failures()
    for record in run.records:
        html = Path(record["outputs"]["html"])
        assert html.is_file(), html
        assert (html.parent.name, html.parent.parent.name) == (record["region"], run.as_of)


def source_sql(sql: str) -> list[tuple[Any, ...]]:
    """Rows of one DuckDB query over a source file (a fresh in-memory connection)."""
    with duckdb.connect() as connection:
        return connection.execute(sql).fetchall()


def assert_cents(reported: float | None, exact: object, what: str) -> None:
    """``reported`` (a figure the workbench rounded to cents) is within half a cent of ``exact``
    (an exact DECIMAL sum over the source): the two agree to the cent."""
    assert reported is not None, f"{what}: not reported"
    assert abs(float(reported) - float(exact)) <= 0.005 + 1e-9, f"{what}: {reported} != {exact}"
