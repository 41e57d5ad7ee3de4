"""The YAML mapping format: which source file and column feeds which snapshot field.

A mapping names a ``kind`` (the recipe that builds the nine tables), the source files with their
reading options (encoding, separators, date order, Excel date system) and, per logical field, the
source column and its type. Value maps (stages with effective dates, product and category
aliases, regions) are declarative too. Errors name the mapping file and the line of the entry.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from salesops_lib.core.config import ALL_REGIONS, configured_stage_model
from salesops_lib.core.errors import ConfigError
from salesops_lib.core.stages import StageModel
from salesops_lib.sources.importer.limits import (
    MAX_MAPPING_BYTES,
    ImportLimits,
    require_regular_file,
)
from salesops_lib.sources.importer.plan_spec import (
    check_order_line_sources,
    check_plan_grains,
)
from salesops_lib.sources.importer.quarantine import ImportDataError

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
FieldType = Literal["string", "category", "date", "number", "integer"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """One logical field read from a source column.

    Attributes:
        column: The column header in the source file (matched after trimming spaces, ignoring
            case).
        type: How the text is parsed: string, category (trimmed, matched ignoring case),
            date, number or integer.
        required: A blank value quarantines the row (rule ``missing_<field>``) unless the kind
            documents another treatment.
    """

    column: str
    type: FieldType = "string"
    required: bool = True


class SourceSpec(_Strict):
    """One source file and how to read it.

    Attributes:
        file: File name to look for among the given sources (a directory is searched for it).
        encoding: ``auto`` (UTF-8 with or without BOM, else Latin-1), or a codec name.
        delimiter: Field separator.
        decimal: Decimal separator of numbers.
        thousands: Thousands separator of numbers (``""`` for none).
        dayfirst: Whether ambiguous dates such as 03/04/2017 are day first.
        date_format: An explicit strptime format; ``None`` accepts ISO and common formats.
        excel_dates: Read whole numbers in date columns as Excel serial dates in this system
            (``1900`` or ``1904``); ``None`` treats them as unparseable in text files and
            uses the workbook's own date system in Excel workbooks.
        sheet: The worksheet to read from an Excel workbook; ``None`` reads the first sheet.
        columns: Logical field name -> source column.
        limits: Size limits of this source (file bytes, rows, cells, workbook expansion).
    """

    file: str
    encoding: str = "auto"
    delimiter: str = ","
    decimal: str = "."
    thousands: str = ","
    dayfirst: bool = False
    date_format: str | None = None
    excel_dates: Literal[1900, 1904] | None = None
    sheet: str | None = None
    columns: dict[str, ColumnSpec]
    limits: ImportLimits = ImportLimits()

    @field_validator("decimal")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("decimal separator must be one character")
        return value


class StageRule(_Strict):
    """One source stage name and the workspace stage it maps to, optionally from a date on.

    Attributes:
        source: Stage name in the export (matched trimmed, ignoring case).
        stage: A stage of the workspace's stage model (``stages:`` in the workbench
            configuration; :mod:`salesops_lib.core.stages`).
        effective_from: First as-of date the rule applies to (``None``: always). When several
            rules share a source name, the latest one in effect on the as-of date wins.
    """

    source: str
    stage: str
    effective_from: dt.date | None = None

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, value: str, info: ValidationInfo) -> str:
        model = (info.context or {}).get("stage_model") or configured_stage_model()
        if value not in model.names:
            raise ValueError(
                f"stage {value!r} is not a stage of the workspace's stage model; "
                f"allowed: {', '.join(model.names)} (the stages: block of the workbench "
                "configuration in use, SALESOPS_CONFIG)"
            )
        return value


class RegionRule(_Strict):
    """A region: its path-safe id and display name.

    Attributes:
        id: Lowercase letters, digits and hyphens.
        name: Display name.
    """

    id: str
    name: str

    @field_validator("id")
    @classmethod
    def _path_safe(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(f"region id {value!r} must be lowercase letters, digits, hyphens")
        if value == ALL_REGIONS:
            raise ValueError(f"region id {value!r} is reserved for the whole company")
        return value


class Mapping(_Strict):
    """A whole mapping file.

    Attributes:
        name: Short name, recorded in the snapshot's manifest.
        kind: The build recipe: ``crm_opportunities`` (deals, accounts, products, teams) or
            ``order_lines`` (a plain order book).
        currency: ISO currency code of every amount (recorded, not converted).
        max_failed_share: Stop the import when more than this share of a source's rows is
            quarantined.
        sources: Logical source name -> how to read it.
        stages: Stage-name mapping (crm_opportunities).
        product_aliases: Source product name -> catalogue name (matched ignoring case).
        category_aliases: Per field, source value -> corrected value (for example sector typos).
        regions: Source region value -> region (matched trimmed, ignoring case).
        constants: Values for fields a source does not have (for example one region or rep).
        options: Kind-specific numbers (for example size-band employee thresholds).
    """

    name: str
    kind: Literal["crm_opportunities", "order_lines"]
    currency: str = "USD"
    max_failed_share: float = Field(default=0.05, ge=0.0, le=1.0)
    sources: dict[str, SourceSpec]
    stages: list[StageRule] = []
    product_aliases: dict[str, str] = {}
    category_aliases: dict[str, dict[str, str]] = {}
    regions: dict[str, RegionRule] = {}
    constants: dict[str, str | float | int] = {}
    options: dict[str, float | int | str] = {}

    @field_validator("sources")
    @classmethod
    def _order_line_sources(
        cls, value: dict[str, SourceSpec], info: ValidationInfo
    ) -> dict[str, SourceSpec]:
        """An ``order_lines`` mapping: orders, plus optional quota and target files."""
        if info.data.get("kind") == "order_lines":
            check_order_line_sources(value)
        return value

    @model_validator(mode="after")
    def _plan_grains(self) -> Mapping:
        """Every quota and target file can tell where each row's period ends."""
        if self.kind == "order_lines":
            check_plan_grains(self.sources, self.constants)
        return self

    def stage_map(self, as_of: dt.date) -> dict[str, str]:
        """Return source stage (casefolded) -> schema stage for the rules in effect on ``as_of``."""
        rules = sorted(
            (r for r in self.stages if r.effective_from is None or r.effective_from <= as_of),
            key=lambda r: r.effective_from or dt.date.min,
        )
        return {r.source.strip().casefold(): r.stage for r in rules}


def _line_of(node: yaml.Node, loc: tuple[Any, ...]) -> int:
    """Return the 1-based line of the YAML node at ``loc`` (or its nearest existing parent)."""
    line = node.start_mark.line + 1
    for key in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key:
                    child, line = v, k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def load_mapping(path: Path, stage_model: StageModel | None = None) -> Mapping:
    """Read and validate a mapping file.

    Args:
        path: The YAML mapping.
        stage_model: The stages a stage rule may map to; defaults to the workspace's
            configured model.

    Returns:
        The validated mapping.

    Raises:
        ConfigError: If the file is missing, not YAML, or breaks the format; the message names
            the file, the line and the entry.
    """
    path = Path(path)
    try:
        info = require_regular_file(path, "mapping")
    except ImportDataError as exc:
        raise ConfigError(str(exc)) from None
    if info.st_size > MAX_MAPPING_BYTES:
        raise ConfigError(f"mapping {path}: {info.st_size:,} bytes is too large for a mapping")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"mapping {path}: cannot read: {reason}") from None
    try:
        raw = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"mapping {path}: not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(raw, dict) or node is None:
        raise ConfigError(f"mapping {path}: expected a YAML mapping at the top level")
    try:
        return Mapping.model_validate(raw, context={"stage_model": stage_model})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        line = _line_of(node, tuple(first["loc"]))
        raise ConfigError(
            f"mapping {path}, line {line}: {where or '(top level)'}: {first['msg']}"
            + (f" ({exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
        ) from None
