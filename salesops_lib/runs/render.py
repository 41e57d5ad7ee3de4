"""Executed notebook -> one self-contained, sanitized HTML page for executives.

nbconvert's :class:`~nbconvert.HTMLExporter` with the ``basic`` template renders the cells (no
input, no prompts) without any page chrome, so no CDN script or stylesheet is referenced. Cells
tagged ``parameters``, ``injected-parameters`` or ``headlines`` and stderr output are dropped.
Everything the notebook produced is treated as untrusted (CRM text ends up in HTML outputs) and
cleaned with :mod:`nh3`: table markup, basic formatting and ``img`` with ``data:image/...``
sources survive; ``<script>``, ``<style>``, event handlers and other URLs do not. The cleaned
fragment is placed in a small page template with inline CSS and a Content-Security-Policy that
forbids scripts as a second line of defence.
"""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

import nh3

from salesops_lib.core.text import visible_text

if TYPE_CHECKING:
    import nbformat

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
"""Page templates and the house CSS (shipped as package data)."""

REMOVED_CELL_TAGS: frozenset[str] = frozenset({"parameters", "injected-parameters", "headlines"})
"""Cells with any of these tags never appear in the HTML."""

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "div",
        "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p",
        "pre", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class"},
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
IMAGE_DATA_PREFIXES: tuple[str, ...] = ("data:image/png;base64,", "data:image/jpeg;base64,")


def _template(name: str) -> str:
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")


SIBLING_LINK = re.compile(
    r"^(?:\d{2}-[a-z0-9-]+\.html|statements/[A-Za-z0-9][A-Za-z0-9_.-]*\.html)(?:#[A-Za-z0-9_-]+)?$"
)
"""Relative links a report may keep: another report of its region (``00-data-quality.html``)
or one of its rep statements (``statements/REP-0001.html``); no ``..``, no scheme."""


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if value.startswith(IMAGE_DATA_PREFIXES) else None
    if attribute == "href" and not (
        value.startswith(("#", "https://", "http://", "mailto:")) or SIBLING_LINK.match(value)
    ):
        return None
    return value


def sanitize_html(fragment: str) -> str:
    """Clean untrusted HTML: keep tables, formatting and embedded PNG/JPEG images only.

    Args:
        fragment: HTML produced from notebook outputs.

    Returns:
        The fragment with scripts, styles, event handlers, unknown tags and non-image or
        non-web URLs removed, and without bidi controls or zero-width characters (every
        published page passes here, whatever display object produced its text).
    """
    return nh3.clean(
        visible_text(fragment),
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes={"data", "http", "https", "mailto"},
        strip_comments=True,
    )


def _without_stderr(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cleaned = copy.deepcopy(notebook)
    for cell in cleaned.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                out
                for out in cell.get("outputs", [])
                if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
            ]
    return cleaned


def notebook_body_html(notebook: nbformat.NotebookNode) -> str:
    """Render a notebook's outputs and markdown (no inputs, prompts or hidden cells), sanitized.

    Args:
        notebook: An executed notebook (not changed).

    Returns:
        The sanitized HTML fragment.
    """
    from nbconvert import HTMLExporter  # imported here: slow, and only rendering needs it
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        # Validate the notebook once after all preprocessors rather than after each one: the
        # result is the same check, and it halves the rendering time of a report.
        optimistic_validation=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=set(REMOVED_CELL_TAGS), enabled=True), enabled=True
    )
    body, _resources = exporter.from_notebook_node(_without_stderr(notebook))
    return sanitize_html(body)


def page_html(title: str, body: str, template: str = "report.html", **fields: str) -> str:
    """Wrap an already-safe HTML fragment in a page template with the house CSS.

    Args:
        title: Page title (plain text; escaped here).
        body: Sanitized or escaped HTML.
        template: Template file under ``salesops_lib/templates``.
        **fields: Further ``$name`` fields of the template (plain text; escaped here).

    Returns:
        The whole page.
    """
    escaped = {name: html.escape(value) for name, value in fields.items()}
    return Template(_template(template)).substitute(
        title=html.escape(title), css=_template("report.css"), body=body, **escaped
    )


def render_notebook(notebook: nbformat.NotebookNode, title: str) -> str:
    """Render an executed notebook as one self-contained, sanitized HTML page.

    Args:
        notebook: The executed notebook (not changed).
        title: Page title (plain text).

    Returns:
        The HTML page.
    """
    return page_html(title, notebook_body_html(notebook))


def render_file(notebook_path: Path, html_path: Path, title: str) -> Path:
    """Read an executed ``.ipynb`` and write its HTML page.

    Args:
        notebook_path: The executed notebook.
        html_path: Where to write the page.
        title: Page title (plain text).

    Returns:
        ``html_path``.
    """
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    html_path.write_text(render_notebook(notebook, title), encoding="utf-8")
    return html_path
