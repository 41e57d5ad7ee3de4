"""The house chart style: one look for every report chart and table.

Rules: titles state the finding (the caller writes them from the numbers), axes are labelled with
units, money axes read ``$1.2M``, and every region has the same colour in every chart (keyed by
region id). Figures are built with :class:`matplotlib.figure.Figure` rather than pyplot, so no
global figure state leaks between cells; :class:`PngFigure` displays one as an embedded PNG.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import matplotlib as mpl
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter

from salesops_lib.core.text import INVISIBLE, visible_text
from salesops_lib.reports.narrative import format_change, format_money, format_pct

HOUSE_COLORS: tuple[str, ...] = (
    "#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc",
    "#ca9161", "#fbafe4", "#56b4e9", "#ece133", "#949494",
)  # fmt: skip
"""Seaborn's colour-blind palette (grey moved last), fixed so colours never depend on defaults."""

CATEGORY_COLORS: dict[str, str] = {
    "Pipeline": "#9ecae1",
    "Best Case": "#4292c6",
    "Commit": "#08519c",
}
"""Forecast categories, light (least certain) to dark (most certain)."""

HOUSE_RC: dict[str, object] = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": "#e5e5e5",
    "legend.frameon": False,
    "figure.dpi": 100,
}
PNG_DPI = 110


def region_palette(region_ids: Iterable[str]) -> dict[str, str]:
    """Colour per region id: sorted ids take the house colours in turn (cycling past ten).

    Args:
        region_ids: Every region id that can appear (pass the snapshot's full list so one
            region keeps its colour across regional and company reports).

    Returns:
        Region id -> hex colour.
    """
    ordered = sorted(set(region_ids))
    return {rid: HOUSE_COLORS[i % len(HOUSE_COLORS)] for i, rid in enumerate(ordered)}


def money_formatter() -> FuncFormatter:
    """Tick formatter for money axes (``$1.2M``)."""
    return FuncFormatter(lambda value, _pos: format_money(value))


def plain_labels(labels: Iterable[object]) -> list[str]:
    """Labels from untrusted text, as shown: no bidi or zero-width characters.

    ``$`` and ``\\`` stay as they are: :func:`figure_png` draws every text with mathtext off.
    """
    return [visible_text(label) for label in labels]


def new_axes(width: float = 9.0, height: float = 4.2) -> tuple[Figure, Axes]:
    """A new figure with one axes in the house style (no pyplot state)."""
    with mpl.rc_context(HOUSE_RC):
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.add_subplot()
    return figure, axes


@dataclass(frozen=True)
class PngFigure:
    """A figure that displays in a notebook as one embedded PNG."""

    figure: Figure

    def _repr_png_(self) -> bytes:
        return figure_png(self.figure)

    def __repr__(self) -> str:
        title = self.figure.axes[0].get_title(loc="left") if self.figure.axes else ""
        return f"<chart: {title}>"


def figure_png(figure: Figure) -> bytes:
    """Render a figure to PNG bytes at the house resolution.

    Every text of the figure is drawn literally first: names from the data may hold ``$``,
    ``\\`` or ``^`` (``$\\require{x}$`` as a region name), which matplotlib would otherwise
    parse as mathtext, and fail or draw something else.
    """
    for text in figure.findobj(Text):
        text.set_parse_math(False)
        if INVISIBLE.search(text.get_text()):
            text.set_text(visible_text(text.get_text()))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, facecolor="white")
    return buffer.getvalue()


@dataclass(frozen=True)
class DisplayTable:
    """A formatted table that displays as plain, escaped HTML without the row index.

    Attributes:
        frame: The table of display strings.
    """

    frame: pd.DataFrame

    def _repr_html_(self) -> str:
        shown = self.frame.map(lambda v: visible_text(v) if isinstance(v, str) else v)
        return shown.to_html(index=False, escape=True, border=0, classes="dataframe")

    def __repr__(self) -> str:
        return self.frame.to_string(index=False)


def format_table(
    table: pd.DataFrame,
    money: Sequence[str] = (),
    pct: Sequence[str] = (),
    counts: Sequence[str] = (),
    changes: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> DisplayTable:
    """Return a display copy of a table: numbers as text and readable headers.

    Args:
        table: The table (not changed).
        money: Columns to show as money (``$1.2M``).
        pct: Ratio columns to show as whole percentages.
        counts: Integer columns to show with thousands separators.
        changes: Relative-change columns to show as signed percentages (``+12%``).
        labels: Column -> header text.

    Returns:
        The formatted table; its HTML escapes all text (region or account names are untrusted).
    """
    shown = table.copy()
    for column in money:
        shown[column] = shown[column].map(format_money)
    for column in pct:
        shown[column] = shown[column].map(format_pct)
    for column in counts:
        shown[column] = shown[column].map(lambda n: f"{int(n):,}")
    for column in changes:
        shown[column] = shown[column].map(format_change)
    return DisplayTable(shown.rename(columns=dict(labels or {})).reset_index(drop=True))
