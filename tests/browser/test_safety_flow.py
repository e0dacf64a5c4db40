"""Issue 13 through the real server: a workbook crafted to exhaust memory, selected on the
upload page, is refused in Vietnamese while the server keeps answering; after an upload
and a fresh login (a reload starts a new session) the undo picker offers that upload."""

from __future__ import annotations

import shutil
import urllib.request

import pytest
from selenium.webdriver.common.by import By

from store import db as store

from .conftest import log_in, screenshot, wait_idle, wait_text
from .test_officer_flow import open_page, prepare_db, upload  # noqa: F401 - prepare_db: the server fixture's store

pytestmark = pytest.mark.browser
FIXTURES = store.ROOT / "tests" / "fixtures"
TODAY = "2025-11-15"


def _healthy(url: str) -> bool:
    with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as response:
        return response.status == 200


def test_crashing_workbook_is_refused_and_server_stays_up(server, browser, tmp_path):
    bomb = tmp_path / "bao_cao.xlsx"   # 1.6 KB, declares A1:XFD1048576 with a cell at XFD1048576
    shutil.copy(FIXTURES / "hostile" / "dimension_bomb.xlsx", bomb)
    log_in(browser, server["url"] + "/tai-len?tinh=40", "canbo.nghiatho", "mat-khau-canbo")
    open_page(browser, "Tải dữ liệu lên")
    wait_text(browser, "Tải dữ liệu lên")
    upload(browser, bomb)
    wait_text(browser, "bao_cao.xlsx", timeout=60)
    wait_idle(browser, timeout=60)
    errors = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContentError"]')
    screenshot(browser, "safety_1_bomb_refused")
    assert _healthy(server["url"])
    assert errors and any("bao_cao.xlsx" in e.text for e in errors), [e.text for e in errors]
    assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text

    # The server still serves: a real upload goes through, and after a reload (new session,
    # logged in again) the undo picker offers that upload, not an older one.
    driver = browser
    driver.refresh()
    log_in(driver, server["url"] + "/tai-len?tinh=40", "canbo.nghiatho", "mat-khau-canbo")
    open_page(driver, "Tải dữ liệu lên")
    upload(driver, FIXTURES / "messy.csv")
    wait_text(driver, "Dòng sẽ bị từ chối")
    wait_idle(driver)
    buttons = [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Nạp vào kho dữ liệu"]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", buttons[-1])
    buttons[-1].click()
    wait_text(driver, "Đã nạp lần tải #2")
    wait_idle(driver)

    driver.get(server["url"] + "/tai-len?tinh=40")
    log_in(driver, server["url"] + "/tai-len?tinh=40", "canbo.nghiatho", "mat-khau-canbo")
    open_page(driver, "Tải dữ liệu lên")
    wait_text(driver, "Lịch sử tải lên")
    wait_idle(driver)
    screenshot(driver, "safety_2_undo_offers_latest")
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "#2" in body and "messy.csv" in body


def test_officer_cannot_take_over_or_see_another_commune(server, browser):
    """Through the real server: the officer of Xã Nghĩa Thọ uploads rows that reuse Xã Vân
    Tụ's dossier ids and rename a national procedure; those rows are refused with the reason,
    nothing is replaced; the map shows their commune only, with no province total."""
    driver = browser
    driver.get(server["url"] + "/tai-len?tinh=40")
    log_in(driver, server["url"] + "/tai-len?tinh=40", "canbo.nghiatho", "mat-khau-canbo")
    open_page(driver, "Tải dữ liệu lên")
    upload(driver, FIXTURES / "hostile" / "takeover_16969.csv")
    wait_text(driver, "Dòng sẽ bị từ chối")
    wait_idle(driver)
    # The preview already names the rows the load will refuse.
    assert "đã thuộc Xã Vân Tụ" in driver.find_element(By.TAG_NAME, "body").text
    buttons = [b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Nạp vào kho dữ liệu"]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", buttons[-1])
    buttons[-1].click()
    wait_text(driver, "không thể chuyển hồ sơ sang Xã Nghĩa Thọ", timeout=60)
    wait_idle(driver)
    screenshot(driver, "safety_3_takeover_refused")
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "1 dòng (thay thế 0" in body.replace("\\", "")
    assert "đã thuộc Xã Vân Tụ" in body

    open_page(driver, "Bản đồ")
    wait_text(driver, "Bản đồ", timeout=60)
    wait_idle(driver, timeout=60)
    screenshot(driver, "safety_4_officer_map")
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "chỉ được xem số liệu của các xã/phường" in body   # no national map for a commune officer
    assert "Xã Vân Tụ" not in body and "Toàn tỉnh:" not in body


def test_an_admin_link_opened_by_an_officer_is_refused_in_words(server, browser):
    """Fixed defect: an officer opening a link to an admin page (/quan-tri, /ket-noi,
    /thu-nhac-han) got Streamlit's English "Page not found" dialog; every page is now known to
    every session, hidden from the menus of the roles that may not use it, and refuses them."""
    driver = browser
    log_in(driver, server["url"] + "/?tinh=40", "canbo.nghiatho", "mat-khau-canbo")
    menu = driver.find_element(By.CSS_SELECTOR, '[data-testid="stSidebarNav"]').text
    assert "Tải dữ liệu lên" in menu and "Quản trị" not in menu and "Thư và nhắc hạn" not in menu
    for path in ("/quan-tri", "/ket-noi", "/thu-nhac-han"):
        driver.get(server["url"] + path + "?tinh=40")
        wait_text(driver, "Chỉ quản trị viên được vào trang này.", timeout=60)
        wait_idle(driver)
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "not found" not in body.lower() and "Page" not in body
    screenshot(driver, "safety_5_admin_link_refused")
