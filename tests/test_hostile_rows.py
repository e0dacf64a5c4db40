"""Hostile rows inside a readable export (issue 13, items 15, 16, 17, 20): extra fields past
the header, bytes that are not UTF-8 past the sniffed start, impossible due dates, and the
column named when a unit does not resolve. Each gets a documented, uniform outcome with
row, column and a Vietnamese reason; nothing is dropped or garbled silently."""

from __future__ import annotations

import pytest

from loaders.dossiers import load_dossier_file
from loaders.files import SNIFF_BYTES

from .conftest import FIXTURES, TODAY, db_state
from .test_hostile_input import accounted, write

HOSTILE = FIXTURES / "hostile"
HEADER = "Mã hồ sơ,Mã xã,Đơn vị,Kênh nộp,Ngày tiếp nhận,Ngày hẹn trả,Trạng thái,Toàn trình\n"


def row(i: int, *, status: str = "Đang giải quyết", due: str = "") -> str:
    return f"R{i:06d},16969,Xã Nghĩa Thọ,Trực tuyến,{1 + i % 28:02d}/09/2025,{due},{status},Có\n"


# --- 15. A row with more fields than the header --------------------------------------------------

@pytest.mark.parametrize("where", ["first", "later"])
def test_a_non_empty_extra_field_rejects_that_row_wherever_it_is(con, tmp_path, where):
    """The first data row and a later row are treated alike: the row whose extra field has
    text is rejected (row, «số cột nhiều hơn dòng tiêu đề»), the others load."""
    rows = [row(i) for i in range(5)]
    bad = 0 if where == "first" else 3
    rows[bad] = rows[bad].rstrip("\n") + ",giá trị thừa\n"
    result = load_dossier_file(con, write(tmp_path, f"extra_{where}.csv", HEADER + "".join(rows)),
                               province="40", today=TODAY)
    accounted(result)
    assert (result.rows_read, result.loaded) == (5, 4)
    [rejected] = result.rejected
    assert rejected["row"] == bad + 2
    assert "số cột nhiều hơn dòng tiêu đề" in rejected["reason"] and "giá trị thừa" in rejected["reason"]
    assert con.execute("SELECT count(*) FROM dossiers").fetchall() == [(4,)]


@pytest.mark.parametrize("where", ["first", "later"])
def test_an_empty_extra_field_is_ignored(con, tmp_path, where):
    """A trailing separator (an empty field past the header) loses nothing: the row loads."""
    rows = [row(i) for i in range(5)]
    bad = 0 if where == "first" else 3
    rows[bad] = rows[bad].rstrip("\n") + ",\n"
    result = load_dossier_file(con, write(tmp_path, f"trailing_{where}.csv", HEADER + "".join(rows)),
                               province="40", today=TODAY)
    assert (result.rows_read, result.loaded, result.rejected) == (5, 5, [])


def test_ragged_fixtures(con):
    """tests/fixtures/hostile/ragged_*.csv: the same outcome, first row or later."""
    first = load_dossier_file(con, HOSTILE / "ragged_first_row.csv", province="40", today=TODAY)
    later = load_dossier_file(con, HOSTILE / "ragged_later_row.csv", province="40", today=TODAY)
    for result, bad_row in ((first, 2), (later, 4)):
        accounted(result)
        assert (result.rows_read, result.loaded) == (3, 2)
        assert [r["row"] for r in result.rejected] == [bad_row]
        assert "số cột nhiều hơn dòng tiêu đề" in result.rejected[0]["reason"]


# --- 16. Bytes that are not UTF-8 past the sniffed start ------------------------------------------

def test_rows_with_bytes_that_are_not_utf8_late_in_the_file_are_rejected_by_row_and_column(con, tmp_path):
    rows = [row(i) for i in range(6000)]                       # ~400 KB: past the 256 KB sample
    body = (HEADER + "".join(rows)).encode("utf-8")
    assert len(body) > SNIFF_BYTES
    # "Đã giải quyết" saved in a legacy code page: bytes that are not UTF-8, on two rows past the sample.
    legacy = b"\xd0\xe3 gi\xe1i quy\xeat"
    for i in (5000, 5500):
        good = row(i).encode("utf-8")
        body = body.replace(good, good.replace("Đang giải quyết".encode(), legacy))
    result = load_dossier_file(con, write(tmp_path, "late_legacy.csv", body), province="40", today=TODAY)
    accounted(result)
    assert (result.rows_read, result.loaded) == (6000, 5998)
    assert [(r["row"], r["column"]) for r in result.rejected] == [(5002, "Trạng thái"), (5502, "Trạng thái")]
    assert all("UTF-8" in r["reason"] for r in result.rejected)
    assert any("5002" in w and "5502" in w and "UTF-8" in w for w in result.warnings), result.warnings
    assert con.execute("SELECT count(*) FROM dossiers WHERE status LIKE '%\ufffd%'").fetchall() == [(0,)]


# --- 17. Due dates before the received date or absurdly far ----------------------------------------

def test_due_before_received_or_more_than_five_years_after_is_rejected_on_the_due_column(con, tmp_path):
    rows = [
        "D1,16969,,2,10/09/2025,05/09/2025,,Có\n",     # due before received
        "D2,16969,,2,10/09/2025,31/12/9999,,Có\n",     # due in year 9999
        "D3,16969,,2,10/09/2025,11/09/2030,,Có\n",     # just over 5 years
        "D4,16969,,2,10/09/2025,10/09/2025,,Có\n",     # due the same day: fine
        "D5,16969,,2,10/09/2025,01/09/2030,,Có\n",     # within 5 years: fine
        "D6,16969,,2,10/09/2025,,,Có\n",               # no due date: fine
    ]
    result = load_dossier_file(con, write(tmp_path, "due.csv", HEADER + "".join(rows)), province="40", today=TODAY)
    accounted(result)
    reasons = {r["row"]: (r["column"], r["reason"]) for r in result.rejected}
    assert sorted(reasons) == [2, 3, 4]
    assert all(column == "Ngày hẹn trả" for column, _ in reasons.values())
    assert "trước ngày tiếp nhận" in reasons[2][1]
    assert "31/12/9999" in reasons[3][1] and "5 năm" in reasons[3][1]
    assert con.execute("SELECT dossier_id FROM dossiers ORDER BY 1").fetchall() == [("D4",), ("D5",), ("D6",)]


# --- 20. The column named when a unit does not resolve ---------------------------------------------

def test_the_unit_column_that_failed_is_named(con, tmp_path):
    text = ("Mã hồ sơ,Mã xã,Tên đơn vị,Ngày tiếp nhận\n"
            "U1,,Xã Không Có Thật,01/09/2025\n"      # code empty, name fails -> Tên đơn vị
            "U2,99999,,01/09/2025\n"                 # code fails, no name -> Mã xã
            "U3,99999,Xã Không Có Thật,01/09/2025\n"  # both fail: the name's reason -> Tên đơn vị
            "U4,,,01/09/2025\n"                      # neither given -> Mã xã
            "U5,,Nghĩa Thọ,01/09/2025\n")
    before = db_state(con)
    result = load_dossier_file(con, write(tmp_path, "units.csv", text), province="40", today=TODAY)
    accounted(result)
    assert result.loaded == 1 and db_state(con) != before
    assert [(r["row"], r["column"]) for r in result.rejected] == [
        (2, "Tên đơn vị"), (3, "Mã xã"), (4, "Tên đơn vị"), (5, "Mã xã")]
    assert "Không Có Thật" in result.rejected[0]["reason"] and "99999" in result.rejected[1]["reason"]
