"""The admin page «Thư và nhắc hạn» (AppTest) and the reminders box every page shows: a
refused SMTP login is shown in Vietnamese in the log and on the page, the password never; the
dry run lists what would go and sends nothing; the sidebar names the missing commune."""

from __future__ import annotations

from datetime import datetime

import pytest
from streamlit.testing.v1 import AppTest

from loaders.dossiers import load_dossier_file
from reports import delivery, mail
from store import accounts
from store import db as store
from tests.pages.conftest import FIXTURES, ROOT, app, run
from tests.test_mail import SMTP_PASSWORD, free_port


@pytest.fixture
def mail_db(tmp_path, monkeypatch):
    """The golden store with an admin and a leader of Nghệ An (with an address); today 08/12/2025."""
    monkeypatch.delenv(mail.PASSWORD_ENV, raising=False)
    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    load_dossier_file(con, FIXTURES / "golden.csv", province="40")
    accounts.create_user(con, "admin", "matkhau-quantri", "admin", None, "Quản trị viên")
    accounts.create_user(con, "lanhdao", "matkhau-lanhdao", "leader", "40", "Lãnh đạo", email="lanhdao@tinh.vn")
    mail.save_settings(con, mail.Settings("127.0.0.1", free_port(), "none", "kpi-mailer", "kpi@tinh.vn"),
                       SMTP_PASSWORD)
    delivery.save_schedule(con, "40", report_day=5, roles=("leader",))
    delivery.run_due(con, datetime(2025, 12, 8, 7))   # nothing listens on that port
    con.close()
    monkeypatch.setenv("KPI_DB", str(path))
    monkeypatch.setenv("KPI_TODAY", "2025-12-08")
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    return path


def texts(at) -> str:
    """Every text of the page, Markdown escapes removed, and every cell of its tables."""
    parts = [str(e.value).replace("\\", "") for kind in ("markdown", "caption", "error", "warning", "info",
                                                         "success", "title", "subheader") for e in getattr(at, kind)]
    parts += [str(v) for df in at.dataframe for row in df.value.itertuples(index=False) for v in row]
    return "\n".join(parts)


def test_the_page_shows_the_vietnamese_error_and_never_the_password(mail_db):
    at = run(app("mail"))
    shown = texts(at)
    assert "Thư và nhắc hạn" in shown
    assert "Không kết nối được máy chủ thư 127.0.0.1:" in shown  # the log's error and the page's alert
    assert any("2 thư chưa gửi được" in e.value and "Không kết nối được" in e.value for e in at.error)
    assert SMTP_PASSWORD not in shown and all(t.value != SMTP_PASSWORD for t in at.text_input)
    assert "None" not in shown and "Traceback" not in shown


def test_dry_run_lists_and_sends_nothing(mail_db):
    at = run(app("mail"))
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["Mã đơn vị"].set_value("40")
    form_inputs["Kỳ báo cáo (2025-11, 2025-Q4, 2025)"].set_value("2025-11")
    next(b for b in at.button if b.label == "Xem trước (không gửi)").click()
    run(at)
    assert any("Chạy thử: sẽ gửi 1 thư" in i.value for i in at.info)
    con = store.connect(mail_db)
    try:
        assert con.execute("SELECT count(*) FROM mail_outbox WHERE kind = 'manual'").fetchall() == [(0,)]
    finally:
        con.close()


def _reminders_box():
    from store import accounts
    from ui import reminders

    reminders.show(accounts.User("admin", "Quản trị viên", "admin", None))


def test_reminders_box_names_what_is_missing(mail_db):
    """ui.reminders.show, the one call app.py makes after the login, run on its own (AppTest
    does not keep what the entry point draws before st.navigation)."""
    at = AppTest.from_function(_reminders_box, default_timeout=60)
    run(at)
    (box,) = at.sidebar.expander
    # Nghệ An's missing commune; Đồng Phú's quarterly reports due 10/12 and 15/12 (a national admin).
    assert box.label == "Nhắc hạn\\: 1 việc quá hạn, 2 việc sắp đến hạn"
    inside = "\n".join(m.value for m in box.markdown) + "\n".join(c.value for c in box.caption)
    assert "Tháng 11/2025\\: 1 xã/phường chưa tải dữ liệu" in inside and "Xã Vân Tụ" in inside
    assert "Quá hạn 3 ngày \\(hạn 05/12/2025\\)" in inside


@pytest.mark.parametrize("username", ["lanhdao", None])
def test_the_page_is_for_admins_only(mail_db, username):
    """The page itself refuses a leader (and no login), even opened directly."""
    token = ""
    if username:
        con = store.connect(mail_db)
        try:
            token = accounts.authenticate(con, username, "matkhau-lanhdao")
        finally:
            con.close()
    at = AppTest.from_file(str(ROOT / "pages" / "mail.py"), default_timeout=60)
    at.session_state["kpi_token"] = token
    run(at)
    assert [e.value for e in at.error] == ["Chỉ quản trị viên được vào trang này."]
    assert not at.title and not at.dataframe


def test_no_english_nor_raw_text(mail_db):
    """The scanner of issue 16 (tests/pages/test_no_english.py) over the page, with its log,
    schedules, addresses and a dry run shown."""
    from tests.pages.test_no_english import _problems, rendered_texts

    at = run(app("mail"))
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["Mã đơn vị"].set_value("40")
    next(b for b in at.button if b.label == "Xem trước (không gửi)").click()
    run(at)
    problems = [p for where, text, allowed in rendered_texts(at, frozenset()) for p in _problems(text, where, allowed)]
    assert not problems, "\n".join(dict.fromkeys(problems))
