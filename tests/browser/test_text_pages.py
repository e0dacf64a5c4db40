"""Issue 16 items 5 and 11 in a real headless Chromium at the meeting-room projector's
1366x768: the map's legend names the grey, the upload page's uploader speaks Vietnamese and
its history, and the admin page's targets and audit log, show formatted Vietnamese texts.
Screenshots (artifacts/screenshots/text_*.png) are for a person to look at; the tables are
drawn on a canvas, so their cells are checked by tests/pages/test_no_english.py."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from loaders.dossiers import load_dossier_file
from store import accounts
from store import db as store

from .conftest import log_in, screenshot, wait, wait_idle, wait_text
from .test_officer_flow import at_width, open_page, uploader_texts

pytestmark = pytest.mark.browser
FIXTURES = store.ROOT / "tests" / "fixtures"
TODAY = "2025-11-15"


def prepare_db(path):
    folder = path.parent
    big = folder / "nhieu_ho_so.csv"
    lines = ["Mã hồ sơ,Mã xã,Mã thủ tục,Tên TTHC,Lĩnh vực,Hình thức nộp,Ngày tiếp nhận"]
    lines += [f"NT-{i:05d},16969,1.001193,Đăng ký khai sinh,Hộ tịch,Trực tuyến,0{1 + i % 9}/09/2025"
              for i in range(1234)]
    big.write_text("\n".join(lines) + "\n", encoding="utf-8")
    con = store.connect(path)
    load_dossier_file(con, FIXTURES / "golden.csv", province="40")
    load_dossier_file(con, big, province="40")
    load_dossier_file(con, FIXTURES / "messy.csv", province="40")
    accounts.create_user(con, "admin", "matkhau-quantri", "admin", None, "Quản trị viên")
    accounts.create_user(con, "lanhdao", "lanhdao-123", "leader", "40", "Lãnh đạo Nghệ An", by="admin")
    con.execute("INSERT INTO targets (unit_code, kpi, value, op, deadline) "
                "VALUES ('40', 'full_online_rate', 0.3, '>=', DATE '2025-12-31')")
    con.close()


def test_pages_in_vietnamese_at_1366(server, browser):
    log_in(browser, server["url"] + "/?tinh=40&ky=2025-09", "admin", "matkhau-quantri")
    at_width(browser, 1366, 768)
    try:
        open_page(browser, "Bản đồ")
        wait_text(browser, "Bản đồ — Tỉnh Nghệ An", timeout=60)
        wait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".legendtext"))
        wait_idle(browser)
        legends = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".legendtext")}
        assert legends == {"Chưa có dữ liệu"}
        browser.execute_script("arguments[0].scrollIntoView({block: 'end'});",
                               browser.find_elements(By.CSS_SELECTOR, ".legendtext")[0])
        screenshot(browser, "text_map_1366")

        open_page(browser, "Tải dữ liệu lên")
        wait_text(browser, "Lịch sử tải lên", timeout=60)
        wait_idle(browser)
        wait(browser, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stFileUploaderDropzoneInstructions"] span'))
        screenshot(browser, "text_upload_1366")
        assert uploader_texts(browser) == ("Chọn tệp", "Tối đa 200 MB mỗi tệp • CSV, XLSX, TXT")
        history = browser.find_element(By.CSS_SELECTOR, '[data-testid="stTable"]')
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", history)
        screenshot(browser, "text_upload_history_1366")

        open_page(browser, "Quản trị")
        wait_text(browser, "Nhật ký thao tác", timeout=60)
        wait_idle(browser)
        screenshot(browser, "text_admin_1366")
        for name in ("Chỉ tiêu", "Nhật ký thao tác"):
            heading = [h for h in browser.find_elements(By.CSS_SELECTOR, "h3") if h.text.strip() == name][0]
            browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", heading)
            screenshot(browser, f"text_admin_{'chi_tieu' if name == 'Chỉ tiêu' else 'nhat_ky'}_1366")
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "None" not in body and "Traceback" not in body
        assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    finally:
        at_width(browser, 1920, 1080)
