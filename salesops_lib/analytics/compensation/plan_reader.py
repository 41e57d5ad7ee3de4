"""Reading a plans file's YAML node tree with the file and line of every value (for errors)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import yaml

from salesops_lib.core.errors import CompPlanError
from salesops_lib.core.yaml_nodes import NodeReader


class PlanReader(NodeReader):
    """Reads a plans file's values; errors are :class:`CompPlanError` naming the file and line."""

    def __init__(self, source: str, text: str) -> None:
        super().__init__(source, text, CompPlanError)

    def mapping(
        self, node: yaml.Node, what: str, allowed: tuple[str, ...] | None = None
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        items: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, f"{what}: key {key!r} must be text")
            if allowed is not None and key not in allowed:
                raise self.fail(
                    key_node, f"{what}: unknown key {key!r} (allowed: {', '.join(allowed)})"
                )
            if key in items:
                raise self.fail(key_node, f"{what}: key {key!r} given twice")
            items[key] = value_node
        return items

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.value(node)
        if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
            raise self.fail(node, f"{what} must be non-empty text")
        return str(value).strip()

    def choice(self, node: yaml.Node, what: str, allowed: tuple[str, ...]) -> str:
        value = self.value(node)
        if value not in allowed:
            raise self.fail(node, f"{what} must be one of {', '.join(allowed)}, not {value!r}")
        return str(value)

    def number(
        self, node: yaml.Node, what: str, *, places: int | None = None, minimum: int = 0
    ) -> Decimal:
        value = self.value(node)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(node, f"{what} must be a number, not {value!r}")
        try:
            number = Decimal(str(node.value).replace("_", ""))
        except InvalidOperation:
            raise self.fail(node, f"{what} must be a number, not {value!r}") from None
        if not number.is_finite() or number < minimum:
            raise self.fail(node, f"{what} must be a number >= {minimum}, not {value!r}")
        if places is not None and number != number.quantize(Decimal(1).scaleb(-places)):
            raise self.fail(node, f"{what} must have at most {places} decimals, not {value!r}")
        return number

    def integer(self, node: yaml.Node, what: str, minimum: int = 0) -> int:
        value = self.value(node)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(node, f"{what} must be a whole number >= {minimum}, not {value!r}")
        return value

    def flag(self, node: yaml.Node, what: str) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            raise self.fail(node, f"{what} must be true or false, not {value!r}")
        return value

    def date(self, node: yaml.Node, what: str) -> dt.date:
        raw = node.value if isinstance(node, yaml.ScalarNode) else None
        try:
            return dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise self.fail(node, f"{what} must be a date YYYY-MM-DD, not {raw!r}") from None

    def strings(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        value = self.value(node)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(node, f"{what} must be a list of text values")
        return tuple(value)
