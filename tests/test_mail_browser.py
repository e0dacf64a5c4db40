"""«Thư và nhắc hạn» and the reminders box in a real headless Chromium through the real server
(tests/browser/conftest.py): a refused send is shown in Vietnamese, the SMTP password never;
screenshots in artifacts/screenshots/mail_*.png for a person to look at."""

from __future__ import annotations

from datetime import datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from loaders.dossiers import load_dossier_file
from reports import delivery, mail
from store import accounts
from store import db as store
from tests.browser.conftest import _free_port, browser, log_in, screenshot, server, wait_idle, wait_text  # noqa: F401
from tests.test_mail import FIXTURES

pytestmark = pytest.mark.browser
TODAY = "2025-12-08"
SECRET = "bi-mat-smtp-123"


def prepare_db(path):
    con = store.connect(path)
    load_dossier_file(con, FIXTURES / "golden.csv", province="40")
    accounts.create_user(con, "admin", "matkhau-quantri", "admin", None, "Quản trị viên", email="admin@tinh.vn")
    accounts.create_user(con, "lanhdao", "matkhau-lanhdao", "leader", "40", "Lãnh đạo", email="lanhdao@tinh.vn")
    mail.save_settings(con, mail.Settings("127.0.0.1", _free_port(), "none", "kpi-mailer", "kpi@tinh.vn"), SECRET)
    delivery.save_schedule(con, "40", report_day=5, roles=("leader",))
    delivery.run_due(con, datetime(2025, 12, 8, 7))  # nothing listens there: both messages wait for a retry
    con.close()


def test_mail_page_and_reminders(server, browser):  # noqa: F811
    log_in(browser, server["url"] + "/", "admin", "matkhau-quantri")
    wait_text(browser, "Nhắc hạn: 1 việc quá hạn", timeout=60)
    wait_idle(browser, timeout=60)
    sidebar = browser.find_element(By.CSS_SELECTOR, '[data-testid="stSidebar"]').text
    assert "Tháng 11/2025: 1 xã/phường chưa tải dữ liệu" in sidebar and "Xã Vân Tụ" in sidebar
    screenshot(browser, "mail_0_reminders")
    WebDriverWait(browser, 30).until(lambda d: [
        a for a in d.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a') if "Thư và nhắc hạn" in a.text])
    next(a for a in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a')
         if "Thư và nhắc hạn" in a.text).click()
    wait_text(browser, "Nhật ký gửi thư", timeout=60)
    wait_idle(browser, timeout=60)
    screenshot(browser, "mail_1_page")
    browser.execute_script("for (const e of document.querySelectorAll('[data-testid=stMain]')) e.scrollTop = 1e6;")
    screenshot(browser, "mail_2_log")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "2 thư chưa gửi được. Lỗi gần nhất: Không kết nối được máy chủ thư 127.0.0.1:" in body
    assert SECRET not in body and "Traceback" not in body
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
