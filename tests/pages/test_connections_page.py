"""The admin page «Kết nối và tự động» (pages/connections.py): tokens are issued once and shown
once, revoked, schedules saved from the sources folder, runs listed; non-admins are refused."""

from __future__ import annotations

import json

from service import server
from store import accounts, api_tokens, jobs
from store import db as store

from .conftest import app, login, run


def test_an_admin_issues_a_token_shown_once_and_sees_it_listed(golden_db):
    con = store.connect(golden_db)
    accounts.create_user(con, "canbo1", "matkhau-canbo", "officer", "16969", "Cán bộ 1")
    con.close()
    at = run(app("connections"))
    assert at.title[0].value == "Kết nối và tự động"
    form = at.get("selectbox")[0]
    form.select("canbo1")
    at.text_input[0].input("Hệ thống IOC")
    at.button[0].click()
    run(at)
    shown = [c.value for c in at.code]
    assert len(shown) == 1 and api_tokens.TOKEN.fullmatch(shown[0])
    assert "chỉ hiển thị một lần" in " ".join(s.value for s in at.success)
    rows = at.dataframe[0].value
    assert list(rows["Tài khoản"]) == ["canbo1"] and list(rows["Trạng thái"]) == ["Hiệu lực"]
    run(at)                                              # the next run no longer shows it
    assert not at.code


def test_schedules_come_from_the_sources_folder_and_runs_are_listed(golden_db, tmp_path, monkeypatch):
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "motcua.json").write_text(json.dumps({
        "name": "Một cửa", "url": "postgresql+psycopg://u@127.0.0.1:1/x",
        "query": "SELECT * FROM t WHERE updated_at >= :since", "watermark": "updated_at"}), encoding="utf-8")
    runtime = server.Runtime(golden_db)
    runtime.sources_dir = folder
    monkeypatch.setattr(server, "RUNTIME", runtime)
    con = store.shared(golden_db).cursor()
    run_id = jobs.start_run(con, "pull", "Một cửa")
    jobs.finish_run(con, run_id, "failed", error="Không kết nối được CSDL «Một cửa».")
    at = run(app("connections"))
    cron = [t for t in at.text_input if t.label == "Lịch (cron)"][0]
    cron.input("15 2 * * *")
    [b for b in at.button if b.label == "Lưu lịch"][0].click()
    run(at)
    assert [(s["name"], s["cron"]) for s in jobs.schedules(con)] == [("Một cửa", "15 2 * * *")]
    frames = [f.value for f in at.dataframe]
    runs = next(f for f in frames if "Kết quả" in f.columns)
    assert list(runs["Kết quả"]) == ["Lỗi"] and "Không kết nối được" in runs["Lỗi"][0]


def test_only_admins_may_open_it(golden_db):
    con = store.connect(golden_db)
    accounts.create_user(con, "lanhdao", "matkhau-lanhdao", "leader", "40", "Lãnh đạo")
    con.close()
    at = run(app("connections", token=login(golden_db, "lanhdao", "matkhau-lanhdao")))
    assert any("Chỉ quản trị viên" in e.value for e in at.error)
