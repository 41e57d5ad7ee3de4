"""Run attachments: given only to notebooks that declare them, published whole with the HTML,
never by a failed publish."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from salesops_lib.core.errors import ParameterError
from salesops_lib.runs.attachments import (
    ATTACHMENTS_PARAMETER,
    attachment_parameters,
    published_with,
)
from salesops_lib.runs.publish import RECORD_SUFFIX, publish_success

TOPIC = "40-compensation"


def _notebook(path: Path, parameters: str) -> Path:
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path


def _staged(staging: Path, statements: dict[str, str], html: bool = True) -> Path:
    staging.mkdir(parents=True, exist_ok=True)
    for suffix in (RECORD_SUFFIX, ".ipynb") + ((".html",) if html else ()):
        (staging / f"{TOPIC}{suffix}").write_text(f"new {suffix}")
    folder = staging / "attachments" / "statements"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in statements.items():
        (folder / name).write_text(text)
    return staging


def test_only_a_notebook_that_declares_the_parameter_gets_a_folder(tmp_path: Path) -> None:
    declares = _notebook(
        tmp_path / "a.ipynb", f'region: str = "all"\n{ATTACHMENTS_PARAMETER}: str = ""'
    )
    plain = _notebook(tmp_path / "b.ipynb", 'region: str = "all"')
    given = attachment_parameters(declares, tmp_path / "stage")
    assert given == {ATTACHMENTS_PARAMETER: str(tmp_path / "stage" / "attachments")}
    assert (tmp_path / "stage" / "attachments").is_dir()
    assert attachment_parameters(plain, tmp_path / "other") == {}
    assert not (tmp_path / "other").exists()


def test_publish_moves_the_folder_in_whole_and_replaces_the_old_one(tmp_path: Path) -> None:
    as_of_dir = tmp_path / "reports" / "2026-11-23"
    publish_success(_staged(tmp_path / "s1", {"REP-1.html": "one"}), as_of_dir, "east", TOPIC)
    published = as_of_dir / "east" / "statements"
    assert sorted(p.name for p in published.iterdir()) == ["REP-1.html"]
    publish_success(_staged(tmp_path / "s2", {"REP-2.html": "two"}), as_of_dir, "east", TOPIC)
    assert sorted(p.name for p in published.iterdir()) == ["REP-2.html"]
    assert (as_of_dir / "east" / f"{TOPIC}.html").read_text() == "new .html"


def test_a_failed_publish_puts_the_old_statements_back(tmp_path: Path) -> None:
    as_of_dir = tmp_path / "reports" / "2026-11-23"
    publish_success(_staged(tmp_path / "s1", {"REP-1.html": "one"}), as_of_dir, "east", TOPIC)
    broken = _staged(tmp_path / "s2", {"REP-2.html": "two"}, html=False)  # HTML move fails
    with pytest.raises(OSError):
        publish_success(broken, as_of_dir, "east", TOPIC)
    published = as_of_dir / "east" / "statements"
    assert sorted(p.name for p in published.iterdir()) == ["REP-1.html"]
    assert (published / "REP-1.html").read_text() == "one"


def test_an_unsafe_entry_name_publishes_nothing(tmp_path: Path) -> None:
    staging = _staged(tmp_path / "s", {})
    (staging / "attachments" / ".hidden").mkdir()
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(ParameterError, match="hidden"), published_with(staging, target):
        pass
    assert list(target.iterdir()) == []
