"""A report notebook's declared parameters (its ``parameters`` cell), and values checked on them.

Report notebooks declare their parameters in one cell tagged ``parameters``, one per line, as
``name: type = default  # help``. Papermill itself only warns about unknown names and never checks
types, so :func:`check_parameters` does that before any kernel starts: every name must be
declared, every value must have the declared type (text from the command line is converted), and
each error names the parameter, the value, and what is allowed.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from salesops_lib.core.errors import ParameterError

PARAMETERS_TAG = "parameters"
RUNNER_PARAMETERS = ("region", "as_of")
"""Parameters every report takes, set by the runner from ``--region`` and ``--as-of``."""

_SCALAR_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


@dataclass(frozen=True)
class NotebookParameter:
    """One parameter declared in a notebook's ``parameters`` cell.

    Attributes:
        name: The variable name.
        type_name: The annotation as written (``str``, ``int``, ``float``, ``bool``,
            ``list[str]``...), or ``""`` when the line has no annotation.
        default: The default value, when it is a literal.
        help: The trailing comment, without ``#``.
    """

    name: str
    type_name: str
    default: Any
    help: str


def _parameters_source(notebook_path: Path) -> str:
    try:
        document = json.loads(notebook_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ParameterError(f"{notebook_path}: cannot read the notebook: {exc}") from None
    for cell in document.get("cells", []):
        if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else str(source)
    raise ParameterError(f"{notebook_path}: no cell tagged {PARAMETERS_TAG!r}")


def _comment(lines: list[str], node: ast.stmt) -> str:
    end_line = node.end_lineno or node.lineno
    rest = lines[end_line - 1][node.end_col_offset or 0 :]
    return rest.split("#", 1)[1].strip() if "#" in rest else ""


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _declared(notebook_path: Path, mtime_ns: int) -> dict[str, NotebookParameter]:
    source = _parameters_source(notebook_path)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(
            f"{notebook_path}: parameters cell line {exc.lineno}: not valid Python ({exc.msg})"
        ) from None
    lines = source.splitlines()
    found: dict[str, NotebookParameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = NotebookParameter(
                node.target.id,
                ast.unparse(node.annotation),
                _literal(node.value),
                _comment(lines, node),
            )
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = NotebookParameter(
                        target.id, "", _literal(node.value), _comment(lines, node)
                    )
    return found


def notebook_parameters(notebook_path: Path) -> dict[str, NotebookParameter]:
    """Read the parameters a notebook declares in its ``parameters`` cell.

    Args:
        notebook_path: The ``.ipynb`` file.

    Returns:
        The declared parameters by name, in cell order.

    Raises:
        ParameterError: If the notebook cannot be read, has no ``parameters`` cell, or the cell
            is not valid Python.
    """
    path = Path(notebook_path).resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read the notebook: {exc}") from None
    return dict(_declared(path, mtime))


def _from_text(text: str, type_name: str) -> Any:
    if type_name == "str" or type_name == "":
        return text
    if type_name == "bool":
        lowered = text.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ValueError(text)
    if type_name in ("int", "float"):
        return _SCALAR_TYPES[type_name](text)
    return ast.literal_eval(text)


def _matches(value: Any, type_name: str) -> bool:
    if type_name == "":
        return True
    if type_name == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name in _SCALAR_TYPES:
        return isinstance(value, _SCALAR_TYPES[type_name])
    if type_name.startswith("list[") and type_name.endswith("]"):
        inner = type_name[5:-1]
        return isinstance(value, list) and all(_matches(item, inner) for item in value)
    raise ParameterError(f"type {type_name!r} is not supported in a parameters cell")


def _allowed(parameter: NotebookParameter) -> str:
    kind = parameter.type_name or "any value"
    if parameter.type_name == "bool":
        kind = "bool (true/false)"
    return f"{kind}, e.g. {parameter.default!r}" if parameter.default is not None else kind


def coerce_parameter(notebook_path: Path, name: str, value: Any) -> Any:
    """Check one value against a notebook's declared parameter and convert text to its type.

    Args:
        notebook_path: The notebook that declares the parameter.
        name: Parameter name.
        value: The value; a ``str`` from the command line is converted to the declared type,
            any other value must already have it (an ``int`` is accepted for a ``float``).

    Returns:
        The value, converted to the declared type.

    Raises:
        ParameterError: If the name is not declared or the value does not have (or convert to)
            the declared type; the message names the parameter, the value and what is allowed.
    """
    declared = notebook_parameters(notebook_path)
    if name not in declared:
        raise ParameterError(
            f"parameter {name!r} (value {value!r}) is not declared in "
            f"{Path(notebook_path).name}; allowed: {', '.join(declared) or 'none'}"
        )
    parameter = declared[name]
    converted = value
    if isinstance(value, str) and parameter.type_name not in ("str", ""):
        try:
            converted = _from_text(value, parameter.type_name)
        except (ValueError, SyntaxError):
            converted = value
    if not _matches(converted, parameter.type_name):
        raise ParameterError(
            f"parameter {name!r}: value {value!r} is not a {parameter.type_name} "
            f"(notebook {Path(notebook_path).name}); allowed: {_allowed(parameter)}"
        )
    return float(converted) if parameter.type_name == "float" else converted


def check_parameters(notebook_path: Path, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check every value against a notebook's ``parameters`` cell (see :func:`coerce_parameter`).

    Args:
        notebook_path: The notebook.
        values: Parameter values by name.

    Returns:
        A new dict of converted values.

    Raises:
        ParameterError: For the first unknown name or mistyped value.
    """
    return {name: coerce_parameter(notebook_path, name, value) for name, value in values.items()}


def parse_assignments(items: list[str]) -> dict[str, str]:
    """Parse ``--param k=v`` items into a dict of text values.

    Args:
        items: ``name=value`` strings.

    Returns:
        Values by name (the last one wins for a repeated name).

    Raises:
        ParameterError: If an item has no ``=`` or an empty name.
    """
    parsed: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param {item!r}: expected name=value")
        parsed[name.strip()] = value
    return parsed
