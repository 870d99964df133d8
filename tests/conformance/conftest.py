"""Fixtures for the conformance tests: the node tools nobody here wrote (the independent FHIR
validator @medplum/core, the OpenAPI checker) and a requests session speaking FHIR JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import Database, migrate

NODE_DIR = Path(__file__).resolve().parent / "node"
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}

Validate = Callable[[list[dict[str, Any]]], list[list[dict[str, Any]]]]


def missing_node_packages() -> list[str]:
    """The dependencies of node/package.json that are not installed."""
    wanted = json.loads((NODE_DIR / "package.json").read_text("utf-8"))["dependencies"]
    return [name for name in wanted
            if not (NODE_DIR / "node_modules" / name / "package.json").exists()]


def node_ready() -> str | None:
    """Install the node packages (npm ci, from package-lock.json) when any is missing; None
    when ready, else why not."""
    if not (shutil.which("node") and shutil.which("npm")):
        return "node and npm are needed for the independent validator and fhir-kit-client"
    if missing_node_packages():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return f"npm ci failed: {done.stderr[-2000:]}"
    return None


@pytest.fixture(scope="session")
def node() -> Path:
    """The directory holding the node scripts and their installed packages."""
    problem = node_ready()
    if problem:
        pytest.skip(problem)
    return NODE_DIR


@pytest.fixture(scope="session")
def validate(node: Path) -> Iterator[Validate]:
    """Validate resources with @medplum/core against the base R4 definitions: the error
    issues of each resource (empty list = valid). One node process serves the session."""
    process = subprocess.Popen(["node", "validate.mjs"], cwd=node, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               encoding="utf-8")
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def run(resources: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        stdin.write(json.dumps(resources) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"validate.mjs exited with {process.wait(timeout=10)}")
        return [[issue for issue in result["issues"] if issue.get("severity") == "error"]
                for result in json.loads(line)]

    yield run
    stdin.close()
    process.wait(timeout=30)


@pytest.fixture()
def fhir() -> Iterator[requests.Session]:
    """A requests session speaking FHIR JSON."""
    with requests.Session() as session:
        session.headers.update(FHIR_JSON)
        yield session


@pytest.fixture()
def own_database(tmp_path: Path) -> Iterator[Database]:
    """A database of the test's own, its schema at the head revision."""
    database = Database.fresh(tmp_path)
    migrate(database, "head")
    yield database
    database.dispose()
