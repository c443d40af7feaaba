"""Browser tests: a real Takt server over a temporary SQLite instance with the demo
apps and logins, driven through Debian's Chromium by Playwright.

Never ``playwright install``: the tests use /usr/bin/chromium. Without it they are
skipped with the command that installs it (with CI=true they fail instead).
Screenshots go to artifacts/screenshots/ (git-ignored) for a person to look at.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from runtime.app import create_app
from runtime.db import get_db
from runtime.demo import prepare_demo
from runtime.i18n import compile_catalogs

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORDS = {"admin": "takt-admin", "operator": "takt-operator", "supervisor": "takt-supervisor"}


@pytest.fixture(scope="session")
def chromium_path():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing; install it with: apt-get install -y chromium fonts-noto-cjk"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class LiveServer:
    url: str
    app: object

    def records(self, slug: str = "machining"):
        from runtime.permissions import Actor
        from runtime.service import records_for
        return records_for(self.app, slug, Actor.system("browser-test"))


@pytest.fixture
def server(tmp_path):
    """A running Takt over a fresh demo instance (its URL and its Flask app)."""
    compile_catalogs()
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'takt.db'}", "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SECRET_KEY": "browser-tests", "REDIS_URL": ""})
    prepare_demo(app)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{httpd.server_port}", app)
    httpd.shutdown()
    thread.join()
    get_db(app).dispose()


@pytest.fixture
def open_page(browser, server):
    """open_page(user, path, width=1280, height=900) → a signed-in Playwright page at server+path."""
    contexts = []

    def open_as(user: str, path: str = "/", width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=server.url)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto("/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORDS[user])
        page.click("form button.primary")
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(path)
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    return save
