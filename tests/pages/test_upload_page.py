"""The upload page: preview and validation before writing, load, rejected rows, undo."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from store import accounts
from store import db as store

from .conftest import FIXTURES, ROOT, app


class FakeUpload:
    """What st.file_uploader returns, as far as the page uses it."""

    def __init__(self, path):
        self.name = path.name
        self._data = path.read_bytes()

    def getvalue(self):
        return self._data


def page(monkeypatch, files, token=None) -> AppTest:
    import streamlit as st

    monkeypatch.setattr(st, "file_uploader", lambda *a, **k: [FakeUpload(f) for f in files])
    at = app(tinh="40", token=token)
    at.switch_page(str(ROOT / "pages" / "upload.py"))
    return at


def plain(text: str) -> str:
    """Text as shown, whether or not the page escaped its Markdown punctuation."""
    import re

    return re.sub(r"\\(.)", r"\1", text)


def counts(path):
    con = store.connect(path)
    try:
        return con.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
    finally:
        con.close()


def test_preview_validates_without_writing_then_loads_and_undoes(golden_db, monkeypatch):
    at = page(monkeypatch, [FIXTURES / "messy.csv"])
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    # The preview's counts add up to the rows read, and what it says will be loaded is what is
    # loaded: 7 rows = 3 to load + 1 repeat of HS-002 (row 3, row 4 kept) + 3 rejected.
    assert metrics == {"Số dòng đọc được": "7", "Dòng sẽ được nạp": "3", "Dòng trùng lặp trong tệp": "1",
                       "Dòng sẽ bị từ chối": "3"}
    assert counts(golden_db) == 10  # nothing written by the preview
    at.button(key=next(b.key for b in at.button if b.label == "Nạp vào kho dữ liệu")).click().run()
    assert not at.exception, at.exception
    assert any("Đã nạp lần tải #2: 3 dòng" in plain(s.value) and "từ chối 3" in plain(s.value) for s in at.success)
    assert counts(golden_db) == 13
    history_table = at.table[-1].value
    assert list(history_table["Lần tải"]) == ["2", "1"]  # shown as formatted texts
    # Who loaded: the account's full name, and the sample/CLI load named, never "None".
    assert [plain(v) for v in history_table["Người tải"]] == ["Quản trị viên", "Hệ thống (dòng lệnh hoặc tác vụ tự động)"]
    at.selectbox(key="undo_pick").select(2).run()
    at.checkbox(key="undo_confirm_2").check().run()
    at.button(key="undo_go_2").click().run()
    assert not at.exception, at.exception
    assert counts(golden_db) == 10


def test_file_rejected_whole_shows_error(golden_db, monkeypatch, tmp_path):
    bad = tmp_path / "thieu_cot.csv"
    bad.write_text("Mã hồ sơ,Kênh nộp\nA,2\n", encoding="utf-8")
    at = page(monkeypatch, [bad])
    at.run()
    assert not at.exception
    assert any("thieu_cot.csv" in plain(e.value) and "thiếu cột bắt buộc" in plain(e.value) for e in at.error)
    assert counts(golden_db) == 10


def test_officer_page_is_limited_to_own_commune(golden_db, monkeypatch):
    con = store.connect(golden_db)
    accounts.create_user(con, "canbo", "canbo-1234", "officer", "16969", "Cán bộ Nghĩa Thọ")
    token = accounts.authenticate(con, "canbo", "canbo-1234")
    con.close()
    # A crafted URL for another commune falls back to the officer's own commune ...
    at = page(monkeypatch, [FIXTURES / "golden.csv"], token=token)
    at.query_params["don_vi"] = "17611"
    at.run()
    assert not at.exception, at.exception
    assert "Xã Nghĩa Thọ" in at.caption[0].value
    # ... and a file with another commune's dossiers is refused whole, nothing written.
    at.button(key=next(b.key for b in at.button if b.label == "Nạp vào kho dữ liệu")).click().run()
    assert any("không được tải dữ liệu lên" in plain(e.value) and "Xã Vân Tụ (17611)" in plain(e.value)
               for e in at.error)
    assert counts(golden_db) == 10


def test_leader_is_refused_on_the_upload_page(golden_db):
    """The upload page is hidden from a leader's menu but known at its address (an officer's
    shared link must not meet Streamlit's English "Page not found"): it refuses before
    offering a file picker."""
    from .conftest import app as make_app

    con = store.connect(golden_db)
    accounts.create_user(con, "lanhdao", "lanhdao-123", "leader", "40")
    token = accounts.authenticate(con, "lanhdao", "lanhdao-123")
    con.close()
    at = make_app("upload", token=token, tinh="40")
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Tài khoản vai trò «Lãnh đạo» không được tải dữ liệu lên: "
                                           "chỉ cán bộ một cửa và quản trị viên."]
    assert not at.get("file_uploader")


def _uploaded_copies(folder):
    return sorted(p.name for p in folder.glob("kpi-upload-*"))


def test_uploaded_files_do_not_outlive_the_run(golden_db, monkeypatch, tmp_path):
    import tempfile

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    bad = tmp_path / "thieu_cot.csv"
    bad.write_text("Mã hồ sơ,Kênh nộp\nA,2\n", encoding="utf-8")
    at = page(monkeypatch, [FIXTURES / "messy.csv", bad])
    at.run()
    assert not at.exception, at.exception
    assert _uploaded_copies(temp) == []  # previewed: no copy left behind
    at.button(key=next(b.key for b in at.button if b.label == "Nạp vào kho dữ liệu")).click().run()
    assert not at.exception, at.exception
    assert any("Đã nạp lần tải #2" in plain(s.value) for s in at.success)
    assert _uploaded_copies(temp) == []  # loaded: none either
    assert list(temp.iterdir()) == []  # nor the loader's own staging


def test_undo_picker_follows_the_store_and_names_the_batch(golden_db, monkeypatch):
    at = page(monkeypatch, [FIXTURES / "messy.csv"])
    at.run()
    # The officer looks at the only upload (#1) and confirms, then uploads a file.
    at.selectbox(key="undo_pick").select(1).run()
    at.checkbox(key="undo_confirm_1").check().run()
    at.button(key=next(b.key for b in at.button if b.label == "Nạp vào kho dữ liệu")).click().run()
    assert not at.exception, at.exception
    # The picker now offers the new upload, and nothing is confirmed.
    pick = at.selectbox(key="undo_pick")
    assert pick.value == 2 and pick.options[0].startswith("#2")
    confirm = at.checkbox(key="undo_confirm_2")
    assert not confirm.value
    assert "«messy\\.csv»" in confirm.label  # escaped: labels are Markdown
    assert "3 dòng nạp" in plain(confirm.label) and "golden" not in confirm.label
    # A reload (a new session) offers it too.
    fresh = page(monkeypatch, [])
    fresh.run()
    assert fresh.selectbox(key="undo_pick").value == 2
    # The undo is of the batch named by the confirmation.
    at.checkbox(key="undo_confirm_2").check().run()
    at.button(key="undo_go_2").click().run()
    assert not at.exception, at.exception
    assert any("Đã hoàn tác lần tải #2" in plain(s.value) for s in at.success)
    con = store.connect(golden_db)
    try:
        assert con.execute("SELECT batch_id, status FROM batches ORDER BY 1").fetchall() == [
            (1, "active"), (2, "undone")]
    finally:
        con.close()
    assert at.selectbox(key="undo_pick").value == 1  # the store after the undo


def test_undo_of_a_batch_undone_meanwhile_is_refused(golden_db, monkeypatch):
    at = page(monkeypatch, [])
    at.run()
    at.checkbox(key="undo_confirm_1").check().run()
    con = store.connect(golden_db)
    from loaders.batches import undo_batch

    undo_batch(con, 1)  # another session undoes it first
    con.close()
    at.button(key="undo_go_1").click().run()
    assert not at.exception, at.exception
    assert any("đã được hoàn tác" in plain(e.value) for e in at.error)


def test_officer_is_offered_only_batches_they_may_undo(golden_db, monkeypatch, tmp_path):
    con = store.connect(golden_db)
    accounts.create_user(con, "canbo", "canbo-1234", "officer", "16969", "Cán bộ Nghĩa Thọ")
    token = accounts.authenticate(con, "canbo", "canbo-1234")
    con.close()
    own = tmp_path / "own.csv"
    own.write_text("Mã hồ sơ,Mã xã,Ngày tiếp nhận\nO1,16969,01/09/2025\n", encoding="utf-8")
    at = page(monkeypatch, [own], token=token)
    at.run()
    # Batch 1 (golden.csv: Nghĩa Thọ and Vân Tụ) is listed but not offered for undo.
    assert not [s for s in at.selectbox if s.key == "undo_pick"]
    at.button(key=next(b.key for b in at.button if b.label == "Nạp vào kho dữ liệu")).click().run()
    assert not at.exception, at.exception
    assert [o.split(" ")[0] for o in at.selectbox(key="undo_pick").options] == ["#2"]
