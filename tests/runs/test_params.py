"""Notebook parameters: read from the ``parameters`` cell, values checked before any kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesops_lib.core.errors import ParameterError
from salesops_lib.runs.params import (
    check_parameters,
    coerce_parameter,
    notebook_parameters,
    parse_assignments,
)
from tests.cli.in_process import run_cli
from tests.conftest import ROOT, Workspace
from tests.trivial_notebooks import project_env, workspace_project, write_notebook

EXTRA = (
    "top_n: int = 10  # rows to show\n"
    "threshold: float = 0.5\n"
    "show_charts: bool = True  # draw charts\n"
    "segments: list[str] = ['a', 'b']\n"
)


@pytest.fixture()
def notebook(tmp_path: Path) -> Path:
    return write_notebook(tmp_path / "05-params.ipynb", extra_parameters=EXTRA)


def test_declared_parameters_are_read_with_type_default_and_help(notebook: Path) -> None:
    declared = notebook_parameters(notebook)
    assert list(declared) == ["region", "as_of", "top_n", "threshold", "show_charts", "segments"]
    top_n = declared["top_n"]
    assert (top_n.type_name, top_n.default, top_n.help) == ("int", 10, "rows to show")
    assert declared["threshold"].help == ""
    assert declared["segments"].type_name == "list[str]"
    assert declared["segments"].default == ["a", "b"]


def test_command_line_text_is_converted_to_the_declared_type(notebook: Path) -> None:
    converted = check_parameters(
        notebook,
        {"top_n": "25", "threshold": "2", "show_charts": "no", "segments": "['x']", "region": "ab"},
    )
    assert converted == {
        "top_n": 25,
        "threshold": 2.0,
        "show_charts": False,
        "segments": ["x"],
        "region": "ab",
    }
    assert isinstance(converted["threshold"], float)


def test_typed_values_from_yaml_must_match(notebook: Path) -> None:
    assert coerce_parameter(notebook, "threshold", 3) == 3.0  # an int is a fine float
    with pytest.raises(ParameterError) as bad_bool:
        coerce_parameter(notebook, "top_n", True)
    assert "'top_n'" in str(bad_bool.value) and "True" in str(bad_bool.value)
    with pytest.raises(ParameterError, match=r"'segments': value \['x', 1\] is not a list\[str\]"):
        coerce_parameter(notebook, "segments", ["x", 1])


def test_a_mistyped_value_names_parameter_value_and_what_is_allowed(notebook: Path) -> None:
    with pytest.raises(ParameterError) as error:
        coerce_parameter(notebook, "top_n", "ten")
    message = str(error.value)
    assert "'top_n'" in message and "'ten'" in message and "int" in message
    assert "e.g. 10" in message and "05-params.ipynb" in message
    with pytest.raises(ParameterError, match=r"'show_charts': value 'maybe' .*bool \(true/false\)"):
        coerce_parameter(notebook, "show_charts", "maybe")


def test_an_unknown_name_lists_the_declared_ones(notebook: Path) -> None:
    with pytest.raises(ParameterError) as error:
        coerce_parameter(notebook, "top", "3")
    message = str(error.value)
    assert "'top'" in message and "'3'" in message
    assert "allowed: region, as_of, top_n, threshold, show_charts, segments" in message


def test_a_notebook_without_a_parameters_cell_is_named(tmp_path: Path) -> None:
    path = tmp_path / "07-bare.ipynb"
    path.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    with pytest.raises(ParameterError, match=r"07-bare.ipynb: no cell tagged 'parameters'"):
        notebook_parameters(path)


def test_assignments_parse_and_reject_missing_equals() -> None:
    assert parse_assignments(["a=1", "b=x=y", "a=2"]) == {"a": "2", "b": "x=y"}
    with pytest.raises(ParameterError, match=r"--param 'top_n': expected name=value"):
        parse_assignments(["top_n"])


CLI_SCHEDULE = """\
jobs:
  default:
    notebooks: [05-params]
    regions: [na-east]
    cron: "0 6 * * mon"
"""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--param", "top_n=ten"), ["'top_n'", "'ten'", "int", "e.g. 10"]),
        (("--param", "colour=red"), ["unknown parameter 'colour'", "'red'", "allowed:"]),
        (("--param", "region=uki"), ["'region'", "set by the runner", "--region"]),
        (("--notebook", "99-nope"), ["unknown notebook '99-nope'", "available: 05-params"]),
        (("--as-of", "26/11/2026"), ["26/11/2026"]),
        (("--executor", "spark"), ["'spark'", "local, dask"]),
        (("--executor", "dask"), ["--scheduler-address"]),
    ],
)
def test_cli_rejects_bad_parameters_before_any_kernel_starts(
    tiny_workspace: Workspace, tmp_path: Path, args: tuple[str, ...], expected: list[str]
) -> None:
    project = workspace_project(tmp_path / "project", tiny_workspace, CLI_SCHEDULE, {})
    write_notebook(project / "notebooks" / "05-params.ipynb", extra_parameters=EXTRA)
    result = run_cli(project_env(project), "run", *args, cwd=project)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for text in expected:
        assert text in lines[0]
    assert not (project / "reports").exists()  # nothing ran, nothing was written


@pytest.mark.parametrize(
    "notebook", sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")), ids=lambda p: p.stem
)
def test_papermill_reads_every_report_parameter_without_a_warning(notebook: Path) -> None:
    """Papermill cannot parse a parameter line whose comment holds ``=`` or a quote; it then
    warns on every run and loses the line's help text (found in the planning and compensation
    notebooks)."""
    import logging

    from papermill.inspection import _infer_parameters
    from papermill.iorw import load_notebook_node

    warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())

    handler = Collect()
    logging.getLogger("papermill").addHandler(handler)
    try:
        inferred = _infer_parameters(load_notebook_node(str(notebook)))
    finally:
        logging.getLogger("papermill").removeHandler(handler)
    assert warnings == []
    assert {p.name for p in inferred} == set(notebook_parameters(notebook))
