"""Importers: map CSV exports onto the snapshot tables with a declarative YAML mapping.

``import_snapshot`` (in :mod:`salesops_lib.sources.importer.command`) is the entry point; the
mapping
format is :class:`salesops_lib.sources.importer.mapping.Mapping`. Rows that break a rule are kept
in a
quarantine list written into the snapshot as ``_quarantine.json``.
"""

from salesops_lib.sources.importer.command import ImportSummary, import_snapshot
from salesops_lib.sources.importer.mapping import Mapping, load_mapping
from salesops_lib.sources.importer.quarantine import ImportDataError

__all__ = [
    "ImportDataError",
    "ImportSummary",
    "Mapping",
    "import_snapshot",
    "load_mapping",
]
