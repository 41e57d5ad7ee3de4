"""The reproduce command at the end of every report re-runs exactly that report."""

from __future__ import annotations

import shlex

from salesops_lib.reports.provenance import reproduce_command
from salesops_lib.runs.params import parse_assignments


def test_reproduce_command_names_region_snapshot_notebook_parameters_and_force() -> None:
    command = reproduce_command(
        "10-performance",
        "dach",
        "2026-11-23",
        {"region": "dach", "as_of": "", "compare_to": "", "period": "quarter"},
    )
    assert command == (
        "salesops run --region dach --as-of 2026-11-23 --notebook 10-performance "
        "--param compare_to= --param period=quarter --force"
    )


def test_parameter_values_are_shell_quoted_and_parse_back() -> None:
    command = reproduce_command("99-x", "all", "2026-11-23", {"note": "it's $HOME; rm -rf /"})
    words = shlex.split(command)
    assert words[-1] == "--force"
    assert parse_assignments([words[words.index("--param") + 1]]) == {
        "note": "it's $HOME; rm -rf /"
    }
