"""Reading a YAML file's node tree so that every error names the file and line of the value.

Configuration files (the schedule, compensation plans) are checked as a whole before anything
runs; :class:`NodeReader` is the one piece they share: parse, construct a value, and build the
``FILE:LINE: rule`` error. Each file's own reader adds the typed checks it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from salesops_lib.core.errors import ConfigError


class NodeReader:
    """Reads values out of a YAML node tree; errors carry the file and line.

    Args:
        source: The file's name or path, as errors should show it.
        text: The file's text.
        error: The error class to raise (a :class:`ConfigError` subclass).
    """

    def __init__(
        self, source: str | Path, text: str, error: type[ConfigError] = ConfigError
    ) -> None:
        self.source = source
        self.error = error
        self.loader = yaml.SafeLoader(text)

    def root(self) -> yaml.Node | None:
        """The document's root node (``None`` for an empty file)."""
        try:
            return self.loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f"{mark.line + 1}:" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise self.error(f"{self.source}:{line} not valid YAML: {problem}") from None

    def fail(self, node: yaml.Node, rule: str) -> ConfigError:
        """The error for ``node`` breaking ``rule`` (``FILE:LINE: rule``), to raise."""
        return self.error(f"{self.source}:{node.start_mark.line + 1}: {rule}")

    def value(self, node: yaml.Node) -> Any:
        """The Python value of ``node``; a value YAML cannot construct is an error at its line."""
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            raise self.fail(node, f"not a valid value: {exc}") from None
