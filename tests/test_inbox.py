"""The inbox folder (service/inbox.py) on a real store and real files: a file is taken only
once it has stopped growing, loaded as its folder's unit (and nothing else), moved with a
Vietnamese result file, recognised when dropped again, refused for an unknown folder."""

from __future__ import annotations

import os
import time
from datetime import date

import pytest

from loaders.dossiers import load_dossier_file
from service import inbox as inbox_module
from service.inbox import Inbox
from store import db as store
from store import jobs

from .test_api import export

TODAY = date(2025, 11, 15)


@pytest.fixture
def box(tmp_path, fixtures, monkeypatch):
    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    con.close()
    monkeypatch.setattr(inbox_module, "SETTLE_SECONDS", 0.0)
    root = tmp_path / "inbox"
    root.mkdir()
    return Inbox(path, root, today=lambda: TODAY)


def drop(box: Inbox, unit: str, name: str, content: bytes, age: float = 10) -> os.PathLike:
    folder = box.root / unit
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


def cur(box: Inbox):
    return store.shared(box.db).cursor()


def results(box: Inbox, outcome: str, unit: str) -> list[str]:
    folder = box.root / outcome / unit
    return sorted(p.read_text(encoding="utf-8") for p in folder.glob("*.ket-qua.txt")) if folder.exists() else []


def test_a_settled_file_is_loaded_as_its_units_upload_and_moved_with_its_result(box):
    drop(box, "16969", "thang10.csv", export(("N1", "16969"), ("N2", "16969")))
    assert box.scan() == []                      # first sight: not yet known to have stopped growing
    [summary] = box.scan()
    assert (summary["loaded"], summary["rejected"]) == (2, [])
    assert not (box.root / "16969" / "thang10.csv").exists()
    [moved] = [p for p in (box.root / "processed" / "16969").iterdir() if not p.name.endswith(".ket-qua.txt")]
    assert moved.name.endswith("_thang10.csv")
    [text] = results(box, "processed", "16969")
    assert "Đã nạp tệp «thang10.csv»" in text and "nạp 2" in text
    assert cur(box).execute("SELECT count(*) FROM dossiers WHERE dossier_id IN ('N1', 'N2')").fetchall() == [(2,)]
    [run] = jobs.runs(cur(box), kind="inbox")
    assert (run["status"], run["loaded"], run["name"]) == ("ok", 2, "16969/thang10.csv")


def test_a_file_still_being_written_is_left_alone(box):
    path = drop(box, "16969", "dang_ghi.csv", export(("W1", "16969")))
    assert box.scan() == []
    with path.open("ab") as out:                 # the export job is still writing
        out.write(export(("W2", "16969")).split(b"\n", 1)[1])
    past = time.time() - 5
    os.utime(path, (past, past))
    assert box.scan() == []                      # it changed since the last look
    [summary] = box.scan()
    assert summary["loaded"] == 2


def test_a_file_modified_just_now_waits_for_the_settle_time(box, monkeypatch):
    monkeypatch.setattr(inbox_module, "SETTLE_SECONDS", 60.0)
    drop(box, "16969", "moi.csv", export(("M1", "16969")), age=0)
    assert box.scan() == [] and box.scan() == []
    assert (box.root / "16969" / "moi.csv").exists()


def test_the_same_file_dropped_twice_is_recognised(box):
    content = export(("R1", "16969"))
    drop(box, "16969", "a.csv", content)
    box.scan()
    [first] = box.scan()
    drop(box, "16969", "a_lan2.csv", content)
    box.scan()
    [again] = box.scan()
    assert again["duplicate_of"] == first["batch_id"] and "loaded" not in again
    assert cur(box).execute("SELECT count(*) FROM batches").fetchall()[0][0] == 2  # golden + the first drop
    assert any("trùng nội dung với tệp «a.csv»" in t for t in results(box, "processed", "16969"))


def test_a_file_writes_only_its_folders_unit(box):
    before = cur(box).execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
    drop(box, "16969", "xa_khac.csv", export(("X1", "17611")))
    box.scan()
    [summary] = box.scan()
    assert "17611" in summary["error"]
    assert cur(box).execute("SELECT count(*) FROM dossiers").fetchall()[0][0] == before
    [text] = results(box, "rejected", "16969")
    assert "không được nạp" in text


def test_unknown_folders_hidden_and_partial_files(box):
    drop(box, "99999", "a.csv", export(("U1", "16969")))
    drop(box, "16969", ".an.csv", export(("H1", "16969")))
    drop(box, "16969", "dang_tai.csv.part", export(("P1", "16969")))
    box.scan()
    [summary] = box.scan()
    assert "«99999» không phải mã" in summary["error"]
    assert (box.root / "16969" / ".an.csv").exists() and (box.root / "16969" / "dang_tai.csv.part").exists()
    assert results(box, "rejected", "99999")


def test_a_province_folder_may_hold_any_of_its_communes(box):
    drop(box, "40", "ca_tinh.csv", export(("P1", "16969"), ("P2", "17611")))
    box.scan()
    [summary] = box.scan()
    assert summary["loaded"] == 2
