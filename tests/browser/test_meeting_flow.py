"""The meeting view through the real server in headless Chromium (issue 16 items 1 and 7):
presentation turns on and off in one click with the sidebar hidden; with auto-refresh the
wall screen shows an upload made meanwhile by an officer in another browser, without a touch;
a click on a ranking bar drills into that commune; every drill step is one history entry, so
Back walks the views back exactly as they were."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from loaders.dossiers import load_dossier_file
from store import accounts
from store import db as store

from .conftest import ROOT, _require, log_in, retrying, screenshot, wait, wait_idle, wait_text
from .test_officer_flow import click_button, open_page, upload

pytestmark = pytest.mark.browser
FIXTURES = ROOT / "tests" / "fixtures"
TODAY = "2025-11-15"
HEADER = (FIXTURES / "golden.csv").read_text(encoding="utf-8").splitlines()[0]


def prepare_db(path):
    con = store.connect(path)
    load_dossier_file(con, FIXTURES / "golden.csv", province="40")
    accounts.create_user(con, "quantri", "mat-khau-quantri", "admin", None, "Quản trị viên")
    accounts.create_user(con, "canbo.nghiatho", "mat-khau-canbo", "officer", "16969", "Nguyễn Văn A")
    con.close()


def fresh_login(driver, url: str, username: str, password: str) -> None:
    """The conftest's log_in, from a logged-out browser (the login is kept in a cookie: each
    test starts by logging in, as the account it needs)."""
    if driver.current_url.startswith("http"):
        driver.delete_all_cookies()
    log_in(driver, url, username, password)


def params(driver) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(driver.current_url).query).items()}


def sidebar_shown(driver) -> bool:
    return any(e.is_displayed() for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebar"]'))


def toggle(driver, label: str = "Trình chiếu") -> None:
    def click():
        box = [e for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stCheckbox"]') if label in e.text]
        assert box, f"no toggle {label!r}"
        box[0].find_element(By.TAG_NAME, "label").click()

    retrying(click)


def card_text(driver, label: str) -> str:
    """Read in one script, so a rerun between finding a card and reading it cannot go stale."""
    cards = driver.execute_script(
        "return [...document.querySelectorAll('.kpi-card')].map(e => e.innerText)")
    cards = [text for text in cards if text.startswith(label)]
    return cards[0] if cards else ""


def title(driver) -> str:
    return driver.execute_script("const h = document.querySelector('h1'); return h ? h.innerText : ''")


def choose(driver, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label` (type to filter, Enter)."""
    def type_option():
        box = next(e for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSelectbox"]')
                   if e.text.startswith(label))
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
        field = box.find_element(By.TAG_NAME, "input")
        field.click()
        field.send_keys(option)

    retrying(type_option)
    wait(driver, 10).until(lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, '[role="option"]')
                                               if option in o.text])
    retrying(lambda: next(o for o in driver.find_elements(By.CSS_SELECTOR, '[role="option"]')
                          if option in o.text).click())


def test_presentation_in_one_click(server, browser):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    fresh_login(browser, server["url"] + "/?tinh=40&ky=2025-10", "quantri", "mat-khau-quantri")
    wait_text(browser, "Tổng quan chuyển đổi số")
    wait_idle(browser)
    assert sidebar_shown(browser) and "trinh_chieu" not in params(browser)
    normal_size = browser.execute_script(
        "return parseFloat(getComputedStyle(document.querySelector('.kpi-value')).fontSize)")

    toggle(browser)  # one click: on
    wait(browser, 30).until(lambda d: not sidebar_shown(d))
    wait_idle(browser)
    assert params(browser).get("trinh_chieu") == "1"
    assert not [e for e in browser.find_elements(By.CSS_SELECTOR, 'header[data-testid="stHeader"]') if e.is_displayed()]
    big_size = browser.execute_script(
        "return parseFloat(getComputedStyle(document.querySelector('.kpi-value')).fontSize)")
    assert big_size > normal_size
    screenshot(browser, "meeting_presentation_on_1366")

    toggle(browser)  # one click: off
    wait(browser, 30).until(sidebar_shown)
    wait_idle(browser)
    assert "trinh_chieu" not in params(browser)
    screenshot(browser, "meeting_presentation_off_1366")


def _second_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _require("chromium")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,768",
                "--lang=vi-VN", "--no-first-run", "--disable-background-networking"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(_require("chromedriver")), options=options)


def test_auto_refresh_shows_a_new_upload(server, browser, tmp_path):
    """The wall screen, opened from a presentation link with a 10 s refresh, shows the officer's
    upload (another browser, the upload page) without anyone touching it."""
    fresh_login(browser, server["url"] + "/?tinh=40&ky=2025-10", "quantri", "mat-khau-quantri")
    # The wall screen opens the presentation link (the login cookie keeps the session).
    browser.get(server["url"] + "/?tinh=40&ky=2025-10&trinh_chieu=1&lam_moi=10")
    wait_text(browser, "Tổng quan chuyển đổi số")
    wait_idle(browser)
    assert not sidebar_shown(browser)
    label = "Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến"
    assert "3 / 4" in card_text(browser, label)  # golden: October, Nghệ An, 3 of 4 fully online

    new_file = tmp_path / "thang10_bo_sung.csv"
    new_file.write_text(HEADER + "\nG98,16969,1.001193,Đăng ký khai sinh,Hộ tịch,Trực tuyến,06/10/2025,10/10/2025,"
                        "08/10/2025,Đã trả kết quả,Có,Có,Có,Có\n", encoding="utf-8")
    officer = _second_browser()
    try:
        log_in(officer, server["url"] + "/tai-len?tinh=40", "canbo.nghiatho", "mat-khau-canbo")
        open_page(officer, "Tải dữ liệu lên")
        upload(officer, new_file)
        wait_text(officer, "Nạp vào kho dữ liệu")
        wait_idle(officer)
        click_button(officer, "Nạp vào kho dữ liệu")
        wait_text(officer, "Đã nạp lần tải")
    finally:
        officer.quit()
    uploaded = time.monotonic()
    wait(browser, 40, poll_frequency=0.5).until(lambda d: "4 / 5" in card_text(d, label))
    print(f"wall screen showed the upload {time.monotonic() - uploaded:.1f} s after it was loaded (refresh 10 s)")
    assert params(browser).get("trinh_chieu") == "1"
    screenshot(browser, "meeting_auto_refresh_after_upload")


def test_click_to_drill_and_back(server, browser):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    fresh_login(browser, server["url"] + "/?tinh=40&ky=2025-09", "quantri", "mat-khau-quantri")
    wait_text(browser, "Xếp hạng xã/phường")
    wait_idle(browser)
    start = params(browser)
    # The ranking's bars (plotly draws one path per bar); the top one is the weakest commune.
    bars = wait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .barlayer .point path"))
    names = browser.execute_script(
        "return document.querySelector('.js-plotly-plot').data[0].y")
    codes = browser.execute_script(
        "return document.querySelector('.js-plotly-plot').data[0].customdata.map(c => c[4])")
    index = names.index("Xã Nghĩa Thọ")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", bars[index])
    time.sleep(0.5)
    # A real click at the bar's place: plotly's drag layer on top receives it and picks the bar.
    ActionChains(browser).move_to_element(bars[index]).pause(0.3).click().perform()
    wait_text(browser, "Phân tích chi tiết — Xã Nghĩa Thọ", timeout=60)
    wait_idle(browser)
    assert urlparse(browser.current_url).path.endswith("/chi-tiet")
    assert params(browser)["don_vi"] == codes[index] == "16969" and params(browser)["ky"] == "2025-09"
    commune = params(browser)
    screenshot(browser, "meeting_drill_from_ranking")
    # At 1366 px no card value is cut, "Chưa có dữ liệu" (paid online: no data in the fixture) included.
    assert browser.execute_script("""return Array.from(document.querySelectorAll('.kpi-card .kpi-value'))
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)""") == []
    assert "Chưa có dữ liệu" in browser.find_element(By.TAG_NAME, "body").text

    choose(browser, "Lĩnh vực", "Hộ tịch")
    wait(browser, 30).until(lambda d: params(d).get("linh_vuc") == "Hộ tịch")
    wait_idle(browser)
    field = params(browser)
    choose(browser, "Thủ tục hành chính", "Đăng ký khai sinh")
    wait(browser, 30).until(lambda d: params(d).get("tthc") == "1.001193")
    wait_idle(browser)
    procedure = params(browser)
    assert procedure["linh_vuc"] == "Hộ tịch"
    # Breadcrumb back to the commune: field and procedure go in one step.
    crumb = next(b for b in browser.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Xã Nghĩa Thọ")
    crumb.click()
    wait(browser, 30).until(lambda d: "tthc" not in params(d) and "linh_vuc" not in params(d))
    wait_idle(browser)

    # Back walks the same views in reverse, each exactly as it was (before: a view with the
    # procedure kept and the field dropped, which had never been shown).
    for expected in (procedure, field, commune):
        browser.back()
        wait(browser, 30).until(lambda d, e=expected: params(d) == e)
        wait_idle(browser)
        assert params(browser) == expected
        assert "Phân tích chi tiết — Xã Nghĩa Thọ" in title(browser)
    browser.back()
    wait(browser, 30).until(lambda d: "Tổng quan chuyển đổi số" in title(d))
    wait_idle(browser)
    assert "Tỉnh Nghệ An" in title(browser)
    assert params(browser).get("don_vi", "40") == "40" and params(browser)["ky"] == start["ky"]
    screenshot(browser, "meeting_back_to_overview")


def test_rotation_through_pages_and_units(server, browser):
    fresh_login(browser, server["url"] + "/?tinh=40&ky=2025-10", "quantri", "mat-khau-quantri")
    browser.get(server["url"] + "/?tinh=40&ky=2025-10&trinh_chieu=1&lam_moi=10&xoay=trang")
    wait_text(browser, "Tổng quan chuyển đổi số — Tỉnh Nghệ An")
    started = time.monotonic()
    wait(browser, 45, poll_frequency=0.5).until(lambda d: "Bản đồ — Tỉnh Nghệ An" in title(d))
    print(f"rotation to the map after {time.monotonic() - started:.1f} s (interval 10 s)")
    assert params(browser).get("trinh_chieu") == "1" and params(browser).get("xoay") == "trang"
    assert not sidebar_shown(browser)
    wait(browser, 45, poll_frequency=0.5).until(lambda d: "Nhiệm vụ và thời hạn" in title(d))

    browser.get(server["url"] + "/?tinh=40&ky=2025-10&trinh_chieu=1&lam_moi=10&xoay=don_vi")
    wait_text(browser, "Tổng quan chuyển đổi số — Tỉnh Nghệ An")
    wait(browser, 45, poll_frequency=0.5).until(lambda d: "Tổng quan chuyển đổi số — Xã" in title(d))
    assert params(browser)["don_vi"] != "40" and params(browser).get("xoay") == "don_vi"


def test_map_pick_drills_and_back_returns(server, browser):
    fresh_login(browser, server["url"] + "/ban-do?tinh=40&ky=2025-09", "quantri", "mat-khau-quantri")
    wait_text(browser, "Bản đồ — Tỉnh Nghệ An")
    wait_idle(browser)
    before = params(browser)
    choose(browser, "Xem chi tiết xã/phường", "Xã Nghĩa Thọ")
    wait_text(browser, "Phân tích chi tiết — Xã Nghĩa Thọ", timeout=60)
    wait_idle(browser)
    assert params(browser)["don_vi"] == "16969" and "to_mau" not in params(browser)
    browser.back()
    wait(browser, 30).until(lambda d: "Bản đồ — Tỉnh Nghệ An" in title(d))
    wait_idle(browser)
    assert params(browser) == before, (params(browser), before)


def test_copy_link(server, browser):
    fresh_login(browser, server["url"] + "/?tinh=40&ky=2025-09&don_vi=16969", "quantri", "mat-khau-quantri")
    wait_text(browser, "Tổng quan chuyển đổi số — Xã Nghĩa Thọ")
    wait_idle(browser)
    button = wait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "button.copy-link"))[0]
    button.click()
    wait(browser, 10).until(lambda d: "Đã sao chép" in d.find_element(By.TAG_NAME, "body").text)
    copied = browser.execute_script("return window.__copiedLink")
    assert copied == browser.current_url and "don_vi=16969" in copied
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ESCAPE)


def test_the_overviews_own_address_and_an_unknown_one_open_the_overview(server, browser):
    """Fixed defect: /tong-quan typed by hand (or an old link to a page that is gone) showed
    Streamlit's English "Page not found" dialog; the server now sends it to / with its query."""
    fresh_login(browser, server["url"] + "/?tinh=40&ky=2025-10", "quantri", "mat-khau-quantri")
    for path in ("/tong-quan", "/trang-khong-co"):
        browser.get(server["url"] + path + "?tinh=40&ky=2025-10")
        wait(browser, 30).until(lambda d: "Tổng quan chuyển đổi số — Tỉnh Nghệ An" in title(d))
        wait_idle(browser)
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "Page not found" not in body and "not found" not in body.lower()
        assert urlparse(browser.current_url).path == "/"
        assert {k: params(browser).get(k) for k in ("tinh", "ky")} == {"tinh": "40", "ky": "2025-10"}
    screenshot(browser, "address_unknown_to_overview")
