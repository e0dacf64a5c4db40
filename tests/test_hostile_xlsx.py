"""Hostile workbooks (issue 13, items 1-2): a 2 KB sheet declaring A1:XFD1048576, its
A1:ZZ300000 variant, a sheet whose declared dimension lies, zip bombs (honest and lying
headers, generated here with streaming writes) are refused before any reader allocates,
quickly, in bounded memory, with a Vietnamese message naming the file and the cap; the
read itself runs in a memory-limited child whose crash is a LoadError; genuine workbooks
still load; the caps are configurable (environment, store).

Every hostile read runs in a probe subprocess (`_probe`) with a soft address-space limit,
so that a reader that tries to allocate the declared area fails there, not in pytest."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from loaders import limits as caps
from loaders import xlsx_guard
from loaders.files import LoadError, read_table

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
GiB = 1 << 30

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def workbook(path: Path, dimension: str | None, rows, level: int = 6) -> Path:
    """A minimal .xlsx whose first sheet declares `dimension` and holds `rows` (an iterable
    of XML strings), written as a stream (nothing big in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_SHEET_HEAD.encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 10_000:
                    sheet.write("".join(batch).encode())
                    batch = []
            sheet.write("".join(batch).encode())
            sheet.write(b"</sheetData></worksheet>")
    return path


def dimension_bomb(path: Path, dimension: str, corner: str) -> Path:
    """One header row and one cell at the far corner the dimension declares."""
    row = int("".join(ch for ch in corner if ch.isdigit()))
    header = '<row r="1">' + _cell("A1", "Mã hồ sơ") + _cell("B1", "Mã xã") + "</row>"
    return workbook(path, dimension, [header, f'<row r="{row}">' + _cell(corner, "x") + "</row>"])


def repeated_rows(n: int, start: int = 2):
    yield '<row r="1">' + _cell("A1", "Mã hồ sơ") + _cell("B1", "Mã xã") + _cell("C1", "Ngày tiếp nhận") + "</row>"
    for i in range(start, start + n):
        yield (f'<row r="{i}">' + _cell(f"A{i}", "H000000001") + _cell(f"B{i}", "16969")
               + _cell(f"C{i}", "01/07/2025") + "</row>")


def identical_rows(n: int):
    """The zip bomb's rows: identical, without references (readers number them in order),
    so that 8 M of them compress ~1000:1."""
    row = "<row>" + _cell("", "H000000001").replace(' r=""', "") + _cell("", "16969").replace(' r=""', "") + "</row>"
    yield '<row r="1">' + _cell("A1", "Mã hồ sơ") + _cell("B1", "Mã xã") + "</row>"
    for _ in range(n):
        yield row


def lie_about_size(path: Path, part: str, declared: int) -> None:
    """Rewrite the part's uncompressed size in its local and central headers (as a bomb
    would): the data still inflates to its real size."""
    data = bytearray(path.read_bytes())
    name = part.encode()
    local = data.find(b"PK\x03\x04")
    while local >= 0:
        if data[local + 30: local + 30 + len(name)] == name:
            struct.pack_into("<I", data, local + 22, declared)
            break
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        if data[central + 46: central + 46 + len(name)] == name:
            struct.pack_into("<I", data, central + 24, declared)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


_PROBE = r"""
import json, resource, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[3]), hard))  # a reader that believes the file fails here
from pathlib import Path
from loaders import files, sources
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
error = kind = None
try:
    if sys.argv[2] == "detect":
        kind = sources.detect_kind(Path(sys.argv[1]))
    files.read_table(sys.argv[1], lambda cells: sum(1 for c in cells if c), name=Path(sys.argv[1]).name)
except files.LoadError as exc:
    error = str(exc)
print(json.dumps({"error": error, "kind": kind, "seconds": time.perf_counter() - t,
                  "extra_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024,
                  "child_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def _probe(path: Path, mode: str = "read", env: dict | None = None, address_space: int = 4 * GiB) -> dict:
    """Read `path` as the upload page does, in a subprocess: its verdict, time and memory."""
    done = subprocess.run([sys.executable, "-c", _PROBE, str(path), mode, str(address_space)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})
    assert done.returncode == 0, f"the read crashed (exit {done.returncode}): {done.stderr[-600:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(path.name, mode, {k: v for k, v in result.items() if k != "error"}, result["error"])
    return result


def _refused(result: dict, name: str, *words: str) -> None:
    assert result["error"], "the workbook was not refused"
    assert f"«{name}»" in result["error"]
    for word in words:
        assert word in result["error"], result["error"]
    assert result["seconds"] < 30
    assert result["extra_mb"] < 1024 and result["child_mb"] < 1024


# ---------------------------------------------------------------- item 1: dimension bombs
def test_committed_dimension_bomb_is_small_and_refused():
    path = HOSTILE / "dimension_bomb.xlsx"
    assert path.stat().st_size < 4096
    _refused(_probe(path), path.name, "A1:XFD1048576", "16.384 cột × 1.048.576 dòng", "vượt giới hạn", "200 cột")


@pytest.mark.parametrize("mode", ["read", "detect"])
def test_dimension_bomb_xfd(tmp_path, mode):
    path = dimension_bomb(tmp_path / "bom_kich_thuoc.xlsx", "A1:XFD1048576", "XFD1048576")
    assert path.stat().st_size < 4096
    result = _probe(path, mode)
    _refused(result, path.name, "A1:XFD1048576", "16.384 cột × 1.048.576 dòng")
    if mode == "detect":
        assert result["kind"] == "dossiers"  # no kind claims a refused workbook; the read then says why


def test_dimension_bomb_zz300000(tmp_path):
    path = dimension_bomb(tmp_path / "zz.xlsx", "A1:ZZ300000", "ZZ300000")
    _refused(_probe(path), path.name, "A1:ZZ300000", "702 cột × 300.000 dòng", "200 cột", "40.000.000 ô")


def test_dimension_that_lies_is_caught_by_the_cells(tmp_path):
    # declares A1:B2, but one cell sits at XFD1048576: the real references decide
    path = dimension_bomb(tmp_path / "noi_doi.xlsx", "A1:B2", "XFD1048576")
    _refused(_probe(path), path.name, "dòng")
    path = dimension_bomb(tmp_path / "cot_xa.xlsx", "A1:B2", "XFD2")
    _refused(_probe(path), path.name, "cột thứ 16.384", "200 cột")


# ---------------------------------------------------------------- item 2: zip bombs and caps
BOMB_ROWS = 8_000_000  # as in the issue: ~650 MB of XML in a few MB


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    path = workbook(tmp_path_factory.mktemp("bomb") / "bom_nen.xlsx", "A1:B2", identical_rows(BOMB_ROWS), level=9)
    assert path.stat().st_size < 4 << 20
    with zipfile.ZipFile(path) as z:
        assert z.getinfo("xl/worksheets/sheet1.xml").file_size > 500 << 20
    return path


def test_zip_bomb_refused_by_ratio(zip_bomb):
    _refused(_probe(zip_bomb), zip_bomb.name, "tỷ lệ nén", "bom nén")


def test_zip_bomb_refused_by_counted_rows(zip_bomb):
    """With the ratio cap raised out of the way, the real rows stop it: the count passes
    1,048,576 long before the 8 M rows are inflated."""
    _refused(_probe(zip_bomb, env={"KPI_MAX_RATIO": "100000"}), zip_bomb.name, "1.048.576 dòng")


def test_zip_bomb_with_lying_header_refused_by_real_bytes(tmp_path):
    path = workbook(tmp_path / "bom_khai_sai.xlsx", "A1:B2", identical_rows(400_000), level=9)
    lie_about_size(path, "xl/worksheets/sheet1.xml", 40_000)
    _refused(_probe(path), path.name, "nhiều hơn kích thước khai báo")


def test_rows_counted_not_declared(tmp_path):
    """A sheet declaring 2 rows but holding 5,001, against an admin cap of 1,000 rows
    (environment): refused by the real count."""
    path = workbook(tmp_path / "nhieu_dong.xlsx", "A1:C2", repeated_rows(5_000))
    _refused(_probe(path, env={"KPI_MAX_ROWS": "1000"}), path.name, "1.000 dòng")
    assert _probe(path)["error"] is None  # under the default caps it is a genuine workbook


def test_uncompressed_size_cap(tmp_path):
    path = workbook(tmp_path / "lon.xlsx", None, repeated_rows(20_000))
    _refused(_probe(path, env={"KPI_MAX_UNCOMPRESSED_BYTES": "1000000"}), path.name, "1.000.000 byte")


def test_cells_cap(tmp_path):
    path = workbook(tmp_path / "nhieu_o.xlsx", None, repeated_rows(2_000))
    _refused(_probe(path, env={"KPI_MAX_CELLS": "3000"}), path.name, "3.000 ô")


def test_reader_crash_is_a_load_error(tmp_path):
    """Defence in depth: the guard passes, the child reader runs out of its address space:
    a Vietnamese LoadError, the caller lives on."""
    path = workbook(tmp_path / "vua.xlsx", None, repeated_rows(1_000))
    tight = caps.Limits(max_read_memory_bytes=64_000_000)
    with pytest.raises(LoadError, match="«vua.xlsx».*bộ nhớ"):
        xlsx_guard.read_sheet(path, limits=tight)


def test_not_a_workbook_message_kept(tmp_path):
    path = tmp_path / "hong.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(LoadError, match="không phải bảng tính"):
        read_table(path, lambda cells: 1)


# ---------------------------------------------------------------- genuine workbooks
def test_genuine_workbook_still_loads(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Báo cáo tháng 7/2025"])
    sheet.append(["Mã hồ sơ", "Mã xã", "Ngày tiếp nhận"])
    for i in range(500):
        sheet.append([f"H{i:04d}", "016969", "01/07/2025"])
    path = tmp_path / "that.xlsx"
    book.save(path)
    facts = xlsx_guard.check_workbook(path)
    assert (facts.rows, facts.max_column) == (502, 3)
    table = read_table(path, lambda cells: sum(1 for c in cells if c and c.startswith("Mã")), name="that.xlsx")
    assert table.headers == ["Mã hồ sơ", "Mã xã", "Ngày tiếp nhận"]
    assert table.title_lines == ["Báo cáo tháng 7/2025"]
    frame = table.frame.collect()
    assert frame.height == 500 and frame["Mã xã"][0] == "016969" and frame["__row"][0] == 3


def test_prefixed_namespace_sheet(tmp_path):
    """Some generators write <x:row>/<x:c>: counted the same way."""
    path = tmp_path / "x.xlsx"
    rows = "".join(f'<x:row r="{i}"><x:c r="A{i}" t="inlineStr"><x:is><x:t>v{i}</x:t></x:is></x:c></x:row>'
                   for i in range(1, 11))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml",
                   '<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/'
                   f'2006/main"><x:dimension ref="A1:A10"/><x:sheetData>{rows}</x:sheetData></x:worksheet>')
    facts = xlsx_guard.check_workbook(path)
    assert (facts.rows, facts.cells, facts.max_row, facts.max_column) == (10, 10, 10, 1)


# ---------------------------------------------------------------- the caps
def test_caps_defaults_env_and_store(monkeypatch):
    import duckdb

    from store import db

    monkeypatch.delenv("KPI_MAX_ROWS", raising=False)
    monkeypatch.setattr(db, "_opened_meta", {})  # set_limit below applies to this process: undone after
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    assert caps.get_limits(con) == caps.Limits()
    monkeypatch.setenv("KPI_MAX_ROWS", "5000")
    assert caps.get_limits(con).max_rows == 5000
    assert caps.set_limit(con, "max_rows", "7000").max_rows == 7000  # the store wins over the environment
    assert caps.active().max_rows == 7000
    assert caps.get_limits(con).as_dict()["max_rows"] == 7000
    with pytest.raises(ValueError, match="max_bogus"):
        caps.set_limit(con, "max_bogus", 1)
    with pytest.raises(ValueError, match="số nguyên dương"):
        caps.set_limit(con, "max_columns", "-3")
    assert set(caps.LABELS) == set(caps.NAMES)


# ---------------------------------------------------------------- shared-string amplification
_SST_CONTENT_TYPES = _CONTENT_TYPES.replace(
    "</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
_SST_RELS = _WORKBOOK_RELS.replace(
    "</Relationships>", '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')


def shared_workbook(path: Path, strings: list[str], rows) -> Path:
    """A workbook whose sheet (`rows`, XML strings) references `strings` in xl/sharedStrings.xml."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _SST_CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _SST_RELS)
        z.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                   'openxmlformats.org/spreadsheetml/2006/main">'
                   + "".join(f"<si><t>{t}</t></si>" for t in strings) + "</sst>")
        z.writestr("xl/worksheets/sheet1.xml", _SHEET_HEAD + "<sheetData>" + "".join(rows)
                   + "</sheetData></worksheet>")
    return path


def test_shared_string_amplification_refused_by_table_cap(tmp_path):
    """40,000 cells referencing one 30,000-character string (each within Excel's per-cell
    limit): a 0.3 MB file that would be 1.2 GB of cells. Refused by the table-size cap, by the
    guard alone (no child), in bounded memory."""
    rows = ['<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>']
    rows += [f'<row r="{r}"><c r="A{r}" t="s"><v>1</v></c><c r="B{r}" t="s"><v>1</v></c></row>'
             for r in range(2, 20_002)]
    path = shared_workbook(tmp_path / "khuech_dai.xlsx", ["Mã hồ sơ", "ab" * 15_000], rows)
    assert path.stat().st_size < 1_000_000
    result = _probe(path)
    _refused(result, path.name, "1.000.000.000 byte")
    assert result["child_mb"] == 0, "the hostile workbook reached the reading child"


def test_string_beyond_excels_cell_limit_refused(tmp_path):
    header = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    path = shared_workbook(tmp_path / "dai.xlsx", ["Mã hồ sơ", "x" * 32_768],
                           [header, '<row r="2"><c r="A2" t="s"><v>1</v></c></row>'])
    _refused(_probe(path), path.name, "32.767 ký tự")
    inline = workbook(tmp_path / "dai_noi.xlsx", None, [header.replace('t="s"><v>0</v>', 't="inlineStr"><is><t>'
                      'Mã hồ sơ</t></is>'), '<row r="2">' + _cell("A2", "y" * 32_768) + "</row>"])
    _refused(_probe(inline), inline.name, "32.767 ký tự")
    # Excel's limit counts characters: 32,767 Vietnamese characters (up to 3 bytes each) load
    ok = shared_workbook(tmp_path / "vua_du.xlsx", ["Mã hồ sơ", "ệ" * 32_767],
                         [header, '<row r="2"><c r="A2" t="s"><v>1</v></c></row>'])
    assert xlsx_guard.check_workbook(ok).table_bytes >= 3 * 32_767


def test_table_bytes_cap_env_and_default(tmp_path, monkeypatch):
    """A genuine workbook written as Excel does (shared strings): its cells' text is counted
    with each shared string once per use; a small KPI_MAX_TABLE_BYTES refuses it, the default
    loads it."""
    status = "Đã giải quyết đúng hạn"
    head = "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABC"))
    rows = [f'<row r="1">{head}</row>'] + [
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>H{r:06d}</t></is></c><c r="B{r}"><v>16969</v></c>'
        f'<c r="C{r}" t="s"><v>3</v></c></row>' for r in range(2, 2_002)]
    path = shared_workbook(tmp_path / "that_chung.xlsx", ["Mã hồ sơ", "Mã xã", "Trạng thái", status], rows)
    facts = xlsx_guard.check_workbook(path, limits=caps.Limits())
    expected = 2_000 * (7 + 5 + len(status.encode()))
    assert expected <= facts.table_bytes <= expected * 1.2
    _refused(_probe(path, env={"KPI_MAX_TABLE_BYTES": "50000"}), path.name, "50.000 byte")
    monkeypatch.delenv("KPI_MAX_TABLE_BYTES", raising=False)
    loaded = _probe(path)
    assert loaded["error"] is None and loaded["child_mb"] > 0
