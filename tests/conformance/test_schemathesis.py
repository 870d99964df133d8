"""schemathesis (v4) against a running server and its own /openapi.json: every request it
generates from the document — valid ones, boundary values, values that break the schema,
methods the document does not list, OPTIONS — must get an answer the document describes.
No server error, no status the operation does not list, no Content-Type it does not list, no
body off its schema, no 405 without Allow, no Allow (or OPTIONS) naming a method the path
does not document. Its checks are run as they come; nothing here relaxes them.

Time-bounded (the suite runs on 2 shared cores): the examples, fuzzing and stateful phases
draw a few cases per operation, and the coverage phase (deterministic boundary and
negative cases, the bulk of the work) stops at a time budget. The seed is fixed, so a
failure reproduces with the command it prints.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Database, Server

#: The checks that compare the server with the document (schemathesis's names).
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance",
          "allow_header_conformance", "unsupported_method")
SEED = "20261204"
#: Cases per operation in the examples, fuzzing and stateful phases.
MAX_EXAMPLES = "5"
#: Seconds the coverage phase may take (about 35-60 s would let it finish everywhere).
COVERAGE_SECONDS = "35"


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over a database of its own: schemathesis creates, updates, merges and
    deletes whatever it generates."""
    database = Database.fresh(tmp_path_factory.mktemp("schemathesis-db"))
    server = Server(database).start()
    yield server
    server.stop()
    database.dispose()


def schemathesis(server: Server, workdir: Path, *options: str) -> str:
    """Run ``st run`` against ``server`` (its cache in ``workdir``); its report, asserted
    to have tested every operation and found nothing."""
    root = server.base.removesuffix("/fhir")
    done = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{root}/openapi.json",
         "--checks", ",".join(CHECKS), "--seed", SEED, "--workers", "1",
         "--request-timeout", "30", "--no-color", *options],
        cwd=workdir, capture_output=True, text=True, timeout=300)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-8000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    assert selected and selected[1] == selected[2], report[-3000:]
    generated = re.search(r"(\d+) generated", report)
    assert generated and int(generated[1]) >= 100, report[-3000:]
    return report


def test_generated_requests_get_the_answers_the_document_describes(
        fuzzed_server: Server, tmp_path: Path) -> None:
    schemathesis(fuzzed_server, tmp_path, "--phases", "examples,fuzzing,stateful",
                 "--max-examples", MAX_EXAMPLES)


def test_boundary_and_negative_requests_get_the_answers_the_document_describes(
        fuzzed_server: Server, tmp_path: Path) -> None:
    schemathesis(fuzzed_server, tmp_path, "--phases", "coverage",
                 "--max-time", COVERAGE_SECONDS)
