"""A real Streamlit server and a real headless Chromium (Debian's chromium + chromedriver)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _require(binary: str) -> str:
    path = shutil.which(binary) or (f"/usr/bin/{binary}" if Path(f"/usr/bin/{binary}").exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{binary} is missing: scripts/install_browser.sh should have installed it")
        pytest.skip(f"{binary} not installed (run scripts/install_browser.sh)")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    """Start `python -m service` (what `make run` starts) on a store prepared by the test module's
    `prepare_db(path)`."""
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "kpi.duckdb"
    request.module.prepare_db(db)
    port = _free_port()
    env = os.environ | {"KPI_DB": str(db), "KPI_TODAY": getattr(request.module, "TODAY", "2025-11-15"),
                        **getattr(request.module, "SERVER_ENV", {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("Streamlit did not start")
    yield {"url": url, "db": db, "folder": folder}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = _require("chromium")
    driver_path = _require("chromedriver")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--window-size=1920,1080", "--lang=vi-VN", "--no-first-run",
                "--disable-component-update", "--disable-sync"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_window_size(1920, 1080)
    # The screenshot is the page itself at 1920x1080, whatever the headless window's chrome takes.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    driver.downloads = downloads
    yield driver
    driver.quit()


def wait(driver, timeout: float, poll_frequency: float = 0.5):
    """WebDriverWait that retries a condition which read an element Streamlit re-rendered
    meanwhile (StaleElementReferenceException): a rerun replaces the DOM nodes under a poll
    at any moment, and that is not a failure of the condition (seen in CI, once)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=poll_frequency,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def retrying(action, attempts: int = 4):
    """Run `action()` (find elements, then act on them) again when a rerun replaced an element
    between the finding and the acting: the action had not happened yet, so it is safe."""
    from selenium.common.exceptions import StaleElementReferenceException

    for attempt in range(attempts):
        try:
            return action()
        except StaleElementReferenceException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def wait_text(driver, text: str, timeout: float = 30) -> None:
    from selenium.webdriver.common.by import By

    wait(driver, timeout).until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)


def wait_idle(driver, timeout: float = 30) -> None:
    """Until Streamlit has finished running the script (no 'Running...' status widget)."""
    from selenium.webdriver.common.by import By

    time.sleep(0.5)
    wait(driver, timeout).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'))


def screenshot(driver, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def log_in(driver, url: str, username: str, password: str) -> None:
    """Open the app and log in afresh through the form (waits for the form to be rendered).
    An earlier test's login cookie is dropped first: the server would keep that user."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    driver.delete_all_cookies()
    driver.get(url)
    wait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, 'input[type="password"]'))
    wait_idle(driver)
    driver.find_elements(By.CSS_SELECTOR, 'input[type="text"], input:not([type])')[0].send_keys(username)
    driver.find_element(By.CSS_SELECTOR, 'input[type="password"]').send_keys(password)
    wait(driver, 30).until(
        lambda d: [b for b in d.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Đăng nhập"])
    next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Đăng nhập").click()
    wait_text(driver, "Đăng nhập: ", timeout=60)
