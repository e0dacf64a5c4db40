"""Scopes on every page (issue 13 item 9), the login throttle and account validation as the
visitor and the admin see them (items 10 and 12)."""

from __future__ import annotations

from datetime import datetime, timedelta

from streamlit.testing.v1 import AppTest

from store import accounts
from store import db as store

from .conftest import ROOT, app, login, run
from .test_map import exports, people

PROVINCE, A = "40", "16969"


def test_overview_ranking_follows_the_scope(golden_db, monkeypatch):
    tokens = people(golden_db)
    saved = exports(monkeypatch)
    at = run(app("overview", token=tokens["lanhdao"], tinh=PROVINCE, don_vi=PROVINCE, ky="2025-09"))
    assert at.title[0].value == "Tổng quan chuyển đổi số — Tỉnh Nghệ An"
    ranking = [frame for stem, frame in saved if stem.startswith("xep_hang")]
    assert len(ranking) == 1 and ranking[0].height == 130
    saved.clear()
    # The officer asking for the province by URL gets their commune, no province figure, no ranking.
    at = run(app("overview", token=tokens["canbo"], tinh=PROVINCE, don_vi=PROVINCE, ky="2025-09"))
    assert at.title[0].value == "Tổng quan chuyển đổi số — Xã Nghĩa Thọ"
    assert not [stem for stem, _frame in saved if stem.startswith("xep_hang")]
    assert not any("xã/phường chưa đạt chỉ tiêu" in m.value for m in at.markdown)
    at = run(app("overview", token=tokens["phantich"], tinh=PROVINCE, ky="2025-09"))
    assert at.title[0].value == "Tổng quan chuyển đổi số — Xã Ba Tô"


def test_reports_and_drilldown_follow_the_scope(golden_db):
    tokens = people(golden_db)
    at = run(app("reports", token=tokens["canbo"], tinh=PROVINCE, don_vi=PROVINCE, ky="2025-Q3"))
    assert at.title[0].value == "Báo cáo định kỳ — Xã Nghĩa Thọ"
    unit_box = next(s for s in at.selectbox if s.label == "Xã/phường")
    assert unit_box.options == ["Xã Nghĩa Thọ"]
    at = run(app("reports", token=tokens["phantich"], tinh="51", don_vi="51", ky="2025-Q3"))
    assert at.title[0].value == "Báo cáo định kỳ — Xã Ba Tô"
    at = run(app("drilldown", token=tokens["canbo"], tinh=PROVINCE, don_vi=PROVINCE, ky="2025-09", theo="xa"))
    assert at.title[0].value == "Phân tích chi tiết — Xã Nghĩa Thọ"
    assert not any(h.value == "Theo xã/phường" for h in at.subheader)


def login_page():
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def submit(at, username, password):
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    return run(at)


def test_login_page_says_when_a_locked_account_may_retry(golden_db, monkeypatch):
    now = [datetime(2025, 11, 15, 9, 0)]
    monkeypatch.setattr(accounts, "clock", lambda: now[0])
    at = run(login_page())
    for _ in range(accounts.ACCOUNT_LIMIT):
        submit(at, "admin", "sai-mat-khau")
        assert at.error[0].value == "Tên đăng nhập hoặc mật khẩu không đúng."
        now[0] += timedelta(minutes=2)
    submit(at, "admin", "matkhau-quantri")
    assert at.error[0].value.startswith("Tạm khóa đăng nhập tài khoản «admin»")
    assert "thử lại sau 09:" in at.error[0].value
    assert "kpi_token" not in at.session_state
    # The same answer for a name that does not exist, and a too long password is just wrong.
    for _ in range(accounts.ACCOUNT_LIMIT):
        submit(at, "khong-co-ai", "x" * 100)
        assert at.error[0].value == "Tên đăng nhập hoặc mật khẩu không đúng."
        now[0] += timedelta(minutes=2)
    submit(at, "khong-co-ai", "bat-ky")
    assert at.error[0].value.startswith("Tạm khóa đăng nhập tài khoản «khong-co-ai»")
    now[0] += timedelta(minutes=20)
    submit(at, "admin", "matkhau-quantri")
    assert not at.error


def test_admin_page_shows_validation_errors(golden_db):
    at = run(app("admin"))
    form = {t.label: t for t in at.text_input}
    form["Tên đăng nhập"].input("")
    form["Mật khẩu ban đầu"].input("        ")
    next(b for b in at.button if b.label == "Tạo" or getattr(b.proto, "label", "") == "Tạo").click()
    run(at)
    assert any("Tên đăng nhập «» không hợp lệ" in e.value for e in at.error)
    form = {t.label: t for t in at.text_input}
    form["Tên đăng nhập"].input("canbo.moi")
    form["Mật khẩu ban đầu"].input("canbo-moi-1")
    form["Mã đơn vị (tỉnh 2 số hoặc xã 5 số)"].input("99999")
    at.selectbox[0].set_value("officer")
    next(b for b in at.button if b.label == "Tạo").click()
    run(at)
    assert any("«99999» không có trong danh mục" in e.value for e in at.error)
    con = store.connect(golden_db)
    assert con.execute("SELECT count(*) FROM users").fetchall() == [(1,)]
    con.close()
    assert login(golden_db, "", "        ") is None


def test_no_error_details_reach_the_visitor(golden_db, monkeypatch):
    from ui import data

    def broken(*_args, **_kwargs):
        raise RuntimeError("bí mật: /duong/dan/noi/bo SELECT password_hash")

    monkeypatch.setattr(data, "kpis", broken)
    # As the server (python -m service) runs it: app.py's st.navigation runs the page (not Streamlit's pages/ folder mode).
    from streamlit.runtime.pages_manager import PagesManager

    monkeypatch.setattr(PagesManager, "uses_pages_directory", False)
    at = app(None, tinh=PROVINCE, ky="2025-09")  # the default page: the overview
    at.run()
    assert at.exception, "the error still reaches Streamlit (and its log)"
    shown = " ".join(f"{e.message} {e.type} {' '.join(e.stack_trace)}" for e in at.exception)
    assert "bí mật" not in shown and "RuntimeError" not in shown and "password_hash" not in shown
    assert any(e.value.startswith("Đã xảy ra lỗi khi hiển thị trang này") for e in at.error)


def test_streamlit_config_hides_error_details():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["toolbarMode"] == "minimal"  # no Deploy button nor developer menu (issue 16 item 5)


def test_admin_sets_upload_caps_and_they_are_audited(golden_db):
    from kpi import format as fmt
    from loaders import limits

    at = run(app("admin"))
    boxes = {n.label: n for n in at.text_input}
    rows = boxes[limits.LABELS["max_rows"]]
    assert rows.value == fmt.number(limits.Limits().max_rows)  # grouped: "1.000.000", not 1000000
    rows.set_value("500.000")
    next(b for b in at.button if b.label == "Lưu giới hạn").click()
    run(at)
    assert any(s.value == "Đã lưu 1 giới hạn." for s in at.success)
    con = store.connect(golden_db)
    try:
        assert limits.get_limits(con).max_rows == 500_000
        assert con.execute("SELECT detail FROM audit_log WHERE action = 'set_limit'").fetchall() == [
            ("max_rows = 500000",)]
    finally:
        con.close()


def test_caps_typed_wrong_are_refused_in_words(golden_db):
    from loaders import limits

    at = run(app("admin"))
    {n.label: n for n in at.text_input}[limits.LABELS["max_rows"]].set_value("năm trăm")
    next(b for b in at.button if b.label == "Lưu giới hạn").click()
    run(at)
    assert any("không phải là số" in e.value for e in at.error)
    con = store.connect(golden_db)
    try:
        assert limits.get_limits(con).max_rows == limits.Limits().max_rows
    finally:
        con.close()


def test_targets_shown_as_percent_and_saved_unchanged(golden_db):
    """The targets editor shows "30%" (not 0.3) and saving untouched rows changes no value,
    not even one with more decimals than a card shows."""
    con = store.connect(golden_db)
    con.execute("INSERT INTO targets (unit_code, kpi, value, op) VALUES ('40', 'full_online_rate', 0.8333, '>=')")
    before = sorted(con.execute("SELECT unit_code, kpi, value, op FROM targets").fetchall(), key=str)
    con.close()
    at = run(app("admin"))
    editor = next(d for d in at.dataframe if d.editing_mode != "read_only")
    shown = editor.value
    row = shown[(shown["unit_code"] == "40") & (shown["value"] == "83,33%")]
    assert list(row["kpi"]) == ["Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến"] and list(row["op"]) == ["≥ (ít nhất)"]
    next(b for b in at.button if b.label == "Lưu chỉ tiêu").click()
    run(at)
    assert any(s.value.startswith("Đã lưu") for s in at.success)
    con = store.connect(golden_db)
    try:
        after = sorted(con.execute("SELECT unit_code, kpi, value, op FROM targets").fetchall(), key=str)
    finally:
        con.close()
    assert after == before

