"""Fixtures for the conformance tests: the independent validator (node, @medplum/core) and
a requests session that records every FHIR resource the server sends back."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

NODE_DIR = Path(__file__).resolve().parent / "node"
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}

Validate = Callable[[list[dict[str, Any]]], list[list[dict[str, Any]]]]


def node_ready() -> str | None:
    """Install the node packages (npm ci, from package-lock.json) once; None when ready,
    else why not."""
    if not (shutil.which("node") and shutil.which("npm")):
        return "node and npm are needed for the independent validator and fhir-kit-client"
    if not (NODE_DIR / "node_modules" / "@medplum" / "core").exists():
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
def validate(node: Path) -> Validate:
    """Validate resources with @medplum/core against the base R4 definitions: the error
    issues of each resource (empty list = valid)."""

    def run(resources: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        done = subprocess.run(["node", "validate.mjs"], cwd=node, input=json.dumps(resources),
                              capture_output=True, text=True, timeout=120, check=True)
        return [[issue for issue in result["issues"] if issue.get("severity") == "error"]
                for result in json.loads(done.stdout)]

    return run


@pytest.fixture(scope="session")
def recorded() -> list[dict[str, Any]]:
    """Every resource a ``fhir`` session received in this test session."""
    return []


@pytest.fixture()
def fhir(recorded: list[dict[str, Any]]) -> Iterator[requests.Session]:
    """A requests session speaking FHIR JSON that records every resource it receives."""

    def keep(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "json" in response.headers.get("Content-Type", "") and response.content:
            body = response.json()
            if isinstance(body, dict) and "resourceType" in body:
                recorded.append(body)

    with requests.Session() as session:
        session.headers.update(FHIR_JSON)
        session.hooks["response"].append(keep)
        yield session
