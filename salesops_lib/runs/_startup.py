"""Start-up and rendering trims for the runner's processes (import this before nbformat).

- ``jsonschema`` (imported by ``nbformat`` to validate notebooks) imports the optional
  ``rfc3987_syntax`` for its ``iri`` format checkers, and that import compiles a grammar: about
  1 s (several seconds on a loaded machine) in every process that reads a notebook. Notebook
  schemas use no ``iri`` formats, so the import is blocked when ``jsonschema`` has not been
  imported yet; ``jsonschema`` then leaves those two format checkers out, exactly as when the
  package is not installed.
- nbconvert validates the notebook after each of its ~13 preprocessors with additional
  properties relaxed, which ``nbformat`` never caches: with the default ``fastjsonschema``
  validator every check compiles the schema to Python (about 1 s per rendered report), with
  ``jsonschema`` it does not (about 0.4 s). ``NBFORMAT_VALIDATOR`` defaults to ``jsonschema``
  here; a value set in the environment wins.
"""

from __future__ import annotations

import os
import sys

if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
os.environ.setdefault("NBFORMAT_VALIDATOR", "jsonschema")
