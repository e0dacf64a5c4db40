"""Every page on the sample data at 1366×768 (meeting-room projector) and 1920×1080, in normal
and presentation mode, and the overview on a phone (390×844): no error, the presentation hides
the sidebar and Streamlit's header, and on the overview's cards the status badge, the
sparkline and the target text never overlap, nothing on a card is cut and no value breaks over
two lines (measured from the boxes the browser laid out, on every page with cards).
Screenshots go to artifacts/screenshots/meeting_* for a person to look at."""

from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By

from loaders import bootstrap

from .conftest import screenshot, wait, wait_idle, wait_text
from .test_meeting_flow import fresh_login, sidebar_shown, toggle

pytestmark = pytest.mark.browser
TODAY = "2026-11-24"
PAGES = [  # sidebar link, a text the page must show, file-name stem
    ("Tổng quan", "Tổng quan chuyển đổi số", "tong_quan"),
    ("Bản đồ", "Bản đồ", "ban_do"),
    ("Phân tích chi tiết", "Phân tích chi tiết", "chi_tiet"),
    ("Nhiệm vụ và thời hạn", "Nhiệm vụ", "nhiem_vu"),
    ("Báo cáo", "BÁO CÁO", "bao_cao"),
    ("Tải dữ liệu lên", "Lịch sử tải lên", "tai_len"),
    ("Quản trị", "Nhật ký thao tác", "quan_tri"),
]
SIZES = [(1366, 768), (1920, 1080)]
# Words of Streamlit's own English UI that must not reach the meeting pages.
ENGLISH = ("Deploy", "Rerun", "Clear cache", "None", "True", "False", "Traceback", "NaN")

OVERLAPS = """
const boxes = (card, sel) => Array.from(card.querySelectorAll(sel)).map(e => e.getBoundingClientRect())
  .filter(r => r.width > 0 && r.height > 0);
const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
let found = [];
for (const card of document.querySelectorAll('.kpi-card')) {
  const parts = ['.kpi-status', '.kpi-spark svg', '.kpi-target', '.kpi-change', '.kpi-fraction', '.kpi-value'];
  for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++)
    for (const a of boxes(card, parts[i])) for (const b of boxes(card, parts[j]))
      if (hit(a, b)) found.push(card.querySelector('.kpi-label').textContent + ': ' + parts[i] + ' × ' + parts[j]);
  for (const el of card.querySelectorAll('.kpi-value, .kpi-status, .kpi-label, .kpi-target'))
    if (el.scrollWidth > el.clientWidth + 1) found.push(card.querySelector('.kpi-label').textContent + ': cut');
  const value = card.querySelector('.kpi-value');
  if (value && value.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(value).lineHeight))
    found.push(card.querySelector('.kpi-label').textContent + ': value on two lines');
  const outer = card.getBoundingClientRect();
  for (const b of boxes(card, '.kpi-spark svg, .kpi-status'))
    if (b.right > outer.right + 1 || b.bottom > outer.bottom + 1) found.push('outside the card');
}
return found;
"""


def prepare_db(path):
    bootstrap.build(path, scale=0.3, today=date.fromisoformat(TODAY), out=lambda _line: None)


def set_size(driver, width: int, height: int, mobile: bool = False) -> None:
    driver.set_window_size(width, height)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def open_link(driver, link: str) -> None:
    wait(driver, 30).until(lambda d: [
        a for a in d.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a') if link in a.text])
    nav = [a for a in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a') if link in a.text]
    nav[0].click()


def check_page(driver, link: str) -> None:
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]'), link
    text = driver.find_element(By.TAG_NAME, "body").text
    assert "Traceback" not in text, link
    if link in ("Tổng quan", "Bản đồ", "Phân tích chi tiết", "Nhiệm vụ và thời hạn"):
        words = set(text.replace("\n", " ").split(" "))
        assert not [w for w in ENGLISH if w in words], (link, [w for w in ENGLISH if w in words])


def card_overlaps(driver) -> list[str]:
    found = []
    main = driver.find_element(By.CSS_SELECTOR, '[data-testid="stMain"]')
    for card in driver.find_elements(By.CSS_SELECTOR, ".kpi-card"):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", card)
    driver.execute_script("arguments[0].scrollTo(0, 0)", main)
    found += driver.execute_script(OVERLAPS)
    return found


def test_every_page_in_both_modes_at_meeting_sizes(server, browser):
    fresh_login(browser, server["url"] + "/?tinh=40&ky=2026-10", "admin", "quantri-demo")
    for width, height in SIZES:
        set_size(browser, width, height)
        for index, (link, expected, stem) in enumerate(PAGES, start=1):
            open_link(browser, link)
            wait_text(browser, expected, timeout=60)
            wait_idle(browser, timeout=60)
            check_page(browser, link)
            screenshot(browser, f"meeting_{width}_{index}_{stem}_thuong")
            assert card_overlaps(browser) == [], (width, link, "normal")

            toggle(browser)
            wait(browser, 30).until(lambda d: not sidebar_shown(d))
            wait_idle(browser, timeout=60)
            assert not [e for e in browser.find_elements(By.CSS_SELECTOR, 'header[data-testid="stHeader"]')
                        if e.is_displayed()], link
            check_page(browser, link)
            screenshot(browser, f"meeting_{width}_{index}_{stem}_trinh_chieu")
            assert card_overlaps(browser) == [], (width, link, "presentation")
            toggle(browser)
            wait(browser, 30).until(sidebar_shown)
            wait_idle(browser, timeout=60)


def test_overview_on_a_phone(server, browser):
    set_size(browser, 1366, 768)
    fresh_login(browser, server["url"] + "/?tinh=40&ky=2026-10", "admin", "quantri-demo")
    wait_text(browser, "Tổng quan chuyển đổi số", timeout=60)
    wait_idle(browser, timeout=60)
    set_size(browser, 390, 844, mobile=True)
    # The sidebar closes itself on a narrow screen: it does not lie over the page.
    wait(browser, 20).until(lambda d: not sidebar_shown(d) or d.find_element(
        By.CSS_SELECTOR, '[data-testid="stSidebar"]').rect["x"] + d.find_element(
        By.CSS_SELECTOR, '[data-testid="stSidebar"]').rect["width"] <= 1)
    wait_idle(browser)
    screenshot(browser, "meeting_390_tong_quan_1_dau_trang")
    assert card_overlaps(browser) == []
    # The ranking's bars carry their values as text (there is no hover on a phone).
    labels = browser.execute_script(
        "return Array.from(document.querySelectorAll('.js-plotly-plot .barlayer .bartext')).map(t => t.textContent)")
    assert labels and all(label.endswith("%") for label in labels)
    chart = browser.find_element(By.CSS_SELECTOR, ".js-plotly-plot")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", chart)
    wait_idle(browser)
    screenshot(browser, "meeting_390_tong_quan_2_xep_hang")
