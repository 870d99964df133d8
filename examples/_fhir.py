"""Tiny FHIR helper for the examples: standard library only, base URL from FHIR_BASE.

Every call prints what it does; :func:`expect` stops the script with exit status 1 when
the server does not behave as api.md promises.
"""

from __future__ import annotations

import json
import os
import random
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta
from typing import Any

BASE = os.environ.get("FHIR_BASE", "http://127.0.0.1:8080/fhir").rstrip("/")
TOKEN = os.environ.get("FHIR_TOKEN")
PNR = "urn:oid:1.2.752.129.2.1.3.1"
NRID = "urn:oid:1.2.752.74.9.1"
LRID = "urn:oid:1.2.752.113.11.0.2.1.1.1"


def call(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
         params: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    """One HTTP call; returns status, parsed JSON body (or None) and headers."""
    url = f"{BASE}/{path.lstrip('/')}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Accept": "application/fhir+json", "Content-Type": "application/fhir+json",
        **({"Authorization": f"Bearer {TOKEN}"} if TOKEN else {}), **(headers or {})})
    print(f"> {method} {url.removeprefix(BASE)}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw, got = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as err:
        status, raw, got = err.code, err.read(), dict(err.headers)
    print(f"< {status}")
    return status, (json.loads(raw) if raw else None), got


def expect(condition: bool, what: str) -> None:
    """Print a check; exit 1 when it fails."""
    print(("  ok: " if condition else "  FAILED: ") + what)
    if not condition:
        sys.exit(1)


def parameters(*params: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(params)}


def test_pnr(birth: date | None = None, female: bool = True) -> str:
    """A personnummer with birth number 980–999 (the tax agency's test range, domain §3.9)."""
    day = birth or date(1950, 1, 1) + timedelta(days=random.randrange(0, 60 * 365))
    while True:
        number = random.randrange(980, 1000)
        if (number % 2 == 0) == female:
            break
    body = f"{day:%y%m%d}{number:03d}"
    total = 0
    for index, char in enumerate(body):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return f"{day:%Y%m%d}{number:03d}{(10 - total % 10) % 10}"


def unique_family(prefix: str) -> str:
    return prefix + "".join(random.choice("abcdefghjkmnpqrstuvxyz") for _ in range(8))
