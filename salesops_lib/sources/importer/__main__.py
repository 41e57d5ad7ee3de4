"""``python -m salesops_lib.sources.importer MAPPING SOURCE...``: the same as
``salesops import``."""

from __future__ import annotations

import sys

from salesops_lib.cli import app


def main() -> None:
    """Run ``salesops import`` with this process's arguments."""
    app(["import", *sys.argv[1:]], prog_name="python -m salesops_lib.sources.importer")


if __name__ == "__main__":
    main()
