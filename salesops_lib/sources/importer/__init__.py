"""Importers: map CSV exports onto the snapshot tables with a declarative YAML mapping.

``import_snapshot`` (in :mod:`salesops_lib.sources.importer.command`) is the entry point; the
mapping
format is :class:`salesops_lib.sources.importer.mapping.Mapping`. Rows that break a rule are kept
in a
quarantine list written into the snapshot as ``_quarantine.json``.

Hostile input is bounded and checked before it can corrupt anything: only regular files are
read (no FIFOs, devices, or links out of an export folder), every source has size limits
(:mod:`~salesops_lib.sources.importer.limits`), text is read streaming with its encoding settled
first (:mod:`~salesops_lib.sources.importer.textfile`), workbooks are checked for zip bombs and
read once, invisible characters are stripped, numbers are range-checked and ids are derived
collision-free (:mod:`~salesops_lib.sources.importer.ids`).
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
