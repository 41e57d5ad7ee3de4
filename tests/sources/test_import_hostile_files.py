"""Hostile files generated at test time: bad bytes, encodings, size bombs, FIFOs and symlinks.

Each case writes the baseline order book (see ``test_import_hostile.py``) in a hostile form into
``tmp_path``. Cases that hung before the fix (FIFOs, a workbook claiming a huge sheet) run the
import in a child process with a time limit, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from salesops_lib.core.errors import ConfigError, WorkbenchError
from salesops_lib.sources.importer import import_snapshot
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "import_corpus" / "hostile"
MAPPING_TEXT = (CORPUS / "orders.yml").read_text(encoding="utf-8")
AS_OF = "2024-03-31"
HEADER = "Order Date,Customer,Product,Region,Amount,Quantity"
ROWS = [
    "2024-03-04,Acme,Widget,East,100.00,1",
    "2024-03-05,Bravo,Widget,East,250.50,2",
    "2024-03-06,Acme,Gadget,East,49.50,1",
    "2024-03-07,Cobalt,Gadget,West,1000.00,1",
]


def _csv(rows: list[str] = ROWS, header: str = HEADER) -> str:
    return header + "\n" + "\n".join(rows) + "\n"


def _swap(index: int, line: str) -> list[str]:
    rows = list(ROWS)
    rows[index] = line
    return rows


def _mapping(tmp_path: Path, limits: str = "", encoding: str = "auto") -> Path:
    text = MAPPING_TEXT.replace("    file: orders.csv\n", f"    file: orders.csv\n{limits}")
    text = text.replace(
        "    file: orders.csv\n", f"    file: orders.csv\n    encoding: {encoding}\n"
    )
    path = tmp_path / "mapping.yml"
    path.write_text(text, encoding="utf-8")
    return path


def _import(tmp_path: Path, source: Path, mapping: Path | None = None) -> Path:
    snaps = tmp_path / "snaps"
    import_snapshot(mapping or _mapping(tmp_path), [source], AS_OF, snaps, force=False)
    return snaps / AS_OF


def _issues(folder: Path) -> list[dict[str, object]]:
    return json.loads((folder / "_quarantine.json").read_text(encoding="utf-8"))["issues"]


def _refused(tmp_path: Path, source: Path, mapping: Path | None = None) -> str:
    with pytest.raises(WorkbenchError) as caught:
        _import(tmp_path, source, mapping)
    assert not (tmp_path / "snaps" / AS_OF).exists()
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- NUL bytes, encodings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row_index", "line", "column"),
    [
        (0, b"2024-03-04,Acme,Wid\x00get,East,100.00,1", "Product"),
        (1, b"2024-03-05,Bra\x00vo,Widget,East,250.50,2", "Customer"),
        (2, b"2024-03-06,Acme,Gadget,East,49\x00.50,1", "Amount"),
        (3, b"2024-03-07,Cobalt,Gadget,\x00West,1000.00,1", "Region"),
    ],
    ids=["product", "customer", "amount", "region"],
)
def test_nul_byte_quarantines_the_row_naming_the_column(
    tmp_path: Path, row_index: int, line: bytes, column: str
) -> None:
    rows = [r.encode() for r in ROWS]
    rows[row_index] = line
    source = tmp_path / "orders.csv"
    source.write_bytes(HEADER.encode() + b"\n" + b"\n".join(rows) + b"\n")
    folder = _import(tmp_path, source)
    hits = [(i["rule"], i["row"], i["column"], i["action"]) for i in _issues(folder)]
    assert ("nul_byte", row_index + 2, column, "quarantined") in hits
    assert pq.read_table(folder / "order_lines.parquet").num_rows == 3
    names = pq.read_table(folder / "products.parquet")["product_name"].to_pylist()
    assert "Wid" not in names


@pytest.mark.parametrize("latin1_first", [False, True], ids=["utf8-then-latin1", "latin1-first"])
def test_mixed_utf8_and_latin1_lines_stop_the_import(tmp_path: Path, latin1_first: bool) -> None:
    utf8 = "2024-03-04,Café Müller,Widget,East,100.00,1".encode()
    latin1 = "2024-03-06,Café Müller,Gadget,East,49.50,1".encode("latin-1")
    first, second = (latin1, utf8) if latin1_first else (utf8, latin1)
    lines = [first, ROWS[1].encode(), second, ROWS[3].encode()]
    source = tmp_path / "orders.csv"
    source.write_bytes(HEADER.encode() + b"\n" + b"\n".join(lines) + b"\n")
    message = _refused(tmp_path, source)
    assert "orders.csv" in message and "UTF-8" in message and "Latin-1" in message
    bad_line = 2 if latin1_first else 4
    assert f"line {bad_line}" in message and "Customer" in message


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read(tmp_path: Path, codec: str) -> None:
    text = _csv(_swap(1, "2024-03-05,Bravö,Widget,East,250.50,2"))
    data = text.encode(codec) if codec == "utf-16" else b"\xfe\xff" + text.encode(codec)
    source = tmp_path / "orders.csv"
    source.write_bytes(data)
    folder = _import(tmp_path, source)
    assert pq.read_table(folder / "order_lines.parquet").num_rows == 4
    assert "Bravö" in pq.read_table(folder / "accounts.parquet")["account_name"].to_pylist()


@pytest.mark.parametrize(
    ("data", "encoding"),
    [(_csv().encode("utf-16-le"), "auto"), (_csv().encode("utf-16"), "utf-8")],
    ids=["no-bom", "declared-utf8"],
)
def test_utf16_error_names_the_encoding(tmp_path: Path, data: bytes, encoding: str) -> None:
    source = tmp_path / "orders.csv"
    source.write_bytes(data)
    message = _refused(tmp_path, source, _mapping(tmp_path, encoding=encoding))
    assert "UTF-16" in message and "orders.csv" in message and "encoding" in message


def test_declared_codec_that_fails_names_line_and_codec(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    rows = [r.encode() for r in ROWS]
    rows[2] = "2024-03-06,Café,Gadget,East,49.50,1".encode("latin-1")
    source.write_bytes(HEADER.encode() + b"\n" + b"\n".join(rows) + b"\n")
    message = _refused(tmp_path, source, _mapping(tmp_path, encoding="utf-8"))
    assert "utf-8" in message and "line 4" in message


# --- size limits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ("    limits: {max_file_bytes: 100}\n", "max_file_bytes"),
        ("    limits: {max_rows: 3}\n", "max_rows"),
        ("    limits: {max_cells: 12}\n", "max_cells"),
    ],
    ids=["bytes", "rows", "cells"],
)
def test_csv_past_a_limit_is_refused(tmp_path: Path, limits: str, expected: str) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(_csv(), encoding="utf-8")
    message = _refused(tmp_path, source, _mapping(tmp_path, limits=limits))
    assert expected in message and "orders.csv" in message


def test_mapping_limits_are_validated(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(_csv(), encoding="utf-8")
    with pytest.raises(ConfigError, match="limits"):
        _import(tmp_path, source, _mapping(tmp_path, limits="    limits: {max_rows: -1}\n"))


def _workbook_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    for row in ROWS:
        sheet.append(row.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rewrite_workbook(path: Path, edit: dict[str, bytes]) -> None:
    """Write the baseline workbook with some zip members replaced (bytes as given)."""
    with zipfile.ZipFile(io.BytesIO(_workbook_bytes())) as original:
        members = {info.filename: original.read(info) for info in original.infolist()}
    members.update(edit)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for name, content in members.items():
            out.writestr(name, content)


def _run_child(tmp_path: Path, mapping: Path, source: Path, seconds: int = 90) -> str:
    """Run the import in a child process with a time limit; return its error output."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from salesops_lib.core.errors import WorkbenchError\n"
        "from salesops_lib.sources.importer import import_snapshot\n"
        "try:\n"
        f"    import_snapshot(Path({str(mapping)!r}), [Path({str(source)!r})], {AS_OF!r},\n"
        f"                    Path({str(tmp_path / 'snaps')!r}), force=False)\n"
        "except WorkbenchError as exc:\n"
        "    print(exc, file=sys.stderr)\n"
        "    sys.exit(2)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=seconds
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr if done.returncode else ""


def test_workbook_claiming_the_whole_sheet_reads_quickly(tmp_path: Path) -> None:
    source = tmp_path / "orders.xlsx"
    with zipfile.ZipFile(io.BytesIO(_workbook_bytes())) as original:
        sheet = original.read("xl/worksheets/sheet1.xml")
    huge = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', sheet)
    far_cell = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    huge = huge.replace(b"</sheetData>", far_cell + b"</sheetData>")
    assert huge != sheet
    _rewrite_workbook(source, {"xl/worksheets/sheet1.xml": huge})
    assert source.stat().st_size < 10_000
    assert _run_child(tmp_path, _mapping(tmp_path), source, seconds=60) == ""
    assert pq.read_table(tmp_path / "snaps" / AS_OF / "order_lines.parquet").num_rows == 4


def test_shared_string_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    source = tmp_path / "orders.xlsx"
    filler = b"<si><t>" + b"A" * 1_000_000 + b"</t></si>"
    strings = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + filler * 40
        + b"</sst>"
    )
    _rewrite_workbook(source, {"xl/sharedStrings.xml": strings})
    assert source.stat().st_size < 1_000_000
    message = _run_child(tmp_path, _mapping(tmp_path), source)
    assert "compression ratio" in message and "orders.xlsx" in message


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ("    limits: {max_expanded_bytes: 2000}\n", "max_expanded_bytes"),
        ("    limits: {max_rows: 3}\n", "max_rows"),
        ("    limits: {max_cells: 20}\n", "max_cells"),
        ("    limits: {max_file_bytes: 1000}\n", "max_file_bytes"),
    ],
    ids=["expanded", "rows", "cells", "bytes"],
)
def test_workbook_past_a_limit_is_refused(tmp_path: Path, limits: str, expected: str) -> None:
    source = tmp_path / "orders.xlsx"
    source.write_bytes(_workbook_bytes())
    message = _refused(tmp_path, source, _mapping(tmp_path, limits=limits))
    assert expected in message and "orders.xlsx" in message


def test_workbook_is_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    original = openpyxl.load_workbook

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(bool(kwargs.get("read_only")))
        return original(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    source = tmp_path / "orders.xlsx"
    source.write_bytes(_workbook_bytes())
    _import(tmp_path, source)
    assert calls == [True]


# --- FIFOs, devices, symlinks -----------------------------------------------------------------


def test_fifo_as_mapping_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "mapping.yml"
    os.mkfifo(fifo)
    source = tmp_path / "orders.csv"
    source.write_text(_csv(), encoding="utf-8")
    message = _run_child(tmp_path, fifo, source, seconds=60)
    assert "not a regular file" in message and "mapping.yml" in message


@pytest.mark.parametrize("inside_folder", [False, True], ids=["given", "in-folder"])
def test_fifo_as_source_is_refused(tmp_path: Path, inside_folder: bool) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    fifo = folder / "orders.csv"
    os.mkfifo(fifo)
    message = _run_child(tmp_path, _mapping(tmp_path), folder if inside_folder else fifo, 60)
    assert "not a regular file" in message and "orders.csv" in message


def test_device_as_source_is_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, Path("/dev/zero"))
    assert "not a regular file" in message


SECRET = "root-secret-line-do-not-echo"


def _secret_file(tmp_path: Path) -> Path:
    outside = tmp_path / "private"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(SECRET + "\nmore\n", encoding="utf-8")
    return secret


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
def test_symlink_out_of_the_export_folder_is_refused(tmp_path: Path, relative: bool) -> None:
    secret = _secret_file(tmp_path)
    folder = tmp_path / "export"
    folder.mkdir()
    target = Path("../private/secret.txt") if relative else secret
    (folder / "orders.csv").symlink_to(target)
    message = _refused(tmp_path, folder)
    assert "link" in message and "outside" in message and SECRET not in message


def test_symlinked_folder_entry_inside_the_folder_is_accepted(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "orders-2024.csv").write_text(_csv(), encoding="utf-8")
    (folder / "orders.csv").symlink_to("orders-2024.csv")
    mapping = _mapping(tmp_path)
    snaps = tmp_path / "snaps"
    import_snapshot(mapping, [folder], AS_OF, snaps, force=False)
    assert pq.read_table(snaps / AS_OF / "order_lines.parquet").num_rows == 4


def test_missing_column_error_does_not_echo_the_header(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(_csv(header=f"{SECRET},Customer,Product,Region,Amount,Quantity"), "utf-8")
    message = _refused(tmp_path, source)
    assert "Order Date" in message and SECRET not in message


# --- ids ------------------------------------------------------------------------------------


def test_long_names_sharing_a_prefix_keep_distinct_ids(tmp_path: Path) -> None:
    prefix = "Enterprise Analytics Platform Subscription Tier "
    names = [prefix + suffix for suffix in ("Gold", "Silver", "Bronze", "Gold!", "gold")]
    rows = [f"2024-03-0{i + 1},Acme,{name},East,10.00,1" for i, name in enumerate(names)]
    source = tmp_path / "orders.csv"
    source.write_text(_csv(rows), encoding="utf-8")
    folder = _import(tmp_path, source)
    products = pq.read_table(folder / "products.parquet").to_pylist()
    # "...Gold" and "...gold" are one product (names match ignoring case); the others differ
    assert len(products) == 4
    for product in products:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", product["product_id"])
