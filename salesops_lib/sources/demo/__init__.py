"""Deterministic demo data with planted signals (the workbench's embedded default data).

:func:`generate_demo` writes weekly snapshots of a realistic B2B company (regions, reps and
managers, accounts, products, three years of order lines, opportunities with stage history) and
a ``_truth.json`` that records every planted signal, so tests can check the analytics find them.
"""

from salesops_lib.sources.demo.generate import SCALES, generate_demo, resolve_scale

__all__ = ["SCALES", "generate_demo", "resolve_scale"]
