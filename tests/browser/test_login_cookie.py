"""A login that survives a reload (issue 15), in headless Chromium on the real server: the
login sets a signed HttpOnly cookie; F5 keeps the user; logging out ends the session on the
server, so a reload shows the login form; an expired session does too."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By

from .conftest import log_in, screenshot, wait, wait_idle, wait_text
from .test_officer_flow import click_button, prepare_db  # noqa: F401 - prepare_db: the server fixture's store

pytestmark = pytest.mark.browser
SESSION_SECONDS = 25
SERVER_ENV = {"KPI_SESSION_HOURS": str(SESSION_SECONDS / 3600)}


def login_form_shown(driver, timeout: float = 60) -> None:
    wait(driver, timeout).until(lambda d: d.find_elements(By.CSS_SELECTOR, 'input[type="password"]'))


def session_cookie(driver) -> dict | None:
    return next((c for c in driver.get_cookies() if c["name"] == "kpi_session"), None)


def test_reload_keeps_the_login_logout_and_expiry_end_it(server, browser):
    url = server["url"] + "/?tinh=40&ky=2025-09"
    log_in(browser, url, "canbo.nghiatho", "mat-khau-canbo")
    wait(browser, 30).until(lambda d: session_cookie(d))
    cookie = session_cookie(browser)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert browser.execute_script("return document.cookie").find("kpi_session") == -1  # no script can read it
    started = time.monotonic()

    browser.refresh()                                    # F5: a new Streamlit session, the same user
    wait_text(browser, "Đăng nhập: ", timeout=60)
    wait_idle(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, 'input[type="password"]')
    assert "Nguyễn Văn A" in browser.find_element(By.TAG_NAME, "body").text
    screenshot(browser, "login_1_after_reload")

    click_button(browser, "Đăng xuất")                   # ends the session on the server
    login_form_shown(browser)
    browser.refresh()
    login_form_shown(browser)
    wait_idle(browser)
    assert "Đăng nhập: " not in browser.find_element(By.TAG_NAME, "body").text
    screenshot(browser, "login_2_after_logout_and_reload")

    log_in(browser, url, "canbo.nghiatho", "mat-khau-canbo")
    wait(browser, 30).until(lambda d: session_cookie(d))
    started = time.monotonic()
    browser.refresh()
    wait_text(browser, "Đăng nhập: ", timeout=60)
    time.sleep(max(0.0, SESSION_SECONDS + 2 - (time.monotonic() - started)))
    browser.refresh()                                    # the session has expired on the server
    login_form_shown(browser)
    wait_idle(browser)
    assert "Đăng nhập: " not in browser.find_element(By.TAG_NAME, "body").text
    screenshot(browser, "login_3_after_expiry")
