"""Playwright with Debian's Chromium (no browser downloads on these machines).

Browser tests skip with a message where no Chromium is installed, except when
REQUIRE_BROWSER=1 (set by .ci/run), where a missing browser fails the run.
Screenshots go to test-artifacts/ for people to look at.
"""

import os
import shutil
from pathlib import Path

import pytest

# The Playwright sync API runs an asyncio loop in the test thread; without this Django
# raises SynchronousOnlyOperation on ORM access in the test.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
    if CHROMIUM:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError("REQUIRE_BROWSER=1 but no Chromium found (apt-get install chromium)")
    skip = pytest.mark.skip(reason="no Chromium installed: apt-get install chromium fonts-wqy-microhei")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A phone: officials log visits right after them, on the spot.
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 390, "height": 844}}


@pytest.fixture
def screenshot(page):
    """`screenshot("name")` saves test-artifacts/name.png of the whole page."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(page, live_server):
    """Log in through the real login form: `login("staff_a", password)`."""

    def go(username: str, password: str = "correct-horse-battery-9"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return go


@pytest.fixture
def no_dialogs(page):
    """Fails the test if any alert/confirm/prompt opens (an XSS payload firing)."""
    fired = []
    page.on("dialog", lambda dialog: (fired.append(dialog.message), dialog.dismiss()))
    yield fired
    assert fired == [], f"a dialog fired: {fired}"
