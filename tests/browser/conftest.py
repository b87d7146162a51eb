"""The real-browser suite: headless Chromium (Debian's chromium and chromium-driver) driven by
Selenium, against the app served on a free local port by a real server thread, on the suite's test
database. Skipped, with the reason, where the browser is missing; REQUIRE_BROWSER=1 (CI) makes that a
failure. Each page visited is screenshotted into a folder the run prints, and checked with axe-core."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.dispatch import run_tick
from ipt_groups.worker import dispatch_settings
from tests.conftest import NOW

CHROMIUM = os.environ.get("BROWSER_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_VERSION = "4.10.3"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Without the background-networking flags, Chromium's own calls home make this machine refuse it.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
PHONE = (360, 800)
SHOTS: list[Path] = []


def _missing() -> str | None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} not found: apt-get install -y {package} (make test does it where it can)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements-dev.txt)"
    return None


@pytest.fixture(scope="session")
def browser_ready():
    reason = _missing()
    if reason and os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"the browser suite is required here (REQUIRE_BROWSER=1): {reason}")
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def shots_dir():
    folder = Path(os.environ.get("BROWSER_SHOTS") or tempfile.mkdtemp(prefix="ipt-browser-"))
    folder.mkdir(parents=True, exist_ok=True)
    SHOTS.append(folder)
    return folder


def pytest_terminal_summary(terminalreporter):
    for folder in SHOTS:
        pngs = sorted(p.name for p in folder.glob("*.png"))
        terminalreporter.write_line(f"browser suite: {len(pngs)} screenshots in {folder}")


@pytest.fixture(scope="session")
def driver(browser_ready):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="ipt-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={PHONE[0]},{PHONE[1]}")
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def server(app, browser_ready):
    """The app on a free local port, served by a real (threaded) server in a thread of its own."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="browser-suite-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()


@pytest.fixture
def browser(driver, server, db):
    """A fresh phone-sized browser for each test (no cookies left from the last one)."""
    driver.delete_all_cookies()
    driver.set_window_size(*PHONE)
    driver.get(server + "/app/signin")
    driver.delete_all_cookies()
    return driver


class Pages:
    """What the tests do with the browser: open, fill, tap, wait, screenshot, check with axe."""

    def __init__(self, driver, base: str, shots: Path):
        self.driver, self.base, self.shots = driver, base, shots

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, timeout: float = 10):
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        ignored = (NoSuchElementException, StaleElementReferenceException)  # a page still loading
        return WebDriverWait(self.driver, timeout, ignored_exceptions=ignored).until(lambda _d: condition())

    def wait_for_path(self, path: str) -> None:
        self.wait(lambda: self.path == path)

    @property
    def path(self) -> str:
        return urlsplit(self.driver.current_url).path

    def type(self, css: str, text: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def set_value(self, css: str, value: str) -> None:
        """Date inputs: set as the page's own script would (typing depends on the browser's locale)."""
        self.driver.execute_script("arguments[0].value = arguments[1]", self.find(css), value)

    def shot(self, name: str, docs: bool = False) -> Path:
        """A full-page screenshot, kept in the run's folder (and in docs/ with UPDATE_DOCS_SCREENSHOTS=1)."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        width = self.driver.get_window_size()["width"]
        self.driver.set_window_size(width, max(PHONE[1], min(height + 120, 4000)))
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(width, PHONE[1])
        if docs and os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS / f"{name}.png")
        return path

    def axe(self) -> list[str]:
        """axe-core's WCAG 2 A and AA violations on the page, one line each."""
        self.driver.execute_script(AXE.read_text())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
            ".then(r => done(r.violations.map("
            "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))"
            ".catch(e => done(['axe failed: ' + e]));"
        )
        return result

    def fits_the_phone(self) -> bool:
        """No sideways scrolling of the page itself (wide tables scroll inside their own box)."""
        return self.driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1"
        )

    def texted_code(self, phone: str) -> str:
        """Run one scheduler tick with a recording sender, as the worker would, and read the code."""
        sender = RecordingSender()
        run_tick(sender, NOW, dispatch_settings("browser-suite"))
        bodies = [m.body for m in sender.sent if m.to == phone]
        assert len(bodies) == 1, bodies
        return re.search(r"sign-in code is (\d{6})", bodies[0]).group(1)

    def sign_in_by_code(self, phone: str) -> None:
        self.open("/app/")
        self.wait_for_path("/app/signin")
        self.type("#phone", phone)
        self.find("button[type=submit]").click()
        self.wait_for_path("/app/signin/code")
        self.type("#code", self.texted_code(phone))
        self.find("main button[type=submit]").click()
        self.wait(lambda: not self.path.startswith("/app/signin"))


@pytest.fixture
def pages(browser, server, shots_dir):
    return Pages(browser, server, shots_dir)
