"""Collision-free, path-safe ids derived from source names.

An id is lowercase letters, digits and hyphens, at most :data:`MAX_ID_LENGTH` characters. Names
are first matched as the importer matches them everywhere (spaces collapsed, trimmed, case
folded): ``Widget`` and ``widget`` are one product. A name whose slug loses nothing but case and
spaces (``East``, ``Gold Plan``, ``east-1``) gets the plain slug (``east``, ``gold-plan``); every
other name (``WIDGET!``, ``Café``, a name too long for the limit, ``ALL``) gets its slug, cut
short, plus a hash of the name (``widget-3f2a9c0b1d``). So two distinct names never share an id,
a clean name keeps the same id from one snapshot to the next whatever else appears, and no name
becomes a reserved id. A name with no letter or digit (``!!!``) has no id (``""``): the recipe
quarantines its rows (rule ``empty_id``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from salesops_lib.core.config import ALL_REGIONS

MAX_ID_LENGTH = 40
RESERVED_IDS: frozenset[str] = frozenset({ALL_REGIONS})
"""Ids the workbench gives a meaning of its own (``all`` = the whole company)."""
_HASH = 10


def _by_unique(values: pd.Series, func: Callable[[str], object]) -> pd.Series:
    """Apply ``func`` once per distinct non-blank value; blanks give ``None``."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    mapped = np.array([func(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _key(name: str) -> str | None:
    return " ".join(name.split()).casefold() or None


def name_keys(values: pd.Series) -> pd.Series:
    """Names as matching keys: whitespace collapsed, trimmed, case folded (blank stays None)."""
    return _by_unique(values, _key)


def _slug(key: str) -> str:
    out, dash = [], False
    for char in key:
        if "a" <= char <= "z" or "0" <= char <= "9":
            out.append(char)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def _hashed(base: str, key: str, length: int) -> str:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:length]
    prefix = base[: MAX_ID_LENGTH - length - 1].strip("-")
    return f"{prefix}-{digest}" if prefix else f"id-{digest}"


def _assign(keys: list[str], reserved: frozenset[str] = frozenset()) -> dict[str, str]:
    """Key -> id for distinct keys, collision-free (see the module docstring)."""
    reserved = RESERVED_IDS | reserved
    bases = {k: _slug(k) for k in keys}
    exact = {k for k, b in bases.items() if b and k == b}
    spaced = {k for k, b in bases.items() if b and "-" not in k and k.replace(" ", "-") == b}
    taken = {bases[k] for k in exact}
    ids: dict[str, str] = {}
    for key in sorted(keys):
        base = bases[key]
        if not base:
            ids[key] = ""
        elif base in reserved or len(base) > MAX_ID_LENGTH:
            ids[key] = _hashed(base, key, _HASH)
        elif key in exact or (key in spaced and base not in taken):
            ids[key] = base
        else:
            ids[key] = _hashed(base, key, _HASH)
    seen: dict[str, str] = {}
    for key in sorted(keys):
        other = seen.get(ids[key])
        if ids[key] and other is not None and other != key:
            ids[key] = _hashed(bases[key], key, 2 * _HASH)
        seen[ids[key]] = key
    return ids


def derive_ids(values: pd.Series, reserved: frozenset[str] = frozenset()) -> pd.Series:
    """Collision-free ids for names (see the module docstring).

    Args:
        values: Source names (blank = ``None``/NaN).
        reserved: Ids the caller keeps for itself (besides :data:`RESERVED_IDS`): a name whose
            plain slug is one of them gets a hashed id, like ``ALL``.

    Returns:
        A new series of ids aligned with ``values``: ``None`` for a blank name, ``""`` for a
        name with no letter or digit.
    """
    keys = name_keys(values)
    ids = _assign(sorted(set(keys.dropna())), reserved)
    return _by_unique(keys, ids.__getitem__)


def reserved_names(values: pd.Series) -> pd.Series:
    """True where a name's plain slug is a reserved id (``ALL``, `` all! ``)."""
    reserved = _by_unique(name_keys(values), lambda k: _slug(k) in RESERVED_IDS)
    return reserved.eq(True)
