"""Browser tests of the staff console: Debian's chromium driven by Playwright for Python
against the module's real gunicorn server. Playwright never downloads a browser here: it is
pointed at /usr/bin/chromium (``make browser-deps`` installs it and the npm packages)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Route,
    sync_playwright,
)

from tests.support import Server

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
NODE_MODULES = Path(__file__).resolve().parent / "node" / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
SECRET = "console-test-secret-" + "x" * 40
#: A server with authentication on (the API's bearer tokens; the console honours them too).
SECURE_ENV = {"JWT_HS256_SECRET": SECRET}
CLERK = "system/*.cruds"
PRIVILEGED = "system/*.cruds protected-identity"



def make_token(scope: str, sub: str = "clerk") -> str:
    """A bearer token signed with the test server's secret."""
    now = int(time.time())
    return jwt.encode({"sub": sub, "exp": now + 3600, "iat": now, "scope": scope}, SECRET,
                      algorithm="HS256")


def root_of(server: Server) -> str:
    """The server's root URL (the console lives at ``<root>/console/``)."""
    return server.base.removesuffix("/fhir")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have chromium at {CHROMIUM} (make browser-deps)")
        pytest.skip(f"chromium is not installed at {CHROMIUM}: run `make browser-deps` "
                    "(apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                         args=["--no-sandbox"])
    yield browser
    browser.close()


#: Requests the pages tried to send off this machine (each test context blocks them all).
OFF_MACHINE: list[str] = []
LOOPBACK = re.compile(r"^(?:https?|wss?)://(?:127\.0\.0\.1|localhost)[:/]")


def _loopback_only(context: BrowserContext) -> BrowserContext:
    """Abort every request that would leave loopback: the console fetches nothing from the
    internet (tests assert OFF_MACHINE stays empty), and no test page reaches the network."""

    def block(route: Route) -> None:
        OFF_MACHINE.append(route.request.url)
        route.abort()

    context.route(lambda url: not LOOPBACK.match(url) and not url.startswith(("data:",
                                                                             "about:")), block)
    return context


def new_page(browser: Browser, **options: Any) -> Page:
    """A page in a fresh context (no cookies) that stays on loopback; what an earlier
    test's pages tried to reach is forgotten (each test answers for its own)."""
    OFF_MACHINE.clear()
    context = _loopback_only(browser.new_context(locale="sv-SE", **options))
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page."""
    page = new_page(browser)
    yield page
    page.context.close()


def page_as(browser: Browser, scope: str, sub: str) -> Page:
    """A page whose every request carries a bearer token with ``scope``."""
    return new_page(browser, extra_http_headers={
        "Authorization": f"Bearer {make_token(scope, sub)}"})


def assert_accessible(page: Page) -> None:
    """axe-core (npm) in the page: no serious or critical violation."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `make browser-deps` (npm ci)")
    assert not OFF_MACHINE, f"the page tried to reach past loopback: {OFF_MACHINE}"
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    bad = [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, json.dumps([{"id": v["id"], "help": v["help"],
                                 "nodes": [n["target"] for n in v["nodes"]]} for v in bad],
                               indent=1)
