"""Chart text from data is drawn literally: a TeX-looking region name never reaches mathtext."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from salesops_lib.core.text import INVISIBLE
from salesops_lib.reports import charts

HOSTILE_NAMES = [r"$\require{x}$", r"$\frac{a}{b$", "Price ^ $5 & 50%", r"\\ $x_{1}$ $"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_tex_looking_name_renders_literally(name: str) -> None:
    figure, axes = charts.new_axes()
    axes.bar([name, "East"], [1.0, 2.0])
    axes.set_title(f"Bookings of {name}")
    axes.set_xlabel(name)
    axes.legend([name])
    png = charts.figure_png(figure)
    assert png.startswith(b"\x89PNG")
    titles = {axes.get_title(loc=where) for where in ("left", "center", "right")}
    assert f"Bookings of {name}" in titles
    assert all(not t.get_parse_math() for t in figure.findobj(plt.Text))


def test_mathtext_would_have_failed_on_such_a_name() -> None:
    # the reason for the rule: matplotlib's default parses $...$ and refuses \require
    figure = plt.figure()
    figure.suptitle(r"$\require{x}$")
    with pytest.raises(ValueError):
        figure.canvas.draw()
    plt.close(figure)


BIDI_NAME = "Acme \u202egnp.exe\u202c Ltd\u200b"
"""A right-to-left override that would display 'exe.png' and a zero-width space."""


def test_bidi_and_zero_width_characters_are_removed_at_display() -> None:
    from salesops_lib.reports import narrative

    table = charts.format_table(pd.DataFrame({"account": [BIDI_NAME], "bookings": [1.0]}))
    html = table._repr_html_()
    assert "Acme gnp.exe Ltd" in html
    assert not INVISIBLE.search(html)
    assert not INVISIBLE.search(narrative.paragraph(f"Top account: {BIDI_NAME}")._repr_html_())
    assert not INVISIBLE.search(narrative.bullet_list([BIDI_NAME])._repr_html_())
    figure, axes = charts.new_axes()
    axes.set_title(BIDI_NAME)
    axes.bar(charts.plain_labels([BIDI_NAME]), [1.0])
    charts.figure_png(figure)
    assert not any(INVISIBLE.search(t.get_text()) for t in figure.findobj(plt.Text))
