"""Executed notebook -> sanitized, self-contained HTML."""

from __future__ import annotations

import base64
import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from salesops_lib.runs.render import render_notebook, sanitize_html

PNG_BYTES = b"\x89PNG\r\n\x1a\n-a-tiny-test-image-"
PNG_B64 = base64.b64encode(PNG_BYTES).decode()


def _cell(source: str, outputs: list, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = new_code_cell(source, outputs=outputs, execution_count=1)
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _executed_notebook() -> nbformat.NotebookNode:
    html_output = new_output(
        "display_data",
        data={
            "text/html": '<table class="dataframe"><tr><td>Acme &amp; Co</td></tr></table>'
            '<script>alert("crm")</script><img src="x" onerror="alert(2)">'
            '<a href="javascript:alert(3)">click</a>',
            "text/plain": "table",
        },
    )
    png_output = new_output("display_data", data={"image/png": PNG_B64, "text/plain": "chart"})
    return new_notebook(
        cells=[
            _cell("import secret_module_name", []),
            _cell('region: str = "all"  # default', [], tags=["parameters"]),
            _cell(
                'region = "uki"',
                [new_output("stream", name="stdout", text="INJECTED-PARAMETER-OUTPUT")],
                tags=["injected-parameters"],
            ),
            new_markdown_cell("## Bookings trend"),
            _cell("overview.table(data)", [html_output]),
            _cell("overview.chart(data)", [png_output]),
            _cell(
                "overview.headlines(data)",
                [new_output("display_data", data={"text/plain": "HEADLINE-NUMBERS"})],
                tags=["headlines"],
            ),
            _cell("noisy()", [new_output("stream", name="stderr", text="SOME-WARNING")]),
        ]
    )


def test_html_has_no_inputs_hidden_cells_or_prompts() -> None:
    page = render_notebook(_executed_notebook(), "Overview: UK & Ireland")
    assert "secret_module_name" not in page
    assert "overview.table" not in page
    assert "INJECTED-PARAMETER-OUTPUT" not in page
    assert "HEADLINE-NUMBERS" not in page
    assert "SOME-WARNING" not in page
    assert "In&nbsp;[" not in page and "In [" not in page
    assert "<title>Overview: UK &amp; Ireland</title>" in page
    assert "Bookings trend" in page


def test_html_is_sanitized() -> None:
    page = render_notebook(_executed_notebook(), "t")
    assert "<script" not in page.lower()
    assert "onerror" not in page
    assert "javascript:" not in page
    assert "Acme &amp; Co" in page  # table markup and text survive
    assert "<table" in page and "<td>" in page


def test_html_embeds_the_image_and_needs_no_external_resources() -> None:
    page = render_notebook(_executed_notebook(), "t")
    assert f'src="data:image/png;base64,{PNG_B64}"' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "require.js" not in page and "mathjax" not in page.lower()
    assert "<style>" in page  # the house CSS is inline


def test_sanitize_keeps_data_images_only() -> None:
    cleaned = sanitize_html(
        '<img src="data:image/png;base64,AAAA"><img src="https://tracker.example/x.png">'
        '<img src="data:text/html;base64,PHNjcmlwdD4=">'
    )
    assert cleaned.count("<img") == 3
    assert cleaned.count('src="data:image/png;base64,AAAA"') == 1
    assert "tracker.example" not in cleaned and "data:text/html" not in cleaned


def test_published_html_carries_no_bidi_or_zero_width_characters() -> None:
    from salesops_lib.runs.render import sanitize_html

    cleaned = sanitize_html("<p>Acme \u202egnp.exe\u202c Ltd\u200b</p><td>\u2066x\u2069</td>")
    assert "Acme gnp.exe Ltd" in cleaned and "x" in cleaned
    assert not any(ch in cleaned for ch in "\u202e\u202c\u200b\u2066\u2069")


def test_only_sibling_report_and_statement_links_survive() -> None:
    kept = [
        '<a href="00-data-quality.html">quality</a>',
        '<a href="statements/REP-0001.html">statement</a>',
        '<a href="10-performance.html#deals-at-risk">risks</a>',
    ]
    dropped = [
        '<a href="../na-east/00-overview.html">other region</a>',
        '<a href="statements/../../x.html">escape</a>',
        '<a href="/etc/passwd">root</a>',
        '<a href="file:///etc/passwd">file</a>',
        '<a href="x.html">not a report</a>',
    ]
    for link in kept:
        assert 'href="' in sanitize_html(link), link
    for link in dropped:
        assert "href" not in sanitize_html(link), link
