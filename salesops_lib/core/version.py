"""Which code produced a result: the package version and the git commit."""

from __future__ import annotations

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
