"""An officer in a real browser: upload a month's export with bad rows, read the errors,
download them, fix them, upload again, undo. Nothing double-counted, nothing lost."""

from __future__ import annotations

import time

import openpyxl
import pytest
from selenium.webdriver.common.by import By

from loaders.dossiers import load_dossier_file
from store import accounts
from store import db as store

from .conftest import log_in, retrying, screenshot, wait, wait_idle, wait_text

pytestmark = pytest.mark.browser
FIXTURES = store.ROOT / "tests" / "fixtures"
TODAY = "2025-11-15"


def prepare_db(path):
    con = store.connect(path)
    load_dossier_file(con, FIXTURES / "golden.csv", province="40")
    accounts.create_user(con, "canbo.nghiatho", "mat-khau-canbo", "officer", "16969", "Nguyễn Văn A")
    con.close()


def open_page(driver, title: str) -> None:
    """Navigate inside the app (as a user would: a reload keeps the login but starts a new session)."""
    def click():
        link = [a for a in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a') if title in a.text]
        link[0].click()

    retrying(click)
    wait_idle(driver)


def click_button(driver, label: str, index: int = -1) -> None:
    def click():
        buttons = [b for b in driver.find_elements(By.TAG_NAME, "button")
                   if b.text.strip().splitlines()[-1:] == [label]]
        assert buttons, f"no button {label!r}"
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", buttons[index])
        buttons[index].click()

    retrying(click)


def upload(driver, path) -> None:
    wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, 'input[type="file"]'))
    driver.find_element(By.CSS_SELECTOR, 'input[type="file"]').send_keys(str(path))


def uploader_texts(driver) -> tuple[str, str]:
    """What the uploader's button and limits line show: Streamlit's English texts are drawn at
    size 0 and the Vietnamese ones by ::after (ui.widgets.file_uploader)."""
    return tuple(driver.execute_script("""
        const shown = (el) => {
          const own = getComputedStyle(el), after = getComputedStyle(el, '::after');
          return own.fontSize === '0px' ? after.content.replace(/^"|"$/g, '') : el.textContent;
        };
        const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
        return [shown(zone.querySelector('button [data-testid="stMarkdownContainer"] p')),
                shown(zone.querySelector('[data-testid="stFileUploaderDropzoneInstructions"] span'))];"""))


def drag_over_text(driver) -> str:
    """What the box shows while a file is dragged over it (a real dragenter carrying a file,
    as the browser sends it): Streamlit's English "Drag and drop files here" is drawn at size 0
    and the Vietnamese text by ::after. Fails if the overlay never appears."""
    driver.execute_script("""
        const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
        const data = new DataTransfer();
        data.items.add(new File(["Mã hồ sơ"], "ho-so.csv", {type: "text/csv"}));
        for (const kind of ["dragenter", "dragover"])
          zone.dispatchEvent(new DragEvent(kind, {dataTransfer: data, bubbles: true, cancelable: true}));""")
    overlay = "[data-testid=\"stFileUploaderDropzone\"] > input + div:not(:has(button))"
    wait(driver, 10).until(lambda d: d.execute_script(f"return !!document.querySelector('{overlay}')"))
    return driver.execute_script(f"""
        const overlay = document.querySelector('{overlay}');
        const text = overlay.firstElementChild;
        const english = [...overlay.querySelectorAll('*')].filter(e => e.childElementCount === 0 && e.textContent)
          .every(e => getComputedStyle(e).fontSize === '0px');
        return english ? getComputedStyle(text, '::after').content.replace(/^"|"$/g, '') : overlay.textContent;""")


def end_drag(driver) -> None:
    driver.execute_script("""
        const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
        zone.dispatchEvent(new DragEvent("dragleave", {dataTransfer: new DataTransfer(), bubbles: true}));""")


def at_width(driver, width: int, height: int) -> None:
    driver.set_window_size(width, height)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    time.sleep(1)


def test_upload_fix_reupload_undo(server, browser, tmp_path):
    log_in(browser, server["url"] + "/tai-len?tinh=40", "canbo.nghiatho", "mat-khau-canbo")
    screenshot(browser, "upload_0_logged_in")
    open_page(browser, "Tải dữ liệu lên")
    wait_text(browser, "Tải dữ liệu lên")
    assert uploader_texts(browser) == ("Chọn tệp", "Tối đa 200 MB mỗi tệp • CSV, XLSX, TXT")
    assert drag_over_text(browser) == "Thả tệp vào đây"
    screenshot(browser, "upload_0_drag_over")
    end_drag(browser)
    upload(browser, FIXTURES / "messy.csv")
    wait_text(browser, "Dòng sẽ bị từ chối")
    wait_idle(browser)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "thiếu mã hồ sơ" in body and "31/02/2025" in body
    screenshot(browser, "upload_1_preview")
    at_width(browser, 1366, 768)
    screenshot(browser, "upload_1_preview_1366")
    at_width(browser, 1920, 1080)

    click_button(browser, "Nạp vào kho dữ liệu")
    wait_text(browser, "Đã nạp lần tải #2: 3 dòng")
    wait_idle(browser)
    screenshot(browser, "upload_2_loaded")

    click_button(browser, "Tải các dòng bị từ chối (Excel) để sửa và tải lại")
    deadline = time.time() + 20
    while time.time() < deadline and not list(browser.downloads.glob("*.xlsx")):
        time.sleep(0.3)
    downloaded = next(browser.downloads.glob("*.xlsx"))
    book = openpyxl.load_workbook(downloaded)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["Dòng", "Cột lỗi", "Lý do"]
    rows = [dict(zip(headers, [c.value for c in r], strict=True)) for r in sheet.iter_rows(min_row=2)]
    assert [r["Dòng"] for r in rows] == [6, 7, 8]
    # The officer fixes the three rows in Excel and uploads the same workbook again.
    fixes = {6: ("MÃ HỒ SƠ", "HS-004"), 7: ("Đơn vị tiếp nhận", "Nghĩa Thọ"), 8: ("Ngày nhận", "28/09/2025")}
    for excel_row, row in enumerate(rows, start=2):
        column, value = fixes[row["Dòng"]]
        sheet.cell(excel_row, headers.index(column) + 1, value)
    fixed = tmp_path / "da_sua.xlsx"
    book.save(fixed)

    open_page(browser, "Tổng quan")
    open_page(browser, "Tải dữ liệu lên")
    upload(browser, fixed)
    wait_text(browser, "Dòng sẽ bị từ chối")
    wait_idle(browser)
    click_button(browser, "Nạp vào kho dữ liệu")
    wait_text(browser, "Đã nạp lần tải #3: 3 dòng (thay thế 0, trùng lặp 0), từ chối 0")
    wait_idle(browser)
    screenshot(browser, "upload_3_fixed")

    # Undo the fixed upload: its three dossiers go away again.
    open_page(browser, "Tổng quan")
    open_page(browser, "Tải dữ liệu lên")
    wait_text(browser, "Lịch sử tải lên")
    wait_idle(browser)
    checkbox = [c for c in browser.find_elements(By.CSS_SELECTOR, "label") if "Tôi xác nhận hoàn tác" in c.text]
    checkbox[0].click()
    wait_idle(browser)
    click_button(browser, "Hoàn tác")
    wait_text(browser, "Đã hoàn tác lần tải #3: gỡ 3 dòng, khôi phục 0 phiên bản trước.", timeout=30)
    wait_idle(browser)
    screenshot(browser, "upload_4_undone")

    # Nghĩa Thọ's year: golden (6) + messy (3) dossiers: nothing lost, nothing doubled.
    open_page(browser, "Tổng quan")
    year = [label for label in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebar"] label')
            if label.text.strip() == "Năm"]
    year[0].click()
    wait_text(browser, "Tổng quan chuyển đổi số")
    wait_idle(browser)
    screenshot(browser, "overview_after_upload")
    assert "Hồ sơ tiếp nhận" in browser.find_element(By.TAG_NAME, "body").text
    cards = browser.find_elements(By.CSS_SELECTOR, ".kpi-card")
    received = next(c for c in cards if c.text.startswith("Hồ sơ tiếp nhận"))
    assert "\n9\n" in "\n" + received.text + "\n"
