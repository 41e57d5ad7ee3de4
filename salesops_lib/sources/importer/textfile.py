"""Checked, streaming reading of delimited text exports.

The file is read once to settle its encoding (``auto``: a byte-order mark, else UTF-8, else
Latin-1; a file that mixes UTF-8 and Latin-1 lines stops the import, as does UTF-16 without a
byte-order mark), then record by record with the ``csv`` module, keeping only the mapped
columns (repeated values share one string), so memory grows with the mapped cells, not the file.
Per record the reader checks what used to corrupt data silently: a record with another number of
fields than the header (its values would shift) and a NUL byte in a mapped value (it truncated the
value) quarantine the record; a header that names a mapped column twice stops the import.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from salesops_lib.core.text import INVISIBLE
from salesops_lib.sources.importer.limits import check_file_size, check_rows
from salesops_lib.sources.importer.mapping import SourceSpec
from salesops_lib.sources.importer.quarantine import ImportDataError

_CHUNK = 1 << 20
_CACHE_SIZE = 200_000
_BATCH = 65_536
"""Bidi controls and zero-width characters: invisible, but they reverse or split names."""
"""Distinct values remembered per column, so repeated values share one string."""
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class RowIssue:
    """A record the reader quarantined.

    Attributes:
        row: Line number of the record (header = 1).
        rule: ``field_count`` or ``nul_byte``.
        column: The source column (``(row)`` for the whole record).
        value: What was wrong, without echoing unmapped content.
    """

    row: int
    rule: str
    column: str
    value: str | None


def _column_at(head: bytes, line: bytes, position: int, delimiter: str) -> str:
    """The header name of the field holding byte ``position`` of ``line`` (best effort)."""
    header = next(csv.reader([head.decode("latin-1").rstrip("\r\n")], delimiter=delimiter), [])
    prefix = line[:position].decode("latin-1")
    index = len(next(csv.reader([prefix], delimiter=delimiter), [""])) - 1
    return header[index].strip() if 0 <= index < len(header) else f"field {index + 1}"


def _looks_utf16(sample: bytes) -> bool:
    """True when every other byte of a sample is NUL (UTF-16 text without a byte-order mark)."""
    if len(sample) < 8:
        return False
    odd, even = sample[1::2], sample[0::2]
    return odd.count(0) > 0.8 * len(odd) or even.count(0) > 0.8 * len(even)


def _scan_utf8(path: Path, delimiter: str) -> str:
    """Decide ``utf-8`` or ``latin-1`` for a file without byte-order mark; refuse a mix."""
    first_utf8: tuple[int, bytes, int] | None = None
    first_bad: tuple[int, bytes, int] | None = None
    head = b""
    line_no = 0
    rest = b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(_CHUNK)
            data = rest + block
            cut = data.rfind(b"\n") + 1 if block else len(data)
            chunk, rest = data[:cut], data[cut:]
            if not chunk and not block:
                break
            try:
                chunk.decode("utf-8")
                clean = True
            except UnicodeDecodeError:
                clean = False
            if clean and (first_utf8 is not None or not _UTF8_MULTIBYTE.search(chunk)):
                if not head:
                    head = chunk.split(b"\n", 1)[0]
                line_no += chunk.count(b"\n")
                continue
            for line in chunk.splitlines(keepends=True):
                line_no += 1
                if line_no == 1:
                    head = line
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    first_bad = first_bad or (line_no, line, exc.start)
                    continue
                found = _UTF8_MULTIBYTE.search(line)
                if found and first_utf8 is None:
                    first_utf8 = (line_no, line, found.start())
            if first_bad and first_utf8:
                bad_line, bad_text, bad_at = first_bad
                good_line = first_utf8[0]
                column = _column_at(head, bad_text, bad_at, delimiter)
                raise ImportDataError(
                    f"{path.name}: mixes UTF-8 and Latin-1 text: line {bad_line} (column "
                    f"{column}) is not UTF-8 while line {good_line} is, so one name would "
                    "become two; re-export the file as UTF-8"
                )
            if not block:
                break
    return "latin-1" if first_bad else "utf-8"


def _scan_codec(path: Path, codec: str) -> None:
    """Decode the whole file with a named codec, naming the line of the first bad byte."""
    decoder = codecs.getincrementaldecoder(codec)()
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            try:
                lines += decoder.decode(block).count("\n")
            except UnicodeDecodeError as exc:
                good = block[: max(exc.start, 0)].decode(codec, errors="replace")
                raise ImportDataError(
                    f"{path.name}: cannot decode as {codec}: line "
                    f"{lines + good.count(chr(10)) + 1} ({exc.reason}); set encoding in the mapping"
                ) from None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise ImportDataError(
                f"{path.name}: ends inside a {codec} character ({exc.reason})"
            ) from None


def choose_encoding(path: Path, spec: SourceSpec) -> str:
    """The codec to read a text source with, after checking the whole file decodes with it.

    Args:
        path: The file.
        spec: Its mapping (``encoding``: ``auto`` or a codec name).

    Returns:
        A Python codec name (``utf-8-sig`` and ``utf-16`` consume their byte-order mark).

    Raises:
        ImportDataError: Naming the file, the encoding and the line: UTF-16 without a
            byte-order mark or declared as something else, a mix of UTF-8 and Latin-1 lines,
            or a byte the named codec cannot decode.
    """
    with path.open("rb") as handle:
        sample = handle.read(4096)
    utf16_bom = sample.startswith(_UTF16_BOMS)
    if spec.encoding == "auto":
        if sample.startswith(codecs.BOM_UTF8):
            _scan_codec(path, "utf-8-sig")
            return "utf-8-sig"
        if utf16_bom:
            _scan_codec(path, "utf-16")
            return "utf-16"
        if _looks_utf16(sample):
            raise ImportDataError(
                f"{path.name}: looks like UTF-16 text without a byte-order mark; set encoding: "
                "utf-16-le (or utf-16-be) in the mapping, or re-export as UTF-8"
            )
        return _scan_utf8(path, spec.delimiter)
    try:
        codec = codecs.lookup(spec.encoding).name
    except LookupError:
        raise ImportDataError(f"{path.name}: unknown encoding {spec.encoding!r}") from None
    if not codec.startswith("utf-16") and (utf16_bom or _looks_utf16(sample)):
        raise ImportDataError(
            f"{path.name}: is UTF-16 text but the mapping says encoding {spec.encoding}; set "
            "encoding: utf-16 in the mapping, or re-export as UTF-8"
        )
    if codec == "utf-8" and sample.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    _scan_codec(path, codec)
    return codec


def norm_header(name: str) -> str:
    """A header as matched: spaces collapsed, trimmed, case folded."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", str(name)).strip().casefold()


def map_columns(header: list[str], spec: SourceSpec, path: Path) -> dict[str, int | None]:
    """Position of each mapped field's column in a header row.

    Raises:
        ImportDataError: If a required column is missing (the header itself is not echoed), or
            a mapped column appears twice (which one to read would be a guess).
    """
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(norm_header(name), []).append(index)
    out: dict[str, int | None] = {}
    for name, column in spec.columns.items():
        found = positions.get(norm_header(column.column), [])
        if len(found) > 1:
            raise ImportDataError(
                f"{path.name}: duplicate column {column.column!r} (field {name}) in the header, "
                f"columns {', '.join(str(i + 1) for i in found)}; rule duplicate_column"
            )
        if not found and column.required:
            expected = ", ".join(repr(c.column) for c in spec.columns.values() if c.required)
            raise ImportDataError(
                f"{path.name}: required column {column.column!r} (field {name}) is missing; "
                f"rule required_column; the header has {len(header)} columns and must name "
                f"{expected}"
            )
        out[name] = found[0] if found else None
    return out


@dataclass
class _Columns:
    """Mapped text columns being filled batch by batch (repeated values share one string)."""

    fields: list[str]
    names: dict[str, str]
    where: dict[str, int | None]
    width: int
    rows: list[int] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    values: dict[str, list[str | None]] = field(default_factory=dict)
    caches: dict[str, dict[str, str]] = field(default_factory=dict)
    invisible: set[str] = field(default_factory=set)

    def add(self, batch: list[list[str]], starts: list[int]) -> None:
        """Check a batch of records and keep the mapped values of those that pass."""
        dropped: set[int] = set()
        for k in [k for k, r in enumerate(batch) if len(r) != self.width]:
            record = batch[k]
            if len(record) < self.width or any(v.strip() for v in record[self.width :]):
                detail = f"{len(record)} fields, the header has {self.width}"
                self.issues.append(RowIssue(starts[k], "field_count", "(row)", detail))
                dropped.add(k)
                batch[k] = record + [""] * (self.width - len(record))
        columns: dict[str, list[str]] = {}
        for name in self.fields:
            index = self.where[name]
            if index is None:
                continue
            column = [r[index] for r in batch]
            joined = "\x1f".join(column)
            if "\x00" in joined:
                for k, value in enumerate(column):
                    if "\x00" in value and k not in dropped:
                        shown = value.replace("\x00", "\\x00")[:80]
                        self.issues.append(RowIssue(starts[k], "nul_byte", self.names[name], shown))
                        dropped.add(k)
            if INVISIBLE.search(joined):
                self.invisible.add(name)
            columns[name] = column
        keep = [k for k in range(len(batch)) if k not in dropped] if dropped else None
        self.rows.extend(starts if keep is None else [starts[k] for k in keep])
        count = len(batch) - len(dropped)
        for name in self.fields:
            out = self.values.setdefault(name, [])
            if name not in columns:
                out.extend([None] * count)
                continue
            column = columns[name] if keep is None else [columns[name][k] for k in keep]
            cache = self.caches.setdefault(name, {})
            if len(cache) < _CACHE_SIZE:
                out.extend([cache.setdefault(t, t) if (t := v.strip()) else None for v in column])
            else:
                out.extend([cache.get(t, t) if (t := v.strip()) else None for v in column])

    def frame(self) -> pd.DataFrame:
        """The kept records as a new frame."""
        frame = pd.DataFrame({"_row": np.asarray(self.rows, dtype="int64")})
        for name in self.fields:
            frame[name] = pd.Series(np.asarray(self.values.pop(name, []), dtype=object))
        return frame


def read_delimited(
    path: Path, spec: SourceSpec, size: int
) -> tuple[pd.DataFrame, list[RowIssue], set[str]]:
    """Read a delimited text source into mapped text columns, checking every record.

    Args:
        path: The file (already checked to be a regular file).
        spec: Its mapping.
        size: Its size in bytes.

    Returns:
        A new frame (``_row`` = line number, header = 1; one column per mapped field, values
        trimmed, blanks ``None``) of the records that passed, the quarantined records, and the
        fields in which invisible (bidi or zero-width) characters occur.

    Raises:
        ImportDataError: Past a limit, on an encoding problem, a bad header, or unreadable text.
    """
    check_file_size(path, size, spec.limits)
    codec = choose_encoding(path, spec)
    try:
        with path.open(encoding=codec, newline="") as handle:
            reader = csv.reader(handle, delimiter=spec.delimiter)
            header = next((r for r in reader if any(v.strip() for v in r)), None)
            if header is None:
                raise ImportDataError(f"{path.name}: not readable as delimited text: no data")
            names = {f: c.column for f, c in spec.columns.items()}
            out = _Columns(list(spec.columns), names, map_columns(header, spec, path), len(header))
            batch: list[list[str]] = []
            starts: list[int] = []
            last = reader.line_num
            count = 0
            for record in reader:
                start, last = last + 1, reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                batch.append(record)
                starts.append(start)
                if len(batch) == _BATCH:
                    count += len(batch)
                    check_rows(path, count, out.width, spec.limits)
                    out.add(batch, starts)
                    batch, starts = [], []
            count += len(batch)
            check_rows(path, count, out.width, spec.limits)
            out.add(batch, starts)
    except csv.Error as exc:
        raise ImportDataError(f"{path.name}: not readable as delimited text: {exc}") from None
    return out.frame(), out.issues, out.invisible
