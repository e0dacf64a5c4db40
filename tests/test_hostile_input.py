"""Hostile and broken input: every file below either loads with per-row rejections (row,
column, reason) or is rejected whole with a Vietnamese message naming it and the store
unchanged; nothing crashes, and no uploaded text can run as a formula in the Excel
downloads. The corpus is generated here into tmp dirs (only small hand-made files live in
tests/fixtures/hostile/)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from kpi import drill
from kpi.engine import compute
from kpi.export import MAX_CELL, to_xlsx
from kpi.periods import parse
from loaders import history
from loaders.dossiers import load_dossier_file
from loaders.files import LoadError
from store.db import query_pl

from .conftest import TODAY, db_state

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
HEADER = ["Mã hồ sơ", "Mã xã", "Đơn vị", "Tên TTHC", "Lĩnh vực", "Kênh nộp", "Ngày tiếp nhận", "Ngày có kết quả",
          "Trạng thái", "Toàn trình"]
FORMULAS = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]
SQL = "'; DROP TABLE dossiers; --"
SCRIPT = "<script>alert(1)</script>"


def csv_text(rows: list[list[str]], header: list[str] = HEADER, sep: str = ",") -> str:
    def quote(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in f'"{sep}\n\r') else cell
    return "".join(sep.join(quote(c) for c in row) + "\n" for row in [header, *rows])


def good_rows(n: int, prefix: str = "H") -> list[list[str]]:
    return [[f"{prefix}{i:03d}", "16969", "Xã Nghĩa Thọ", "Đăng ký khai sinh", "Hộ tịch", "Trực tuyến",
             f"{1 + i % 28:02d}/09/2025", "", "Đang giải quyết", "Có"] for i in range(n)]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def accounted(result) -> None:
    """Every row read is loaded, a repeat, or rejected with row, column and reason."""
    assert result.rows_read == result.loaded + result.duplicates + len(result.rejected)
    for r in result.rejected:
        assert isinstance(r["row"], int) and r["row"] >= 2
        assert r["column"] and r["reason"].startswith(f"Cột «{r['column']}»")


def inert_xlsx(data: bytes, texts: set[str] = frozenset()) -> list[str]:
    """Assert no cell of the workbook is a formula (openpyxl and the raw XML agree) and the
    given texts come back exactly; returns all text cells."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for member in z.namelist():
            if member.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[ >]", z.read(member)), member
    cells = []
    for ws in openpyxl.load_workbook(io.BytesIO(data)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    cells.append(cell.value)
                    if cell.value.startswith(("=", "+", "-", "@")):
                        assert cell.quotePrefix, (cell.coordinate, cell.value)  # stays text when edited
    missing = set(texts) - set(cells)
    assert not missing, missing
    return cells


def cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: base letter (â, ơ...) + combining tone mark."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        for mark in marks:  # "ộ" = "ô" (a cp1258 letter) + combining dot below
            composed = unicodedata.normalize("NFC", base + mark)
            if len(composed) == 1 and composed.encode("cp1258", errors="replace") != b"?":
                base = composed
                marks.remove(mark)
                break
        out += (base + "".join(marks)).encode("cp1258")
    return out


def png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00" + bytes(512)


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buffer.getvalue()


def xlsx_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def loaded(con, fixtures):
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    return con


# --- Whole files rejected: message names the file, the store is unchanged ----------------------------

def _nul_late() -> bytes:
    rows = csv_text(good_rows(4000)).encode()  # ~360 KB: past the first 256 KB the reader sniffs
    return rows + b"H9999,16969,Xa\x00,,,2,01/09/2025,,,Co\n"


WHOLE_FILE = {
    "empty.csv": (b"", "trống"),
    "bom_only.csv": (b"\xef\xbb\xbf\r\n", "trống"),
    "headers_only.csv": (csv_text([]), "chỉ có dòng tiêu đề"),
    "picture.csv": (png_bytes(), "ảnh PNG"),
    "program.csv": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8, "tệp chương trình"),
    "archive.csv": (zip_bytes({"readme.txt": "xin chào"}), "tệp nén ZIP"),
    "old_excel.csv": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048), "Excel 97-2003"),
    # Windows-1258 with our headers loads (test_windows_1258_export_loads_like_utf8_with_a_warning);
    # other legacy text does not.
    "windows1252.csv": ("Référence;Commune;Reçu le\nA1;Nghĩa Thọ;01/09/2025\n".encode("cp1252", errors="replace"),
                        "không được mã hóa UTF-8"),
    "nul_in_cell.csv": (csv_text(good_rows(3)).encode() + b"N1,16969,Xa\x00,,,2,01/09/2025,,,Co\n", "NUL ở dòng 5"),
    "nul_after_sniff.csv": (_nul_late(), "NUL ở dòng 4002"),
    "unclosed_quote.csv": (csv_text(good_rows(3)) + 'H999,16969,"Xã Nghĩa Th', "ngoặc kép"),
    "utf16_nul.csv": (("\ufeff" + csv_text(good_rows(3)) + "N1,16969,Xa\x00\n").encode("utf-16-le"), "NUL ở dòng 5"),
    "utf16_headers_only.csv": (csv_text([], [h for h in HEADER]).encode("utf-16-be"), "chỉ có dòng tiêu đề"),
    "broken.xlsx": (xlsx_bytes(good_rows(50))[:3000], "không phải tệp Excel"),
    "archive.xlsx": (zip_bytes({"word/document.xml": "<w/>"}), "tệp nén ZIP"),
}


@pytest.mark.parametrize("name", list(WHOLE_FILE))
def test_whole_file_rejected_with_vietnamese_message_and_store_unchanged(loaded, tmp_path, monkeypatch, name):
    content, fragment = WHOLE_FILE[name]
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    before = db_state(loaded)
    with pytest.raises(LoadError) as error:
        load_dossier_file(loaded, write(tmp_path, name, content), province="40", today=TODAY)
    message = str(error.value)
    assert f"Tệp «{name}»" in message and fragment in message, message
    assert "Traceback" not in message and "\n" not in message
    assert db_state(loaded) == before
    assert not list(temp.iterdir())  # a UTF-16 file's UTF-8 copy is removed on rejection too


def test_cli_reports_hostile_files_without_traceback(tmp_path):
    files = [write(tmp_path, n, WHOLE_FILE[n][0]) for n in ("picture.csv", "nul_in_cell.csv", "headers_only.csv")]
    run = subprocess.run([sys.executable, "-m", "loaders", *map(str, files), "--db", str(tmp_path / "k.duckdb"),
                          "--province", "40", "--format", "json"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    errors = [s["error"] for s in json.loads(run.stdout)]
    assert [f.name in e for f, e in zip(files, errors, strict=True)] == [True] * 3


# --- Broken but readable: complete rows load, the broken one is rejected with its row ---------------

@pytest.mark.parametrize("cut", ["mid_row", "mid_character"])
def test_truncated_file_loads_complete_rows_and_rejects_the_cut_one(con, tmp_path, cut):
    full = csv_text(good_rows(40)).encode()
    if cut == "mid_row":
        content = full[: full.rindex(b"/09/2025")]            # last row ends in "01" of its date
        column = "Ngày tiếp nhận"
    else:
        content = full[: full.rindex("Nghĩa Thọ".encode()) + len("Nghĩa Th".encode()) + 1]  # half of "ọ"
        content = content.replace(b"H039,16969,", b"H039,,")  # the unit is then known by name only
        column = "Đơn vị"  # the unit is known by name only: the name's column is the one that failed
    result = load_dossier_file(con, write(tmp_path, f"cut_{cut}.csv", content), province="40", today=TODAY)
    accounted(result)
    assert (result.rows_read, result.loaded) == (40, 39)
    assert [(r["row"], r["column"]) for r in result.rejected] == [(41, column)]
    assert con.execute("SELECT count(*) FROM dossiers").fetchall() == [(39,)]


def _stored(con) -> list[tuple]:
    return con.execute("SELECT * EXCLUDE (batch_id) FROM dossiers ORDER BY dossier_id").fetchall()


def test_windows_1258_export_loads_like_utf8_with_a_warning(con, tmp_path):
    from store import db as store

    text = csv_text(good_rows(30))
    content = cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    assert "\u0300".encode("cp1258") in content or "\u0301".encode("cp1258") in content  # tones apart
    reference = store.connect(":memory:")
    load_dossier_file(reference, write(tmp_path, "utf8.csv", text), province="40", today=TODAY)
    result = load_dossier_file(con, write(tmp_path, "ansi.csv", content), province="40", today=TODAY)
    assert (result.rows_read, result.loaded, result.rejected) == (30, 30, [])
    assert _stored(con) == _stored(reference)
    assert any("Windows-1258" in w for w in result.warnings)
    reference.close()


@pytest.mark.parametrize("encoding", ["utf-16-le+bom", "utf-16-be+bom", "utf-16-le", "utf-16-be", "utf-8-cr"])
def test_other_encodings_and_line_ends_load_like_utf8(con, tmp_path, encoding):
    from store import db as store

    text = csv_text(good_rows(30), sep="\t" if encoding.startswith("utf-16") else ",")
    reference = store.connect(":memory:")
    load_dossier_file(reference, write(tmp_path, "utf8.csv", text), province="40", today=TODAY)
    if encoding == "utf-8-cr":
        content = text.replace("\n", "\r").encode()
    else:
        codec, bom = encoding.removesuffix("+bom"), encoding.endswith("+bom")
        content = (("\ufeff" if bom else "") + text).encode(codec)
    result = load_dossier_file(con, write(tmp_path, f"{encoding}.csv", content), province="40", today=TODAY)
    assert (result.rows_read, result.loaded, result.rejected) == (30, 30, [])
    assert _stored(con) == _stored(reference)
    reference.close()


def test_excel_named_csv_and_csv_named_xlsx_load(con, tmp_path):
    rows = good_rows(12)
    first = load_dossier_file(con, write(tmp_path, "really_excel.csv", xlsx_bytes(rows)), province="40", today=TODAY)
    once = _stored(con)
    again = load_dossier_file(con, write(tmp_path, "really_csv.xlsx", csv_text(rows)), province="40", today=TODAY)
    assert (first.loaded, again.loaded, again.replaced) == (12, 12, 12)
    assert _stored(con) == once


# --- 500 MB: refused fast, in bounded memory ------------------------------------------------------------

_MEASURE = """
import json, resource, sys, time
from store import db as store
from loaders.dossiers import load_dossier_file
from loaders.files import LoadError
con = store.connect(sys.argv[2])
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    load_dossier_file(con, sys.argv[1], province="40")
    message = None
except LoadError as exc:
    message = str(exc)
print(json.dumps({"seconds": time.perf_counter() - start, "message": message,
                  "rss0_mb": rss0 / 1024, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["all_zero", "rows_then_zero"])
def test_500_mb_file_is_refused_quickly_in_bounded_memory(tmp_path, kind):
    path = tmp_path / f"{kind}.csv"
    with open(path, "wb") as f:
        if kind == "rows_then_zero":
            f.write(csv_text(good_rows(40_000)).encode())  # ~3.5 MB of real rows
        f.truncate(500 * 2**20)                            # then a sparse hole: NUL bytes up to 500 MB
    assert path.stat().st_size == 500 * 2**20
    run = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(tmp_path / "k.duckdb")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    print(kind, {k: v for k, v in figures.items() if k != "message"})   # the measured figures (pytest -s)
    assert figures["message"] and f"Tệp «{kind}.csv»" in figures["message"]
    assert ("NUL ở dòng 40002" if kind == "rows_then_zero" else "không phải tệp văn bản") in figures["message"]
    # A safety bound, not a benchmark: refused in ~1 s here, 30 s only fails a real hang or a full read.
    assert figures["seconds"] < 30, figures
    # Bounded memory: the file is streamed in 1 MB chunks, never read whole (500 MB).
    assert figures["rss_mb"] - figures["rss0_mb"] < 100, figures


# --- Text that must stay text: formulas, SQL, HTML, huge numbers, odd dates ------------------------------

def test_formulas_sql_and_html_are_stored_verbatim_and_exported_inert(loaded, tmp_path):
    before = loaded.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
    base = good_rows(1)[0]
    rows = []
    for i, text in enumerate([*FORMULAS, SQL, SCRIPT]):
        rows.append([f"X{i}", "16969", "", text, text, "2", "03/09/2025", "", text, "Có"])     # stored text
        rows.append([f"Y{i}", "", text, *base[3:]])                                          # unknown unit
    rows.append([SQL, "16969", "", *base[3:]])                                               # as an id
    rows.append([SCRIPT, "16969", "", *base[3:]])
    result = load_dossier_file(loaded, write(tmp_path, "inject.csv", csv_text(rows)), province="40", today=TODAY)
    accounted(result)
    texts = {*FORMULAS, SQL, SCRIPT}
    assert result.loaded == 8 and len(result.rejected) == 6
    assert {r["row"] for r in result.rejected} == set(range(3, 15, 2))
    stored = loaded.execute("SELECT dossier_id, procedure_name, field, status FROM dossiers "
                            "WHERE dossier_id LIKE 'X%' ORDER BY dossier_id").fetchall()
    assert {s[1] for s in stored} == {s[2] for s in stored} == {s[3] for s in stored} == texts
    assert {SQL, SCRIPT} <= {r[0] for r in loaded.execute("SELECT dossier_id FROM dossiers").fetchall()}
    assert loaded.execute("SELECT count(*) FROM dossiers").fetchall()[0][0] == before + 8  # the table survived

    rejected = history.rejected_frame(loaded, result.batch_id)
    inert_xlsx(to_xlsx({"Dòng bị từ chối": rejected}), texts)
    listed = drill.dossiers(loaded, drill.Node("16969", parse("2025-09"), TODAY), "received", limit=None)
    inert_xlsx(to_xlsx({"Hồ sơ": listed}, title=FORMULAS[0]), texts | {FORMULAS[0]})
    headers = pl.DataFrame({text: [text] for text in texts})  # formulas as column headers too
    inert_xlsx(to_xlsx({"x": headers}), texts)


def test_huge_numbers_and_extreme_dates_are_rejected_per_row(loaded, tmp_path):
    before = db_state(loaded)
    base = good_rows(1)[0]
    rows = [
        ["1e308", "16969", *base[2:]],                                          # an id is text: loads
        ["N2", "99999999999999999999", "", *base[3:]],                          # no such unit
        ["N3", "1e308", "", *base[3:]],
        ["N4", *base[1:6], "01/01/1900", *base[7:]],
        ["N5", *base[1:6], "31/12/9999", *base[7:]],
        ["N6", *base[1:6], "01/09/2025", "31/12/9999", *base[8:]],
        ["N7", *base[1:6], "15/12/2025", *base[7:]],                            # after today (15/11/2025)
        ["N8", *base[1:6], "99999", *base[7:]],                                 # Excel serial: year 2173
        ["N9", *base[1:6], "1e308", *base[7:]],
    ]
    result = load_dossier_file(loaded, write(tmp_path, "extremes.csv", csv_text(rows)), province="40", today=TODAY)
    accounted(result)
    assert result.loaded == 1
    reasons = {r["row"]: (r["column"], r["reason"]) for r in result.rejected}
    assert reasons[3] == ("Mã xã", "Cột «Mã xã»: không có đơn vị mã «99999999999999999999» thuộc Tỉnh Nghệ An")
    assert "không hợp lệ" in reasons[4][1]
    assert "trước năm 2000" in reasons[5][1] and "ở tương lai" in reasons[6][1]
    assert reasons[7][0] == "Ngày có kết quả" and "ở tương lai" in reasons[7][1]
    assert "ở tương lai" in reasons[8][1] and "ở tương lai" in reasons[9][1] and "không hợp lệ" in reasons[10][1]
    assert loaded.execute("SELECT received_date FROM dossiers WHERE dossier_id = '1e308'").fetchall()[0][0].year == 2025
    after = db_state(loaded)
    assert after["dossiers"][0] == before["dossiers"][0] + 1 and after["rejected_rows"][0] == 8
    inert_xlsx(to_xlsx({"x": history.rejected_frame(loaded, result.batch_id)}), {"99999999999999999999", "1e308"})


def test_100k_character_cell_and_10000_columns(con, tmp_path):
    big = "Đ" * 100_000
    base = good_rows(1)[0]
    rows = [["B1", "16969", "", big, *base[4:]], ["B2", "", big, *base[3:]]]
    result = load_dossier_file(con, write(tmp_path, "bigcell.csv", csv_text(rows)), province="40", today=TODAY)
    accounted(result)
    assert result.loaded == 1
    assert con.execute("SELECT length(procedure_name) FROM dossiers").fetchall() == [(100_000,)]
    reason = result.rejected[0]["reason"]
    assert len(reason) < 300 and "«Đ" in reason and "…»" in reason          # the message quotes a short prefix
    cells = inert_xlsx(to_xlsx({"x": history.rejected_frame(con, result.batch_id)}))
    cut = [c for c in cells if c.startswith("ĐĐĐ")]
    assert cut and all(len(c) == MAX_CELL and "đã cắt bớt" in c and "100.000" in c for c in cut)

    extra = [f"Cột phụ {i}" for i in range(10_000)]
    wide_rows = [[*r, *(f"v{i}" for i in range(10_000))] for r in good_rows(3, "W")]
    wide_rows[2][1:3] = ["00000", ""]                                           # one rejected row
    started = time.perf_counter()
    wide = load_dossier_file(con, write(tmp_path, "wide.csv", csv_text(wide_rows, [*HEADER, *extra])),
                             province="40", today=TODAY)
    seconds = time.perf_counter() - started
    print(f"10,000 columns loaded in {seconds:.2f} s")
    # A safety bound, not a benchmark (~2 s here): only work that grows with the width squared fails it.
    assert seconds < 60
    accounted(wide)
    assert (wide.loaded, [r["row"] for r in wide.rejected]) == (2, [4])
    frame = history.rejected_frame(con, wide.batch_id)
    assert frame.width == 3 + len(HEADER) + 10_000
    inert_xlsx(to_xlsx({"x": frame}), {"Cột phụ 9999", "v9999"})


def test_duplicate_and_reserved_header_names(con, tmp_path):
    header = ["Mã hồ sơ", "Mã xã", "Mã xã", "Ngày tiếp nhận", "Ngày tiếp nhận", "__row", "a", "a", "a (2)", ""]
    rows = [["D1", "16969", "17611", "01/09/2025", "02/09/2025", "x", "1", "2", "3", "4"]]
    result = load_dossier_file(con, write(tmp_path, "dup.csv", csv_text(rows, header)), province="40", today=TODAY)
    accounted(result)
    assert result.loaded == 1
    assert con.execute("SELECT unit_code, received_date::VARCHAR FROM dossiers").fetchall() == [("16969", "2025-09-01")]
    assert any("2 cột cùng tên «Mã xã»" in w for w in result.warnings)
    assert any("«Ngày tiếp nhận»" in w for w in result.warnings)


def test_invisible_and_right_to_left_characters(con, tmp_path):
    base = good_rows(1)[0]
    rows = [
        ["HS\u200b01", "\u202e16969", "", "Khai sinh \u202eRTL\u202c", *base[4:]],   # zero-width in the id
        ["HS02\ufeff", "", "Xã Nghĩa\u200b Thọ", *base[3:]],
        ["HS03", "", "\u2067Xã Nghĩa Thọ\u2069", *base[3:]],
    ]
    first = load_dossier_file(con, write(tmp_path, "rtl.csv", csv_text(rows)), province="40", today=TODAY)
    accounted(first)
    assert (first.loaded, first.rejected) == (3, [])
    names = query_pl(con, "SELECT procedure_name FROM dossiers")  # display text is kept as written
    inert_xlsx(to_xlsx({"x": names}), {"Khai sinh \u202eRTL\u202c"})
    assert sorted(con.execute("SELECT dossier_id, unit_code FROM dossiers").fetchall()) == [
        ("HS01", "16969"), ("HS02", "16969"), ("HS03", "16969")]
    # The same dossiers exported again without the invisible characters replace, never double.
    plain = [["HS01", "16969", *base[2:]], ["HS02", "16969", *base[2:]]]
    again = load_dossier_file(con, write(tmp_path, "plain.csv", csv_text(plain)), province="40", today=TODAY)
    assert again.replaced == 2
    assert con.execute("SELECT count(*) FROM dossiers").fetchall() == [(3,)]
    received = {v.kpi: v.numerator for v in compute(con, parse("2025-09"), "16969", today=TODAY)}["received"]
    assert received == 3


def test_hand_made_fixtures(con):
    """The small files in tests/fixtures/hostile/ load with the documented outcome."""
    result = load_dossier_file(con, HOSTILE / "injection.csv", province="40", today=TODAY)
    accounted(result)
    assert (result.rows_read, result.loaded, len(result.rejected)) == (6, 4, 2)
    inert_xlsx(to_xlsx({"x": history.rejected_frame(con, result.batch_id)}), {FORMULAS[0], SCRIPT})
    before = db_state(con)
    with pytest.raises(LoadError, match="NUL ở dòng 3"):
        load_dossier_file(con, HOSTILE / "nul_byte.csv", province="40", today=TODAY)
    with pytest.raises(LoadError, match="ngoặc kép"):
        load_dossier_file(con, HOSTILE / "unclosed_quote.csv", province="40", today=TODAY)
    assert db_state(con) == before


# --- HTML in names on the pages --------------------------------------------------------------------

@pytest.mark.slow
def test_html_in_uploaded_names_is_never_rendered_as_html(tmp_path, monkeypatch):
    """Every page that uses st.markdown(unsafe_allow_html=True) either escapes or does not
    show uploaded text: render them with <script> in procedure, field and status names."""
    import streamlit as st

    from loaders.tasks import load_tasks_file
    from store import accounts
    from store import db as store
    from tests.pages.conftest import app
    from ui.text import md

    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    rows = [[f"S{i}", "16969", "", SCRIPT, f"{SCRIPT} {i % 2}", "2", "03/09/2025", "", SCRIPT, "Có"] for i in range(4)]
    load_dossier_file(con, write(tmp_path, "xss.csv", csv_text(rows)), province="40", today=TODAY)
    tasks = ("TT;Nội dung nhiệm vụ;Cơ quan chủ trì;Thời gian hoàn thành;Tình trạng;Tiến độ;Ghi chú\n"
             f"1;{SCRIPT};{SCRIPT};Trước 30/9/2025;Đang thực hiện;40;{SCRIPT}\n")
    load_tasks_file(con, write(tmp_path, "tasks.csv", tasks), province="40", unit="16969")
    accounts.create_user(con, "admin", "matkhau-quantri", "admin", None, "Quản trị viên")
    con.close()
    monkeypatch.setenv("KPI_DB", str(path))
    monkeypatch.setenv("KPI_TODAY", TODAY.isoformat())
    st.cache_data.clear()
    st.cache_resource.clear()
    shown = escaped = 0
    for page, params in (("overview", {}), ("drilldown", {"don_vi": "16969"}),
                         ("drilldown", {"don_vi": "16969", "linh_vuc": f"{SCRIPT} 1"}), ("reports", {}), ("upload", {}),
                         ("tasks", {"don_vi": "16969"})):
        at = app(page, tinh="40", ky="2025-09", **params).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        html_parts = [m.value for m in at.markdown if m.proto.allow_html]
        assert not [h for h in html_parts if "<script" in h.lower()], page
        shown += sum(md(SCRIPT) in m.value for m in at.markdown if not m.proto.allow_html)  # escaped Markdown
        escaped += sum("&lt;script&gt;" in h for h in html_parts)                      # shown escaped
    assert shown and escaped  # the hostile text did reach the pages (drill-down position line, task table)
