"""examples/ holds one runnable script per routine of domain.md §3; each runs its routine
against the session server and exits 0 — the second time too, against the records of the
first (issue 15) — and exits non-zero against a server that does not behave (api.md "Start
and test")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

EXAMPLES = ROOT / "examples"
#: domain.md §3 routine → its script and the requests that show the script performs it.
ROUTINES: dict[str, tuple[str, list[str]]] = {
    "find before create, §3.1": (
        "find_before_create.py", [r"> GET /Patient\?", r"> POST /Patient$"]),
    "reserve id with patient, §3.2": (
        "generate_reserve_id_with_patient.py", [r"> POST /Patient/\$generate-reserve-id$"]),
    "downtime pack, §3.3": (
        "downtime_pack.py", [r"> POST /Patient/\$generate-reserve-id$"]),
    "LRID to NRID, §3.3": (
        "lrid_to_nrid.py", [r"> POST /Patient/[^/$]+/\$generate-reserve-id$"]),
    "merge and unmerge, §3.5": (
        "merge_and_unmerge.py", [r"> POST /Patient/\$merge$", r"> POST /Patient/\$unmerge$"]),
    "ihe-pix lookup, §3.5": (
        "ihe_pix_lookup.py", [r"> GET /Patient/\$ihe-pix\?"]),
    "protected person, §3.6": (
        "protected_person.py", [r"> POST /Patient$", r"> GET /Patient/"]),
    "IHE PIXm Patient Identity Source, §4": (
        "pixm_source.py", [r"> PUT /Patient\?identifier=", r"> DELETE /Patient\?identifier=",
                           r"> GET /Patient/\$ihe-pix\?"]),
    "merge notification, §3.5": (
        "subscribe_merge.py", [r"> POST /Subscription$", r"> POST /Patient/\$merge$"]),
}
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def run(script: str, base: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, script], cwd=EXAMPLES,
                          env={**os.environ, "FHIR_BASE": base}, capture_output=True,
                          text=True, timeout=60)


def test_every_routine_has_its_script_and_every_script_a_routine():
    mapped = sorted(script for script, _ in ROUTINES.values())
    assert mapped == SCRIPTS


@pytest.mark.parametrize("routine", ROUTINES, ids=lambda r: r.split(",")[0])
def test_the_routine_script_runs_against_the_server_and_exits_0_twice(base, routine):
    script, requests_made = ROUTINES[routine]
    assert (EXAMPLES / script).is_file(), f"{routine}: examples/{script} is missing"
    for _ in ("first run", "rerun"):
        done = run(script, base)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        checks = [line for line in done.stdout.splitlines() if line.strip().startswith("ok:")]
        assert len(checks) >= 2 and "FAILED" not in done.stdout, done.stdout
        for pattern in requests_made:
            assert re.search(pattern, done.stdout, re.MULTILINE), f"{routine}: no {pattern}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_script_exits_non_zero_when_the_server_does_not_behave(base, script):
    # A base where every FHIR request is a 404: the script's first check must stop it.
    done = run(script, base.removesuffix("/fhir") + "/not-fhir")
    assert done.returncode != 0, done.stdout[-2000:]
    assert "Traceback" not in done.stderr or "FAILED" in done.stdout, done.stderr[-2000:]


def test_the_scripts_read_the_base_url_from_fhir_base():
    helper = (EXAMPLES / "_fhir.py").read_text("utf-8")
    assert 'os.environ.get("FHIR_BASE"' in helper
    for script in SCRIPTS:
        text = Path(EXAMPLES / script).read_text("utf-8")
        assert "from _fhir import" in text, script
        assert not re.search(r"127\.0\.0\.1|localhost|:8080", text), script
