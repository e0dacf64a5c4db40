"""Every page in a real headless Chromium at 1920x1080 on the sample data, logged in as an
admin: no error element, Vietnamese headings present; screenshots go to
artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By

from loaders import bootstrap

from .conftest import log_in, screenshot, wait, wait_idle, wait_text

pytestmark = pytest.mark.browser
TODAY = "2026-11-24"
PAGES = [  # sidebar link, a text the page must show
    ("Tổng quan", "Tổng quan chuyển đổi số"),
    ("Bản đồ", "Bản đồ"),
    ("Phân tích chi tiết", "Phân tích chi tiết"),
    ("Nhiệm vụ và thời hạn", "Nhiệm vụ"),
    ("Báo cáo", "BÁO CÁO"),
    ("Tải dữ liệu lên", "Lịch sử tải lên"),
    ("Quản trị", "Nhật ký thao tác"),
]


def prepare_db(path):
    bootstrap.build(path, scale=0.3, today=date.fromisoformat(TODAY), out=lambda _line: None)


def test_every_page_renders(server, browser):
    log_in(browser, server["url"] + "/?tinh=40&ky=2026-10", "admin", "quantri-demo")
    for index, (link, expected) in enumerate(PAGES, start=1):
        wait(browser, 30).until(lambda d, link=link: [
            a for a in d.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a') if link in a.text])
        nav = [a for a in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a') if link in a.text]
        nav[0].click()
        wait_text(browser, expected, timeout=60)
        wait_idle(browser, timeout=60)
        screenshot(browser, f"page_{index}_{link.replace(' ', '_')}")
        assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]'), link
        assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text, link
