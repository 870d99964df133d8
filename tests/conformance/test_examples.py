"""Every script in examples/ runs against the session server and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import ROOT

SCRIPTS = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))


def test_there_is_an_example_per_routine():
    assert len(SCRIPTS) >= 7


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_example_runs_against_the_server(base, script):
    done = subprocess.run([sys.executable, str(script)], cwd=script.parent,
                          env={**os.environ, "FHIR_BASE": base}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ok:" in done.stdout
