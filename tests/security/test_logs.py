"""No full personnummer in the server log or in any error body: a run of bad requests that
carry personnummer in paths, query strings, headers and bodies, then a grep of every error
body and of the server's log for 10/12-digit numbers."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import requests

from tests.security.conftest import FULL, MASKED, headers
from tests.support import PNR_SYSTEM, Server, make_pnr, patient

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{10}|[0-9]{12}|[0-9]{6}[-+][0-9]{4}|[0-9]{8}-[0-9]{4})"
                    r"(?![0-9])")


def _numbers(text: str) -> list[str]:
    return NUMBER.findall(UUID.sub("<uuid>", text))


def test_no_personnummer_in_error_bodies_or_logs(sbase: str, secure_server: Server) -> None:
    pnr = make_pnr()
    short = pnr[2:8] + "-" + pnr[8:]
    bad = pnr[:-1] + str((int(pnr[-1]) + 1) % 10)  # wrong check digit
    holder = requests.post(f"{sbase}/Patient", json=patient(pnr=pnr), headers=headers(FULL),
                           timeout=10)
    assert holder.status_code == 201
    hdrs = headers(FULL)
    calls = [
        requests.get(f"{sbase}/Patient/{pnr}", headers=hdrs),
        requests.get(f"{sbase}/Patient/{pnr}/_history/{pnr}", headers=hdrs),
        requests.get(f"{sbase}/Patient", params={"identifier": bad}, headers=hdrs),
        requests.get(f"{sbase}/Patient", params={f"x{pnr}": pnr}, headers=hdrs),
        requests.get(f"{sbase}/Patient", params={"birthdate": pnr}, headers=hdrs),
        requests.get(f"{sbase}/Patient", params={"_sort": pnr}, headers=hdrs),
        requests.get(f"{sbase}/Patient", params={"gender": short}, headers=hdrs),
        requests.get(f"{sbase}/Patient", params={"_include": pnr}, headers=hdrs),
        requests.post(f"{sbase}/Patient", json=patient(pnr=bad), headers=hdrs),
        requests.post(f"{sbase}/Patient", headers=hdrs, json=patient(identifier=[
            {"system": PNR_SYSTEM, "value": short[:-1] + "x"}])),
        requests.post(f"{sbase}/Patient", json=patient(pnr=pnr), headers=hdrs),  # 409
        requests.post(f"{sbase}/Patient", json=patient(pnr=pnr), headers={
            **hdrs, "If-None-Exist": f"identifier={bad}"}),
        requests.post(f"{sbase}/Patient", data=f'{{"resourceType": "Patient", {pnr}',
                      headers=hdrs),
        requests.post(f"{sbase}/Patient", json={"resourceType": pnr}, headers=hdrs),
        requests.post(f"{sbase}/Patient", json=patient(birthDate=pnr), headers=hdrs),
        requests.put(f"{sbase}/Patient/{pnr}", json=patient(id="other"), headers=hdrs),
        requests.put(f"{sbase}/Patient", params={"identifier": pnr}, json=patient(),
                     headers={**hdrs, "If-Match": pnr}),
        requests.delete(f"{sbase}/Patient", params={"identifier": f"{PNR_SYSTEM}|{bad}"},
                        headers=hdrs),
        requests.post(sbase, headers=hdrs, json={"resourceType": "Bundle", "type": "batch",
                                                 "entry": [
            {"request": {"method": "GET", "url": f"Patient/{pnr}"}},
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient(pnr=bad)},
            {"request": {"method": "GET", "url": f"Patient?identifier={bad}"}},
            {"request": {"method": "GET", "url": f"Foo/{pnr}"}}]}),
        requests.post(sbase, headers=hdrs, json={"resourceType": "Bundle",
                                                 "type": "transaction", "entry": [
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient(pnr=bad)}]}),
        requests.post(f"{sbase}/Patient/$match", headers=hdrs, json={
            "resourceType": "Parameters", "parameter": [{"name": pnr, "valueString": pnr}]}),
        requests.get(f"{sbase}/Patient/$ihe-pix", headers=hdrs,
                     params={"sourceIdentifier": f"{PNR_SYSTEM}|{bad}"}),
        requests.get(f"{sbase}/Patient/{pnr}", headers=headers(MASKED, sub=pnr)),
        requests.get(f"{sbase}/Patient/{pnr}", headers={"Authorization": f"Bearer {pnr}"}),
        requests.get(f"{sbase}/AuditEvent", params={"date": pnr}, headers=headers("system/*.rs")),
        requests.get(f"{sbase}/{pnr}", headers=hdrs),
    ]
    errors = [r.text for r in calls if r.status_code >= 400]
    for response in calls:  # the outcomes of failed batch entries
        if response.status_code == 200 and response.json().get("type") == "batch-response":
            errors += [json.dumps(e["response"]["outcome"]) for e in response.json()["entry"]
                       if "outcome" in e.get("response", {})]
    assert len(errors) >= 25
    for text in errors:
        assert not _numbers(text), text[:400]
    time.sleep(1.5)  # let the workers flush their request lines (once a second)
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"sweid-{secure_server.port}.log"
    text = log.read_text("utf-8", errors="replace")
    assert "/fhir/Patient" in text  # the request log is there
    assert pnr not in text and bad not in text and short not in text
    assert not _numbers(text), _numbers(text)[:5]
