"""The README's REST walkthrough is one shell session that works as written (issue 15): the
code blocks marked ``<!-- walkthrough -->`` run in order under bash against a server of
their own, twice (the session finds its own earlier records). Every answer is below 500, and
the errors are exactly those the README's ``# → 4xx`` comments announce, in order."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ROOT, Database, Server

README = ROOT / "README.md"
MARKER = "<!-- walkthrough -->"
README_BASE = "http://127.0.0.1:8080/fhir"
#: Records the status of every curl call of the session in a headers file of its own.
PREAMBLE = """set -eo pipefail
curl() { command curl -D "$WALK/$(date +%s%N).headers" "$@"; }
"""


def walkthrough_blocks(text: str) -> list[str]:
    """The ``sh`` code blocks right after a walkthrough marker, in README order."""
    return re.findall(re.escape(MARKER) + r"\n```sh\n(.*?)\n```", text, re.DOTALL)


def announced_errors(blocks: list[str]) -> list[int]:
    return [int(status) for status in re.findall(r"# → (\d{3})", "\n".join(blocks))]


@pytest.fixture(scope="module")
def walkthrough_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    database = Database.fresh(tmp_path_factory.mktemp("walkthrough"))
    server = Server(database).start()
    yield server
    server.stop()
    database.dispose()


def statuses(folder: Path) -> list[int]:
    """The final status of each recorded call, in the order they were made."""
    found = []
    for headers in sorted(folder.glob("*.headers"), key=lambda path: int(path.stem)):
        lines = [line for line in headers.read_text("latin-1").splitlines()
                 if line.startswith("HTTP/")]
        found.append(int(lines[-1].split()[1]))
    return found


def test_the_walkthrough_has_blocks_and_announces_its_errors() -> None:
    blocks = walkthrough_blocks(README.read_text("utf-8"))
    assert len(blocks) >= 4 and README.read_text("utf-8").count(MARKER) == len(blocks)
    assert README_BASE in blocks[0]
    assert set(announced_errors(blocks)) >= {409, 410, 412, 422}


@pytest.mark.skipif(not shutil.which("curl"), reason="the README's session uses curl")
def test_the_readme_walkthrough_runs_as_one_session_twice(walkthrough_server: Server,
                                                           tmp_path: Path) -> None:
    blocks = walkthrough_blocks(README.read_text("utf-8"))
    script = PREAMBLE + "\n".join(blocks).replace(README_BASE, walkthrough_server.base)
    expected = announced_errors(blocks)
    for run in ("first", "second"):
        folder = tmp_path / run
        folder.mkdir()
        done = subprocess.run(["bash", "-c", script], cwd=ROOT, env={
            "PATH": "/usr/bin:/bin", "WALK": str(folder), "LANG": "C.UTF-8"},
            capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{run} run:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        seen = statuses(folder)
        assert len(seen) > 30, seen
        assert all(status < 500 for status in seen), seen
        assert [status for status in seen if status >= 400] == expected, f"{run} run: {seen}"
