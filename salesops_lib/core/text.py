"""Invisible characters in untrusted text: bidi controls and zero-width characters.

They make a name display reversed (U+202E) or make two equal-looking names differ (U+200B).
The importer strips them from every mapped value and records the correction; reports strip
them again at display, for text that reached a snapshot another way.
"""

from __future__ import annotations

import re

INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
"""Bidi embedding, override and isolate controls, marks, and zero-width characters."""


def visible_text(value: object) -> str:
    """``value`` as text without bidi controls or zero-width characters."""
    return INVISIBLE.sub("", str(value))
