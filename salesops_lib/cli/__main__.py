"""``python -m salesops_lib.cli``: the same as the ``salesops`` command."""

from salesops_lib.cli import app

if __name__ == "__main__":
    app(prog_name="salesops")
