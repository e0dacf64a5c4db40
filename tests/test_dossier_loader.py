"""The dossier loader: messy exports load, bad rows are kept with reasons, and a file
rejected whole leaves the database exactly as it was."""

from __future__ import annotations

import json

import openpyxl
import pytest

from loaders.dossiers import load_dossier_file, match_headers
from loaders.files import LoadError

from .conftest import TODAY, db_state

HEADER = "Mã hồ sơ,Mã xã,Kênh nộp,Ngày tiếp nhận,Ngày hẹn trả,Ngày có kết quả,Toàn trình\n"


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_header_forms_map_to_the_same_fields():
    assert match_headers(["MÃ HỒ SƠ", "Đơn vị tiếp nhận", "Ngày nhận", "Hình thức nộp"]) == {
        "dossier_id": "MÃ HỒ SƠ", "unit_name": "Đơn vị tiếp nhận", "received_at": "Ngày nhận",
        "channel": "Hình thức nộp"}
    assert match_headers(["so_ho_so", "ma don vi", "Ngày hẹn trả kết quả (dự kiến)"]) == {
        "dossier_id": "so_ho_so", "unit_code": "ma don vi", "due_at": "Ngày hẹn trả kết quả (dự kiến)"}
    assert match_headers(["Cột A", "Mã xã"], manual={"Cột A": "dossier_id"})["dossier_id"] == "Cột A"


def test_messy_export_rows_and_reasons(con, fixtures):
    result = load_dossier_file(con, fixtures / "messy.csv", province="40", today=TODAY)
    assert (result.rows_read, result.loaded, result.duplicates) == (7, 3, 1)
    assert [(r["row"], r["column"]) for r in result.rejected] == [
        (6, "MÃ HỒ SƠ"), (7, "Đơn vị tiếp nhận"), (8, "Ngày nhận")]
    assert "31/02/2025" in result.rejected[2]["reason"]
    stored = con.execute("SELECT row_no, column_name, reason, raw FROM rejected_rows ORDER BY row_no").fetchall()
    assert [s[0] for s in stored] == [6, 7, 8]
    assert json.loads(stored[1][3])["Đơn vị tiếp nhận"] == "Xã Không Có"


def test_title_lines_above_the_header_and_xlsx(con, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH HỒ SƠ TIẾP NHẬN"])
    ws.append([])
    ws.append(["STT", "Mã hồ sơ", "Mã đơn vị", "Kênh thực hiện", "Ngày tiếp nhận", "Toàn trình"])
    ws.append([1, "X1", "16969", "Trực tuyến", "2025-09-03 08:00", "Đã"])
    ws.append([2, "X2", 16969, "Trực tiếp", "31/02/2025", "Chưa"])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    result = load_dossier_file(con, path, province="40", today=TODAY)
    assert result.loaded == 1
    assert [(r["row"], r["column"]) for r in result.rejected] == [(5, "Ngày tiếp nhận")]


def test_ambiguous_unit_name_is_rejected_not_guessed(con, tmp_path):
    path = write(tmp_path, "bato.csv", "Mã hồ sơ,Đơn vị,Ngày tiếp nhận\nB1,ba to,01/09/2025\nB2,Ba Tô,01/09/2025\n")
    result = load_dossier_file(con, path, province="51", today=TODAY)
    assert result.loaded == 1
    assert "không rõ ràng" in result.rejected[0]["reason"]
    assert con.execute("SELECT unit_code FROM dossiers").fetchall() == [("21523",)]


def test_future_and_backwards_dates_are_rejected(con, tmp_path):
    text = HEADER + "F1,16969,2,01/12/2025,,,Có\nF2,16969,2,10/09/2025,,05/09/2025,Có\nF3,16969,9,10/09/2025,,,Có\n"
    result = load_dossier_file(con, write(tmp_path, "f.csv", text), province="40", today=TODAY)
    reasons = [r["reason"] for r in result.rejected]
    assert result.loaded == 0 and len(reasons) == 3
    assert "tương lai" in reasons[0] and "trước ngày tiếp nhận" in reasons[1] and "kênh nộp" in reasons[2]


def test_identical_reupload_replaces(con, fixtures):
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    again = load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    assert (again.loaded, again.replaced) == (10, 10)
    assert again.warnings and "đã được tải lên" in again.warnings[0]
    assert con.execute("SELECT count(*) FROM dossiers").fetchall()[0][0] == 10


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", "Mã hồ sơ,Mã xã,Kênh nộp\nA,16969,2\n", "thiếu cột bắt buộc: Ngày tiếp nhận"),
        ("nounit.csv", "Mã hồ sơ,Ngày tiếp nhận,Kênh nộp\nA,01/09/2025,2\n", "Mã đơn vị hoặc Đơn vị"),
        ("empty.csv", "", "trống"),
        ("binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "không phải tệp văn bản"),
        ("cp1258.csv", "Mã hồ sơ,Mã xã,Ngày tiếp nhận\nA,16969,01/09/2025\n".encode("cp1258", errors="replace") +
         "Tên đơn vị có dấu".encode("cp1258", errors="replace"), "UTF-8"),
        ("noheader.csv", "a,b,c\n1,2,3\n", "không tìm thấy dòng tiêu đề"),
        ("fake.xlsx", b"PK\x03\x04garbage", "không phải tệp Excel"),
    ],
)
def test_rejected_whole_file_leaves_database_unchanged(con, fixtures, tmp_path, name, content, message):
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    before = db_state(con)
    with pytest.raises(LoadError) as error:
        load_dossier_file(con, write(tmp_path, name, content), province="40", today=TODAY)
    assert name in str(error.value) and message in str(error.value)
    assert db_state(con) == before


def test_utf16_export_is_read(con, tmp_path):
    text = "Mã hồ sơ\tMã xã\tNgày tiếp nhận\nU1\t16969\t01/09/2025\n"
    path = write(tmp_path, "u16.csv", "\ufeff" + text, encoding="utf-16-le")
    assert load_dossier_file(con, path, province="40", today=TODAY).loaded == 1


def test_failure_inside_the_transaction_rolls_back(con, fixtures, monkeypatch):
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    before = db_state(con)
    from loaders import batches

    def boom(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(batches, "refresh_facts", boom)
    with pytest.raises(RuntimeError):
        load_dossier_file(con, fixtures / "golden_update.csv", province="40", today=TODAY)
    assert db_state(con) == before


def _repeats_export(tmp_path):
    """D1 three times (the last row invalid: its earlier valid row must win), D2 twice with
    different content (the last wins), D3 once; rows are 2..7 in the file."""
    return write(tmp_path, "repeats.csv", HEADER + "\n".join([
        "D1,16969,Trực tuyến,01/09/2025,,,Có",     # row 2
        "D2,16969,Trực tiếp,02/09/2025,,,Không",   # row 3
        "D1,16969,Trực tiếp,03/09/2025,,,Không",   # row 4: D1's last valid row
        "D3,16969,Trực tuyến,04/09/2025,,,Có",     # row 5
        "D2,16969,Trực tuyến,05/09/2025,,,Có",     # row 6: D2's last row
        "D1,16969,Trực tuyến,31/02/2025,,,Có",     # row 7: invalid date, rejected
    ]) + "\n")


@pytest.mark.parametrize("chunk_rows", [1, 2, 100])
def test_last_valid_row_of_a_repeated_dossier_wins_across_chunks(con, tmp_path, monkeypatch, chunk_rows):
    import loaders.dossiers as dossiers

    monkeypatch.setattr(dossiers, "CHUNK_ROWS", chunk_rows)
    result = load_dossier_file(con, _repeats_export(tmp_path), province="40", today=TODAY)
    assert (result.rows_read, result.loaded, result.duplicates, len(result.rejected)) == (6, 3, 2, 1)
    rows = con.execute("SELECT dossier_id, source_row, channel FROM dossiers ORDER BY dossier_id").fetchall()
    assert rows == [("D1", 4, "direct"), ("D2", 6, "online"), ("D3", 5, "online")]
    facts = con.execute("SELECT sum(received), sum(received_online) FROM fact_received").fetchall()
    assert facts == [(3, 2)]


def test_repeats_resolve_a_hash_collision_by_the_ids_themselves():
    """Rows whose id hashes collide are only candidates: their real ids decide."""
    import polars as pl

    from loaders.dossiers import Repeats

    repeats = Repeats()
    # Row 5 repeats B but is rejected: a rejected row is no one's repeat.
    repeats.note(pl.DataFrame({"dossier_id": ["A", "B", "A", "C", "B"], "source_row": [1, 2, 3, 4, 5],
                               "_reason": [None, None, None, None, "thiếu ngày tiếp nhận"]},
                              schema={"dossier_id": pl.String, "source_row": pl.Int32, "_reason": pl.String}))
    assert sorted(repeats.candidates().to_list()) == [1, 3]
    # Rows 1 (A), 2 (B), 3 (A), as if all three ids had one hash: only row 1 gives way.
    candidates = pl.DataFrame({"dossier_id": ["A", "B", "A"], "source_row": [1, 2, 3]})
    assert Repeats.dropped(candidates)["source_row"].to_list() == [1]


def test_a_byte_that_is_not_utf8_past_the_sniffed_start_is_read_lossily(con, tmp_path):
    """The fast strict UTF-8 read meets the bad byte mid-file: the load reads the file
    again with U+FFFD in its place, loses no other row, and rejects the row holding it
    (row, column, reason) instead of storing it garbled."""
    rows = [f"L{i:06d},16969,Trực tuyến,01/09/2025,,,Có" for i in range(12_000)]  # ~600 KB: past the sample
    rows[11_000] = "L011000,16969,Trực tuyến,01/09/2025,,,Có"
    body = (HEADER + "\n".join(rows) + "\n").encode("utf-8")
    at = body.index(b"L011000")
    path = write(tmp_path, "late-bad-byte.csv", body[:at] + b"L0110\xff00" + body[at + 7:])
    result = load_dossier_file(con, path, province="40", today=TODAY)
    assert (result.rows_read, result.loaded) == (12_000, 11_999)
    assert [(r["row"], r["column"]) for r in result.rejected] == [(11_002, "Mã hồ sơ")]
    assert "UTF-8" in result.rejected[0]["reason"] and "L0110\ufffd00" in result.rejected[0]["reason"]
    assert any("11002" in w for w in result.warnings)
    assert con.execute("SELECT count(*) FROM dossiers WHERE dossier_id LIKE '%\ufffd%'").fetchall() == [(0,)]


@pytest.mark.parametrize("pass_rows", [1, 2, 3])
def test_replacing_in_several_passes_gives_the_one_pass_result(tmp_path, monkeypatch, pass_rows):
    """A big re-upload matches the earlier versions in passes (batches.REPLACE_PASS_ROWS):
    the store ends exactly as with one pass."""
    from loaders import batches
    from store import db as store

    first = HEADER + "".join(f"D{i},16969,Trực tiếp,0{i}/09/2025,1{i}/09/2025,,Không\n" for i in range(1, 7))
    second = HEADER + "".join(f"D{i},16969,Trực tuyến,0{i}/10/2025,1{i}/10/2025,0{i}/10/2025,Có\n"
                              for i in (2, 4, 6, 7))
    paths = [write(tmp_path, "a.csv", first), write(tmp_path, "b.csv", second)]

    def final_state(rows_per_pass):
        monkeypatch.setattr(batches, "REPLACE_PASS_ROWS", rows_per_pass)
        con = store.connect(":memory:")
        results = [load_dossier_file(con, p, province="40", today=TODAY) for p in paths]
        state = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall())
                 for t in ("dossiers", "dossier_history", "fact_received", "fact_finished")}
        con.close()
        return [(r.loaded, r.replaced) for r in results], state

    one_pass = final_state(1_000_000)
    assert one_pass[0] == [(6, 0), (4, 3)]
    assert len(one_pass[1]["dossiers"]) == 7 and len(one_pass[1]["dossier_history"]) == 3
    assert final_state(pass_rows) == one_pass


@pytest.mark.parametrize("chunk_rows", [2, 1000])
def test_a_unit_code_decides_and_its_name_is_the_fallback(con, tmp_path, monkeypatch, chunk_rows):
    """A code that resolves decides whatever the name says; a missing or unknown code falls
    back to the name; a row with neither resolving is rejected with the name's reason."""
    import loaders.dossiers as dossiers

    monkeypatch.setattr(dossiers, "CHUNK_ROWS", chunk_rows)
    other, other_name = con.execute("SELECT code, name FROM units WHERE province_code = '40' AND level = 'commune' "
                                    "AND code <> '16969' ORDER BY code LIMIT 1").fetchall()[0]
    path = write(tmp_path, "codes-names.csv", "Mã hồ sơ,Mã xã,Đơn vị,Ngày tiếp nhận\n" + "\n".join([
        "D1,16969,Xã Không Có Thật,01/09/2025",
        "D2,99999,Nghĩa Thọ,01/09/2025",
        f"D3,,{other_name},01/09/2025",
        "D4,99999,Xã Không Có Thật,01/09/2025",
        "D5,,,01/09/2025",
        f"D6,{other},Nghĩa Thọ,01/09/2025",
        "D7,16969,,01/09/2025",
    ]) + "\n")
    result = load_dossier_file(con, path, province="40", today=TODAY)
    stored = con.execute("SELECT dossier_id, unit_code, province_code FROM dossiers ORDER BY dossier_id").fetchall()
    assert stored == [("D1", "16969", "40"), ("D2", "16969", "40"), ("D3", other, "40"), ("D6", other, "40"),
                      ("D7", "16969", "40")]
    # Row 5: the code failed, then the name; the name's reason and column are given.
    assert [(r["row"], r["column"]) for r in result.rejected] == [(5, "Đơn vị"), (6, "Mã xã")]
    assert "Không Có Thật" in result.rejected[0]["reason"]
    assert "thiếu mã đơn vị và tên đơn vị" in result.rejected[1]["reason"]


def test_rows_refused_while_writing_count_as_rejected_not_loaded(con, tmp_path):
    """Rows rejected while reading, repeats, and rows refused while writing (a dossier of a
    unit the uploader may not write) add up to the rows read, in the result and the batch."""
    from store import accounts

    write(tmp_path, "a.csv", "Mã hồ sơ,Mã xã,Ngày tiếp nhận\nV1,17611,01/09/2025\nV2,17611,02/09/2025\n")
    load_dossier_file(con, tmp_path / "a.csv", province="40", today=TODAY)
    officer = accounts.create_user(con, "canbo", "canbo-1234", "officer", "16969")
    path = write(tmp_path, "b.csv", "Mã hồ sơ,Mã xã,Ngày tiếp nhận\nV1,16969,01/09/2025\nN1,16969,31/02/2025\n"
                                    "N2,16969,03/09/2025\nN2,16969,03/09/2025\nV2,16969,02/09/2025\n")
    before = db_state(con)["procedures"]
    with accounts.acting_as(officer):
        result = load_dossier_file(con, path, province="40", today=TODAY)
    assert (result.rows_read, result.loaded, result.duplicates, result.replaced) == (5, 1, 1, 0)
    assert [(r["row"], r["column"]) for r in result.rejected] == [
        (2, "Mã hồ sơ"), (3, "Ngày tiếp nhận"), (6, "Mã hồ sơ")]
    assert "Xã Vân Tụ" in result.rejected[0]["reason"]
    assert con.execute("SELECT rows_read, loaded, duplicates, replaced, rejected FROM batches WHERE batch_id = ?",
                       [result.batch_id]).fetchall() == [(5, 1, 1, 0, 3)]
    assert con.execute("SELECT unit_code, count(*) FROM dossiers GROUP BY ALL ORDER BY 1").fetchall() == [
        ("16969", 1), ("17611", 2)]
    assert db_state(con)["procedures"] == before
