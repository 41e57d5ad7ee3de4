"""Sales Ops Workbench: shared helpers behind the report notebooks.

The public surface is small: open a snapshot with :func:`salesops_lib.data.snapshot.open_snapshot`,
query it through :class:`salesops_lib.data.warehouse.Warehouse`, and render charts and summaries
with
the analytics modules.
"""

__version__ = "0.1.0"
