"""``$export`` with a real Bulk Data client: SMART's ``smart-fetch`` (PyPI; the bulk
exporter Cumulus ETL uses), run as its own command against the module's gunicorn server
with a bearer token file. It kicks off ``GET [base]/$export?_type=Patient[&_since=…]``,
polls, downloads the files and DELETEs the export when done."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import requests

from tests.export.support import MASKED, session_with
from tests.security.conftest import FHIR_JSON, SECURITY_LABEL_SYSTEM, make_token
from tests.support import make_pnr, patient

SMART_FETCH = Path(sys.executable).with_name("smart-fetch")


def smart_fetch(base: str, out: Path, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``smart-fetch bulk`` into ``out`` (uncompressed NDJSON)."""
    token_file = out.parent / f"{out.name}.token"
    token_file.write_text(token)
    command = [str(SMART_FETCH) if SMART_FETCH.exists() else shutil.which("smart-fetch") or
               "smart-fetch", "bulk", str(out), "--fhir-url", base, "--bearer-token",
               str(token_file), "--type", "Patient", "--no-compression", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})


def exported(out: Path) -> list[dict]:
    return [orjson.loads(line) for path in sorted(out.glob("Patient*.ndjson"))
            for line in path.read_bytes().splitlines()]


def _create(session: requests.Session, base: str, resource: dict) -> dict:
    answer = session.post(f"{base}/Patient", json=resource, headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_smart_fetch_exports_what_a_read_shows(ebase, tmp_path: Path, export_directory: Path):
    with session_with(MASKED, sub="smart-fetch") as session:
        plain = _create(session, ebase, patient(pnr=make_pnr()))
        secret = _create(session, ebase, patient(
            pnr=make_pnr(), telecom=[{"system": "phone", "value": "070-1111111"}],
            meta={"security": [{"system": SECURITY_LABEL_SYSTEM, "code": "sekretessmarkering"}]}))
        done = smart_fetch(ebase, tmp_path / "all", make_token(MASKED, sub="smart-fetch"))
        assert done.returncode == 0, done.stdout + done.stderr
        resources = {r["id"]: r for r in exported(tmp_path / "all")}
        for stored in (plain, secret):
            read = session.get(f"{ebase}/Patient/{stored['id']}", headers=FHIR_JSON, timeout=30)
            assert resources[stored["id"]] == read.json()
        assert "telecom" not in resources[secret["id"]]  # masked: no protected-identity
        # No Patient twice.
        assert len(resources) == len(exported(tmp_path / "all"))

        since = session.post(f"{ebase}/Patient", json=patient(pnr=make_pnr()),
                             headers=FHIR_JSON, timeout=30).json()
        done = smart_fetch(ebase, tmp_path / "since", make_token(MASKED, sub="smart-fetch"),
                           "--since", since["meta"]["lastUpdated"])
        assert done.returncode == 0, done.stdout + done.stderr
        assert [r["id"] for r in exported(tmp_path / "since")] == [since["id"]]
    # The client DELETEs each export once downloaded: the server removed the files.
    assert list(export_directory.iterdir()) == []


def test_smart_fetch_without_the_scope_is_refused(ebase, tmp_path: Path):
    done = smart_fetch(ebase, tmp_path / "refused", make_token("system/Patient.c"))
    assert done.returncode != 0
    assert not list((tmp_path / "refused").glob("Patient*.ndjson"))
