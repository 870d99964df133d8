"""The README's screenshot script works (it is run for real, into a temporary folder)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.console.conftest import root_of
from tests.console.screenshots import take
from tests.support import Server

PNG = b"\x89PNG\r\n\x1a\n"


def test_screenshots_of_the_main_pages(browser: Browser, server: Server, tmp_path: Path) -> None:
    saved = take(browser, root_of(server), server.base, tmp_path)
    assert [p.name for p in saved] == [
        "console-search.png", "console-person.png", "console-protected.png",
        "console-register.png", "console-merge.png", "console-downtime-print.png"]
    for path in saved:
        assert path.read_bytes().startswith(PNG) and path.stat().st_size > 10_000, path
