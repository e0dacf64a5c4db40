"""Writes stay within what the acting user may change (issue 13, items 5-8): a dossier id
stored for another unit moves only with the right to write both units, a file never
renames the shared procedure catalogue, undo restores what a batch changed, refusals name
units by name, and undo removes every kind's rows whatever the process imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loaders.batches import UndoError, undo_batch
from loaders.dossiers import load_dossier_file
from store import accounts
from store import db as store

from .conftest import FIXTURES, TODAY

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = FIXTURES / "hostile"
NT, VT, TL, PROVINCE = "16969", "17611", "16756", "40"


@pytest.fixture
def people(con):
    return {
        "officer": accounts.create_user(con, "canbo", "canbo-1234", "officer", NT, "Cán bộ Nghĩa Thọ"),
        "admin40": accounts.create_user(con, "qt40", "quantri-40", "admin", PROVINCE, "Quản trị Nghệ An"),
    }


def _unit_rows(con, unit: str) -> tuple:
    dossiers = con.execute("SELECT dossier_id, unit_code, procedure_name FROM dossiers WHERE unit_code = ? "
                           "ORDER BY ALL", [unit]).fetchall()
    facts = con.execute("SELECT * FROM fact_received WHERE unit_code = ? ORDER BY ALL", [unit]).fetchall()
    return dossiers, facts


def _procedure(con, code: str):
    rows = con.execute("SELECT procedure_name, field FROM procedures WHERE procedure_code = ?", [code]).fetchall()
    return rows[0] if rows else None


# Item 5: another unit's dossiers -------------------------------------------------------------


def test_officer_cannot_take_over_another_communes_dossiers(con, people):
    load_dossier_file(con, FIXTURES / "golden.csv", province=PROVINCE, today=TODAY)  # a system job
    van_tu = _unit_rows(con, VT)
    assert {"G04", "G05"} <= {d[0] for d in van_tu[0]}
    with accounts.acting_as(people["officer"]):
        result = load_dossier_file(con, HOSTILE / "takeover_16969.csv", province=PROVINCE, today=TODAY)
    assert (result.loaded, result.replaced) == (1, 0)
    assert [(r["row"], r["column"]) for r in result.rejected] == [(2, "Mã hồ sơ"), (3, "Mã hồ sơ")]
    assert result.rejected[0]["reason"] == (
        "Cột «Mã hồ sơ»: mã hồ sơ «G04» đã thuộc Xã Vân Tụ; tài khoản «canbo» không được ghi cho đơn vị đó "
        "nên không thể chuyển hồ sơ sang Xã Nghĩa Thọ")
    assert _unit_rows(con, VT) == van_tu  # nothing of Vân Tụ replaced, its facts unchanged
    assert con.execute("SELECT count(*) FROM dossier_history").fetchall()[0][0] == 0
    assert con.execute("SELECT dossier_id FROM dossiers WHERE batch_id = ?", [result.batch_id]).fetchall() == [
        ("N01",)]
    batch = con.execute("SELECT loaded, replaced, rejected FROM batches WHERE batch_id = ?",
                        [result.batch_id]).fetchall()[0]
    assert batch == (1, 0, 2)
    # The rejected rows are kept with their cells, to fix and upload again.
    stored = con.execute("SELECT row_no, raw FROM rejected_rows WHERE batch_id = ? ORDER BY row_no",
                         [result.batch_id]).fetchall()
    assert [s[0] for s in stored] == [2, 3]
    cells = json.loads(stored[0][1])
    assert cells["Mã hồ sơ"] == "G04" and cells["Ngày tiếp nhận"] == "15/09/2025 00:00"
    assert (cells["Kênh nộp"], cells["Toàn trình"], cells["Tên TTHC"]) == ("Trực tuyến", "Có", "Thủ tục đã bị đổi tên")


def test_moving_a_dossier_between_units_needs_both_and_system_jobs_may(con, people):
    load_dossier_file(con, FIXTURES / "golden.csv", province=PROVINCE, today=TODAY)
    with accounts.acting_as(people["admin40"]):  # may write both communes of Nghệ An
        moved = load_dossier_file(con, HOSTILE / "takeover_16969.csv", province=PROVINCE, today=TODAY)
    assert (moved.loaded, moved.replaced, moved.rejected) == (3, 2, [])
    assert not {"G04", "G05"} & {d[0] for d in _unit_rows(con, VT)[0]}
    undo_batch(con, moved.batch_id)
    assert {"G04", "G05"} <= {d[0] for d in _unit_rows(con, VT)[0]}
    # No acting user (CLI, scheduled pull): allowed as before.
    system = load_dossier_file(con, HOSTILE / "takeover_16969.csv", province=PROVINCE, today=TODAY)
    assert (system.loaded, system.replaced) == (3, 2)


def test_officer_replaces_own_dossiers(con, people, tmp_path):
    own = tmp_path / "own.csv"
    own.write_text("Mã hồ sơ,Mã xã,Ngày tiếp nhận\nO1,16969,01/09/2025\nO2,16969,02/09/2025\n", encoding="utf-8")
    with accounts.acting_as(people["officer"]):
        load_dossier_file(con, own, province=PROVINCE, today=TODAY)
        again = load_dossier_file(con, own, province=PROVINCE, today=TODAY)
    assert (again.loaded, again.replaced, again.rejected) == (2, 2, [])


# Item 6: the shared procedure catalogue ------------------------------------------------------


def test_file_does_not_rename_shared_procedures_and_undo_removes_what_it_added(con, people):
    load_dossier_file(con, FIXTURES / "golden.csv", province=PROVINCE, today=TODAY)
    national = _procedure(con, "2.000908")
    assert national == ("Chứng thực bản sao từ bản chính", "Chứng thực")
    with accounts.acting_as(people["admin40"]):
        result = load_dossier_file(con, HOSTILE / "takeover_16969.csv", province=PROVINCE, today=TODAY)
    assert _procedure(con, "2.000908") == national
    assert _procedure(con, "9.999001") == ("Thủ tục mới của xã", "Lĩnh vực mới")
    # The dossier row keeps the name the file gave.
    assert con.execute("SELECT procedure_name, field FROM dossiers WHERE dossier_id = 'G04'").fetchall() == [
        ("Thủ tục đã bị đổi tên", "Lĩnh vực giả")]
    undo_batch(con, result.batch_id)
    assert _procedure(con, "2.000908") == national
    assert _procedure(con, "9.999001") is None


def test_undo_keeps_an_added_procedure_that_other_data_uses(con, tmp_path):
    first = tmp_path / "a.csv"
    first.write_text("Mã hồ sơ,Mã xã,Mã TTHC,Tên TTHC,Ngày tiếp nhận\nA1,16969,9.999002,Thủ tục A,01/09/2025\n",
                     encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text("Mã hồ sơ,Mã xã,Mã TTHC,Tên TTHC,Ngày tiếp nhận\nB1,16969,9.999002,Tên khác,02/09/2025\n",
                      encoding="utf-8")
    a = load_dossier_file(con, first, province=PROVINCE, today=TODAY)
    load_dossier_file(con, second, province=PROVINCE, today=TODAY)
    assert _procedure(con, "9.999002") == ("Thủ tục A", None)
    undo_batch(con, a.batch_id)
    # B1 still names it: kept, as if only B had been loaded.
    assert _procedure(con, "9.999002") == ("Tên khác", None)


# Item 7: server-side undo check, refusals name units -----------------------------------------


def test_refusals_name_units_by_name(con, people):
    load_dossier_file(con, FIXTURES / "golden.csv", province=PROVINCE, today=TODAY)
    with accounts.acting_as(people["officer"]), pytest.raises(accounts.AccessDenied) as denied:
        load_dossier_file(con, FIXTURES / "golden.csv", province=PROVINCE, today=TODAY)
    assert "Xã Vân Tụ" in str(denied.value)
    other = con.execute("SELECT max(batch_id) FROM batches WHERE status = 'active'").fetchall()[0][0]
    with accounts.acting_as(people["officer"]), pytest.raises(accounts.AccessDenied) as denied:
        undo_batch(con, other)
    assert "Xã Vân Tụ" in str(denied.value)
    undo_batch(con, other)
    with pytest.raises(UndoError, match="đã được hoàn tác"):
        undo_batch(con, other)


# Item 8: undo whatever the process imported --------------------------------------------------


def test_undo_in_a_fresh_process_removes_every_kind(tmp_path):
    from loaders.archive import load_archive_file
    from loaders.catalogue import load_catalogue_file
    from loaders.tasks import load_tasks_file
    from loaders.template import load_template_file

    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    loaded = {
        "catalogue_services": load_catalogue_file(con, FIXTURES / "catalogue_nghia_tho.csv", province=PROVINCE),
        "template_rows": load_template_file(con, FIXTURES / "template_06a.csv", province=PROVINCE),
        "archive_stats": load_archive_file(con, FIXTURES / "archive_nghe_an.csv", province=PROVINCE),
        "plan_tasks": load_tasks_file(con, FIXTURES / "tasks_van_tu.csv", province=PROVINCE),
    }
    ids = {table: r.batch_id for table, r in loaded.items()}
    for table, batch in ids.items():
        assert con.execute(f"SELECT count(*) FROM {table} WHERE batch_id = ?", [batch]).fetchall()[0][0] > 0
    con.close()
    script = (
        "import json, sys\n"
        "from loaders import batches\n"
        "from store import db as store\n"
        "kinds = ('loaders.catalogue', 'loaders.template', 'loaders.archive', 'loaders.tasks', 'loaders.sources')\n"
        "assert not [m for m in kinds if m in sys.modules], sys.modules.keys()\n"
        "con = store.connect(sys.argv[1])\n"
        "print(json.dumps([batches.undo_batch(con, int(b)) for b in sys.argv[2:]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path), *map(str, ids.values())], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    for (table, result), undone in zip(loaded.items(), counts, strict=True):
        assert undone["removed"] == result.loaded > 0, table
    con = store.connect(path)
    try:
        for table, batch in ids.items():
            assert con.execute(f"SELECT count(*) FROM {table} WHERE batch_id = ?", [batch]).fetchall()[0][0] == 0
    finally:
        con.close()


def test_undo_of_an_unknown_kind_is_refused_not_marked_undone(con):
    con.execute("INSERT INTO batches (batch_id, kind, loaded_at, status) VALUES (900, 'mystery', now(), 'active')")
    with pytest.raises(UndoError):
        undo_batch(con, 900)
    assert con.execute("SELECT status FROM batches WHERE batch_id = 900").fetchall() == [("active",)]


def test_every_kind_has_its_undo_declared():
    from loaders import batches, history, sources

    assert set(sources.KIND) == set(history.KIND_LABELS) == {*sources.KINDS, "sql"}
    for kind in sources.KIND:
        assert callable(batches.undo_function(kind))


def test_upload_description_uses_vietnamese_numbers_and_no_raw_marks():
    from datetime import datetime

    from loaders.history import describe

    row = {"batch_id": 7, "kind": "dossiers", "file_name": None, "loaded_at": datetime(2025, 10, 3, 9, 5),
           "loaded": 12345, "replaced": 1000, "rejected": None}
    text = describe(row)
    assert "12.345 dòng nạp" in text and "1.000 thay thế" in text and "0 từ chối" in text
    assert "09:05 03/10/2025" in text and "không có tên tệp" in text and "?" not in text


def test_preview_shows_the_rows_the_write_check_will_refuse(con, people):
    """The upload preview (check_dossier_file) said «0 rows will be rejected» for a file whose
    rows the load then refused for belonging to another commune: it now gives the same rows
    with the same reasons as the load, for the acting account only."""
    import polars as pl

    from loaders.dossiers import check_dossier_file

    load_dossier_file(con, FIXTURES / "golden.csv", province=PROVINCE, today=TODAY)
    with accounts.acting_as(people["officer"]):
        _table, _fields, frame = check_dossier_file(con, HOSTILE / "takeover_16969.csv", PROVINCE, today=TODAY)
        bad = frame.filter(pl.col("_reason").is_not_null())
        loaded = load_dossier_file(con, HOSTILE / "takeover_16969.csv", province=PROVINCE, today=TODAY)
    assert bad["__row"].to_list() == [r["row"] for r in loaded.rejected] == [2, 3]
    assert bad["_column"].to_list() == ["Mã hồ sơ", "Mã hồ sơ"]
    assert bad["_reason"].to_list() == [r["reason"] for r in loaded.rejected]
    # A system job (no acting user) and an admin who may write both units: nothing refused.
    _table, _fields, frame = check_dossier_file(con, HOSTILE / "takeover_16969.csv", PROVINCE, today=TODAY)
    assert frame.filter(pl.col("_reason").is_not_null()).is_empty()
