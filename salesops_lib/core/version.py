"""Which code produced a result: the package version and the git commit."""

from __future__ import annotations

import hashlib
import importlib.metadata
import subprocess
from pathlib import Path

DISTRIBUTION = "salesops-workbench"
"""The installed distribution whose version identifies the code."""


def code_version() -> dict[str, str | None]:
    """The package version and the git commit of the code (``None`` outside a checkout)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        commit = done.stdout.strip() if done.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        commit = None
    try:
        package = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        package = "unknown"
    return {"package": package, "commit": commit or None}


CODE_VERSION_ENV = "SALESOPS_CODE_VERSION"
"""Pins the code version (e.g. a release tag) that skip-when-unchanged and the store key use."""

SOURCE_SUFFIXES: tuple[str, ...] = (".py", ".sql", ".yml", ".html", ".css")
"""Files whose contents make up the code version."""


def source_digest(package_dir: Path, folders: tuple[str, ...] = ("",)) -> str:
    """SHA-256 over the source files under ``folders`` of a package (uncommitted edits too).

    Args:
        package_dir: The ``salesops_lib`` folder.
        folders: Sub-folders to cover, relative to ``package_dir``; ``("",)`` is all of it.

    Returns:
        A hex digest of every file's path (relative to ``package_dir``) and contents.
    """
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted((package_dir / folder).rglob("*")):
            if (
                path.suffix in SOURCE_SUFFIXES
                and "__pycache__" not in path.parts
                and path.is_file()
            ):
                digest.update(path.relative_to(package_dir).as_posix().encode())
                digest.update(b"\0")
                digest.update(path.read_bytes())
                digest.update(b"\0")
    return digest.hexdigest()
