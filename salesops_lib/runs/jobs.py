"""Scheduled report jobs (``config/schedule.yml``): loading, checking, and cron fire times.

A job names the notebooks to run, the regions (a list of configured ids, or ``all`` for every
configured region plus the company view), parameter values and a cron expression. The file is
checked as a whole before anything runs: an unknown notebook, region, key or parameter, a mistyped
value or a bad cron expression is rejected with ``<file>:<line>: <reason>``. Line numbers come from
the YAML node tree (:func:`yaml.compose`).

Cron expressions are standard crontab (``minute hour day month day-of-week``, Sunday = 0 or 7) and
are handed to APScheduler's :meth:`CronTrigger.from_crontab`. APScheduler 3 numbers weekdays from
Monday = 0, so numeric weekdays are translated to names first (``1`` -> ``mon``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from salesops_lib.core.config import ALL_REGIONS, Settings, settings
from salesops_lib.core.errors import ConfigError, ParameterError
from salesops_lib.core.yaml_nodes import NodeReader
from salesops_lib.runs.params import RUNNER_PARAMETERS, coerce_parameter, notebook_parameters

SCHEDULE_ENV = "SALESOPS_SCHEDULE"
DEFAULT_JOB = "default"
NOTEBOOK_PATTERN = re.compile(r"^\d{2}-[A-Za-z0-9][A-Za-z0-9_-]*$")
JOB_KEYS = (
    "notebooks",
    "regions",
    "cron",
    "timezone",
    "parameters",
    "cell_timeout_s",
    "run_timeout_s",
)
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Job:
    """One scheduled job, checked against the configuration and the notebooks.

    Attributes:
        name: The job's name (its key under ``jobs:``).
        notebooks: Notebook files, in the order listed.
        regions: Region ids to run, ``all`` meaning the company view.
        cron: The crontab expression as written.
        timezone: IANA time zone the cron expression is read in.
        parameters: Parameter values beyond ``region`` and ``as_of``; each is passed to the
            notebooks that declare it.
        cell_timeout_s: Limit per cell, in seconds.
        run_timeout_s: Limit per run (one notebook for one region), in seconds.
        source: ``<file>:<line>`` where the job is defined.
    """

    name: str
    notebooks: tuple[Path, ...]
    regions: tuple[str, ...]
    cron: str
    timezone: str = "UTC"
    parameters: dict[str, Any] = field(default_factory=dict)
    cell_timeout_s: int = 600
    run_timeout_s: int = 1800
    source: str = ""


def schedule_path(cfg: Settings | None = None) -> Path:
    """The schedule file in use: ``$SALESOPS_SCHEDULE`` or ``<root>/config/schedule.yml``."""
    if explicit := os.environ.get(SCHEDULE_ENV):
        return Path(explicit).resolve()
    return (cfg or settings()).root / "config" / "schedule.yml"


def notebooks_dir(cfg: Settings | None = None) -> Path:
    """Folder of the report notebooks: ``<root>/notebooks``."""
    return (cfg or settings()).root / "notebooks"


def available_notebooks(folder: Path) -> dict[str, Path]:
    """Report notebooks (``NN-topic.ipynb``) in ``folder`` by stem, sorted."""
    return {
        p.stem: p
        for p in sorted(folder.glob("[0-9][0-9]-*.ipynb"))
        if NOTEBOOK_PATTERN.match(p.stem)
    }


def crontab_for_apscheduler(expr: str) -> str:
    """Translate numeric weekdays of a standard crontab (Sunday = 0 or 7) to names.

    Args:
        expr: ``minute hour day month day-of-week``.

    Returns:
        The same expression with day-of-week numbers replaced by ``sun``..``sat``.
    """
    fields = expr.split()
    if len(fields) == 5:
        fields[4] = re.sub(r"(?<![/\d])[0-7](?!\d)", lambda m: _WEEKDAYS[int(m.group())], fields[4])
    return " ".join(fields)


def cron_trigger(expr: str, timezone: str = "UTC") -> Any:
    """Build an APScheduler ``CronTrigger`` from a standard crontab expression.

    Args:
        expr: ``minute hour day month day-of-week``.
        timezone: IANA time zone name.

    Returns:
        The trigger.

    Raises:
        ValueError: If the expression or the time zone is not valid.
    """
    from apscheduler.triggers.cron import CronTrigger

    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}") from None
    return CronTrigger.from_crontab(crontab_for_apscheduler(expr), timezone=zone)


def next_fire_times(job: Job, now: dt.datetime, count: int = 1) -> list[dt.datetime]:
    """The next ``count`` times a job fires, strictly after ``now``.

    Args:
        job: The job.
        now: An aware datetime to count from.
        count: How many fire times to list.

    Returns:
        Aware datetimes in the job's time zone, ascending.
    """
    trigger = cron_trigger(job.cron, job.timezone)
    times: list[dt.datetime] = []
    previous: dt.datetime | None = None
    current = now + dt.timedelta(microseconds=1)  # strictly after now
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, current)
        if fire is None:
            break
        times.append(fire)
        previous, current = fire, fire + dt.timedelta(microseconds=1)
    return times


class _Reader(NodeReader):
    """The schedule's reader: errors are :class:`ConfigError` naming the file and line."""

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        items = []
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, f"{what}: key {key!r} must be text")
            items.append((key, key_node, value_node))
        return items


def _notebooks(reader: _Reader, node: yaml.Node, available: dict[str, Path]) -> tuple[Path, ...]:
    names = reader.value(node)
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names:
        raise reader.fail(node, "notebooks must be a non-empty list of notebook names")
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    found = []
    for item_node, name in zip(items, names, strict=True):
        stem = str(name).removesuffix(".ipynb")
        if stem not in available:
            raise reader.fail(
                item_node,
                f"unknown notebook {name!r}; available: {', '.join(available) or 'none'}",
            )
        found.append(available[stem])
    return tuple(dict.fromkeys(found))


def _regions(reader: _Reader, node: yaml.Node, cfg: Settings) -> tuple[str, ...]:
    value = reader.value(node)
    if value == ALL_REGIONS:
        return (*cfg.region_ids(), ALL_REGIONS)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise reader.fail(node, f"regions must be {ALL_REGIONS!r} or a list of region ids")
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    allowed = [*cfg.region_ids(), ALL_REGIONS]
    for item_node, region in zip(items, value, strict=True):
        if region not in allowed:
            raise reader.fail(
                item_node, f"unknown region {region!r}; configured: {', '.join(allowed)}"
            )
    return tuple(dict.fromkeys(str(r) for r in value))


def _cron(reader: _Reader, node: yaml.Node, timezone: str) -> str:
    expr = reader.value(node)
    if not isinstance(expr, str):
        raise reader.fail(node, f"cron {expr!r} must be a crontab expression in quotes")
    try:
        cron_trigger(expr, timezone)
    except ValueError as exc:
        raise reader.fail(
            node, f"bad cron {expr!r}: {exc} (expected 'minute hour day month day-of-week')"
        ) from None
    return expr


def _parameters(reader: _Reader, node: yaml.Node, notebooks: Sequence[Path]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if isinstance(node, yaml.ScalarNode) and reader.value(node) is None:
        return values
    for name, key_node, value_node in reader.mapping(node, "parameters"):
        value = reader.value(value_node)
        try:
            values[name] = resolve_parameter(notebooks, name, value)
        except ParameterError as exc:
            raise reader.fail(key_node, str(exc)) from None
    return values


def resolve_parameter(notebooks: Sequence[Path], name: str, value: Any) -> Any:
    """Check one job parameter against every notebook of the job that declares it.

    Args:
        notebooks: The job's notebooks.
        name: Parameter name (not ``region`` or ``as_of``, which the runner sets).
        value: The value (text from the command line is converted to the declared type).

    Returns:
        The converted value.

    Raises:
        ParameterError: If the name is reserved, declared by none of the notebooks, or the value
            does not have the type a notebook declares.
    """
    if name in RUNNER_PARAMETERS:
        raise ParameterError(
            f"parameter {name!r} (value {value!r}) is set by the runner; "
            f"use --{name.replace('_', '-')} instead"
        )
    declaring = [nb for nb in notebooks if name in notebook_parameters(nb)]
    if not declaring:
        declared = sorted(
            {p for nb in notebooks for p in notebook_parameters(nb)} - set(RUNNER_PARAMETERS)
        )
        raise ParameterError(
            f"unknown parameter {name!r} (value {value!r}): not declared by "
            f"{', '.join(nb.stem for nb in notebooks)}; allowed: {', '.join(declared) or 'none'}"
        )
    converted = value
    for notebook in declaring:
        converted = coerce_parameter(notebook, name, value)
    return converted


def _positive_int(reader: _Reader, node: yaml.Node, key: str) -> int:
    value = reader.value(node)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise reader.fail(node, f"{key} must be a positive whole number of seconds, not {value!r}")
    return value


def _job(
    reader: _Reader,
    name: str,
    node: yaml.Node,
    cfg: Settings,
    available: dict[str, Path],
) -> Job:
    entries = {
        key: (key_node, value_node)
        for key, key_node, value_node in reader.mapping(node, f"job {name!r}")
    }
    for key, (key_node, _value) in entries.items():
        if key not in JOB_KEYS:
            raise reader.fail(
                key_node, f"job {name!r}: unknown key {key!r}; allowed: {', '.join(JOB_KEYS)}"
            )
    for required in ("notebooks", "regions", "cron"):
        if required not in entries:
            raise reader.fail(node, f"job {name!r}: missing {required!r}")
    notebooks = _notebooks(reader, entries["notebooks"][1], available)
    timezone = "UTC"
    if "timezone" in entries:
        timezone = str(reader.value(entries["timezone"][1]))
    parameters = (
        _parameters(reader, entries["parameters"][1], notebooks) if "parameters" in entries else {}
    )
    timeouts = {
        key: _positive_int(reader, entries[key][1], key)
        for key in ("cell_timeout_s", "run_timeout_s")
        if key in entries
    }
    return Job(
        name=name,
        notebooks=notebooks,
        regions=_regions(reader, entries["regions"][1], cfg),
        cron=_cron(reader, entries["cron"][1], timezone),
        timezone=timezone,
        parameters=parameters,
        source=f"{reader.source}:{node.start_mark.line + 1}",
        **timeouts,
    )


def load_jobs(
    path: Path | None = None,
    cfg: Settings | None = None,
    notebook_folder: Path | None = None,
) -> dict[str, Job]:
    """Load and check every job of a schedule file.

    Args:
        path: The schedule file; defaults to :func:`schedule_path`.
        cfg: Workbench settings (regions); defaults to the configured ones.
        notebook_folder: Where the notebooks are; defaults to :func:`notebooks_dir`.

    Returns:
        The jobs by name, in file order.

    Raises:
        ConfigError: ``<file>:<line>: <reason>`` for the first problem found.
    """
    cfg = cfg or settings()
    path = path or schedule_path(cfg)
    if not path.is_file():
        raise ConfigError(f"{path}: schedule file not found")
    reader = _Reader(path, path.read_text(encoding="utf-8"))
    root = reader.root()
    if root is None:
        raise ConfigError(f"{path}:1: empty schedule; expected a 'jobs:' mapping")
    top = {key: (key_node, value) for key, key_node, value in reader.mapping(root, "the file")}
    for key, (key_node, _value) in top.items():
        if key != "jobs":
            raise reader.fail(key_node, f"unknown key {key!r}; expected 'jobs'")
    if "jobs" not in top:
        raise reader.fail(root, "missing 'jobs:'")
    available = available_notebooks(notebook_folder or notebooks_dir(cfg))
    jobs: dict[str, Job] = {}
    for name, key_node, job_node in reader.mapping(top["jobs"][1], "jobs"):
        if name in jobs:
            raise reader.fail(key_node, f"job {name!r} is defined twice")
        jobs[name] = _job(reader, name, job_node, cfg, available)
    if not jobs:
        raise reader.fail(top["jobs"][1], "no jobs defined")
    return jobs


def get_job(name: str, jobs: dict[str, Job]) -> Job:
    """Look a job up by name.

    Args:
        name: The job's name.
        jobs: From :func:`load_jobs`.

    Returns:
        The job.

    Raises:
        ConfigError: If there is no such job; the message lists the defined ones.
    """
    if name not in jobs:
        raise ConfigError(f"unknown job {name!r}; defined jobs: {', '.join(jobs)}")
    return jobs[name]
