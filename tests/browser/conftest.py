"""Browser tests: the real product (Rasa, action server, gateway on free loopback ports, see
stack.local) driven through Debian's Chromium with Playwright. Without a browser they skip with
the reason, unless CS_REQUIRE_BROWSER=1 (CI), where they fail."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from assist_api.auth.keys import KeyStore, Role
from config.settings import PROJECT_ROOT
from db.engine import session_factory

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives the web UIs in a real Chromium (Playwright)")


def chromium_path() -> str | None:
    configured = os.environ.get("CS_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _unavailable(reason: str):
    if os.environ.get("CS_REQUIRE_BROWSER"):
        pytest.fail(f"a browser is required (CS_REQUIRE_BROWSER) but {reason}")
    pytest.skip(reason)


@dataclass
class BrowserStack:
    url: str
    api: httpx.Client
    agent_key: str
    editor_key: str
    supervisor_key: str
    database_url: str
    actions_url: str  # the action server, whose search index the bot answers from

    def agent(self, method: str, path: str, **kwargs) -> httpx.Response:
        return self.api.request(method, path, headers={"Authorization": f"Bearer {self.agent_key}"}, **kwargs)


# Package scope: Playwright's sync API runs an event loop in the main thread while it is open;
# closing it after the browser tests keeps later tests free to call asyncio.run.
@pytest.fixture(scope="package")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright)")
    path = chromium_path()
    if path is None:
        _unavailable("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="package")
def live(browser, tmp_path_factory):
    from stack.local import start_local_stack
    from stack.rasa_model import rasa_bin

    if not rasa_bin().exists():
        pytest.fail("the Rasa virtualenv is missing: run `make setup`")
    local = start_local_stack(tmp_path_factory.mktemp("browser-stack"))
    keys = KeyStore(session_factory(local.settings.database_url))
    agent_key = keys.create("agent-li", Role.agent)
    editor_key = keys.create("editor-wang", Role.editor)
    supervisor_key = keys.create("supervisor-zhao", Role.supervisor)
    client = httpx.Client(base_url=local.gateway_url, timeout=30)
    yield BrowserStack(local.gateway_url, client, agent_key, editor_key, supervisor_key,
                       local.settings.database_url, f"http://127.0.0.1:{local.settings.action_server_port}")
    client.close()
    local.stop()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(**options):
        context = browser.new_context(locale="zh-CN", **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()


@pytest.fixture(scope="session")
def screenshots(request, tmp_path_factory) -> Path:
    """Where screenshots go: docs/screenshots/ only with --update-screenshots, so an ordinary
    test run does not rewrite the committed images."""
    if not request.config.getoption("--update-screenshots"):
        return tmp_path_factory.mktemp("screenshots")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
