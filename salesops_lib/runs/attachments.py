"""Attachments: extra files a report run publishes beside its HTML (per-rep statements, say).

A notebook that declares the parameter :data:`ATTACHMENTS_PARAMETER` (``attachments_dir: str =
""``) in its ``parameters`` cell is given, at run time, a folder inside the run's staging
folder. Whatever it writes there is published with the report: each top-level entry
``<staging>/attachments/<name>`` replaces ``reports/<as_of>/<region>/<name>`` whole, moved in
with one rename each, just before the report's HTML (see
:func:`salesops_lib.runs.publish.publish_success`). A failed run publishes none (its staging
folder is removed), and a published set is either the old one or the new one, never a mix.

Notebooks that do not declare the parameter are run exactly as before.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from salesops_lib.core.errors import ParameterError

ATTACHMENTS_PARAMETER = "attachments_dir"
"""The notebook parameter that receives the run's attachments folder."""
STAGED_NAME = "attachments"
"""The attachments folder's name inside the run's staging folder."""
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_RESERVED_SUFFIXES = (".html", ".ipynb", ".json")


def staged_dir(staging: Path) -> Path:
    """The attachments folder of a run staged in ``staging`` (not created)."""
    return staging / STAGED_NAME


def declares_attachments(notebook: Path) -> bool:
    """Whether a notebook declares the :data:`ATTACHMENTS_PARAMETER` parameter."""
    from salesops_lib.runs.params import notebook_parameters

    try:
        return ATTACHMENTS_PARAMETER in notebook_parameters(notebook)
    except ParameterError:
        return False


def attachment_parameters(notebook: Path, staging: Path) -> dict[str, str]:
    """The parameter to inject for a notebook run staged in ``staging`` (empty if undeclared).

    Args:
        notebook: The source notebook.
        staging: The run's staging folder.

    Returns:
        ``{"attachments_dir": "<staging>/attachments"}`` (the folder is created), or ``{}``.
    """
    if not declares_attachments(notebook):
        return {}
    folder = staged_dir(staging)
    folder.mkdir(parents=True, exist_ok=True)
    return {ATTACHMENTS_PARAMETER: str(folder)}


def safe_name(name: str, what: str = "attachment") -> str:
    """Check that ``name`` is one path-safe file or folder name (letters, digits, ``_.-``).

    Args:
        name: The name, e.g. a rep id used as a file name.
        what: What the name is, for the error.

    Returns:
        The name, unchanged.

    Raises:
        ParameterError: If it is empty, too long, starts with a dot or holds other characters.
    """
    if not isinstance(name, str) or not _SAFE_NAME.match(name):
        raise ParameterError(
            f"{what} name {name!r} is not path-safe: use 1-100 letters, digits, '_', '.', '-' "
            "(not starting with '.' or '-')"
        )
    return name


def _entries(staging: Path) -> list[Path]:
    folder = staged_dir(staging)
    if not folder.is_dir():
        return []
    entries = sorted(folder.iterdir())
    for entry in entries:
        safe_name(entry.name)
        if entry.name.endswith(_RESERVED_SUFFIXES) and entry.is_file():
            raise ParameterError(
                f"attachment {entry.name!r} would clash with a report file; use a folder"
            )
    return entries


@contextlib.contextmanager
def published_with(staging: Path, target: Path) -> Iterator[None]:
    """Move a run's attachments into the published region folder, each entry whole; undo all
    of it if the body (publishing the report's own files) fails.

    Each entry replacing an existing one is swapped with two renames (old aside into the
    staging folder, new in); the old copies go when the staging folder is removed.

    Args:
        staging: The run's staging folder.
        target: ``reports/<as_of>/<region>``.

    Yields:
        Nothing; the report's own files are moved in the ``with`` body.

    Raises:
        ParameterError: If an entry's name is not path-safe (nothing is moved).
    """
    entries = _entries(staging)
    moved: list[tuple[Path, Path, Path | None]] = []  # (staged, published, old copy aside)
    try:
        for entry in entries:
            published = target / entry.name
            aside = None
            if published.exists():
                aside = staging / f".old-{STAGED_NAME}-{uuid.uuid4().hex}"
                os.replace(published, aside)
                moved.append((entry, published, aside))
            os.replace(entry, published)
            if aside is None:
                moved.append((entry, published, None))
        yield
    except BaseException:
        for staged, published, aside in reversed(moved):
            with contextlib.suppress(OSError):
                if published.exists():
                    os.replace(published, staged)
                if aside is not None:
                    os.replace(aside, published)
        raise
