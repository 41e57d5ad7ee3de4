"""How a report hands its headline numbers to the runner: one display under one mimetype.

A report's last cells display a :class:`~salesops_lib.reports.base.Headlines` object; its output
carries a JSON object under :data:`HEADLINES_MIMETYPE`, which the runner copies into the run
record and the index pages. This module is the whole protocol, so both sides import it from here
and neither imports the other.
"""

HEADLINES_MIMETYPE = "application/vnd.salesops.headlines+json"
"""Mimetype of the display (in a cell tagged ``headlines``) that carries a report's numbers."""
