"""OpenID Connect login of the console against a real provider: the npm package
oidc-provider, run by node on loopback (tests/console/node/provider.mjs). The user's roles
become the API's scopes: a clerk sees the protected person masked, a privileged user in full
(audited); a user without roles may do nothing; the session cookie never opens the API."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.console import fhir
from tests.console.conftest import (
    OFF_MACHINE,
    PRIVILEGED,
    SECURE_ENV,
    assert_accessible,
    make_token,
    new_page,
    root_of,
)
from tests.support import Database, Server, free_port

NODE_DIR = Path(__file__).resolve().parent / "node"
CLIENT_SECRET = "console-client-" + uuid.uuid4().hex
ROLE_SCOPES = ("clerk=system/Patient.cruds system/AuditEvent.rs system/Provenance.rs;"
               "privileged=protected-identity")
SECURITY_LABELS = "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel"
PHONE = "070-7654321"


@pytest.fixture(scope="module")
def provider_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server(database: Database, provider_port: int) -> Iterator[Server]:
    """The API with tokens required and the console's login at the provider."""
    srv = Server(database, upgrade=False)
    provider = subprocess.Popen(
        ["node", str(NODE_DIR / "provider.mjs"), str(provider_port),
         f"http://127.0.0.1:{srv.port}/console/inloggad", CLIENT_SECRET],
        cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{provider_port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration",
                            timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if provider.poll() is not None or time.monotonic() > deadline:
            output = provider.stdout.read().decode() if provider.stdout else ""
            provider.kill()
            raise RuntimeError(f"oidc-provider did not start: {output[-2000:]}")
        time.sleep(0.2)
    srv.env = {**SECURE_ENV, "OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": "sweid-console",
               "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_ROLE_SCOPES": ROLE_SCOPES}
    srv.start()
    yield srv
    srv.stop()
    provider.terminate()
    provider.wait(timeout=10)


@pytest.fixture(scope="module")
def protected(server: Server) -> dict[str, Any]:
    resource = fhir.person(
        given="Skyddad", birth="1998-04-05", telecom=[{"system": "phone", "value": PHONE}],
        meta={"security": [{"system": SECURITY_LABELS, "code": "skyddadFolkbokforing"}]})
    patient_id, pnr = fhir.with_pnr(server.base, resource, make_token(PRIVILEGED, "loader"))
    return {"id": patient_id, "pnr": pnr}


def sign_in(page: Page, server: Server, account: str, target: str = "/console/") -> None:
    """Open a console page, get sent to the provider, sign in and consent."""
    page.goto(f"{root_of(server)}{target}")
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill("whatever")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{root_of(server)}{target}")
    # The provider's own development pages import a web font; those requests were blocked.
    OFF_MACHINE.clear()


@pytest.fixture()
def fresh(browser: Browser) -> Iterator[Page]:
    page = new_page(browser)
    yield page
    page.context.close()


def test_clerk_signs_in_and_sees_the_protected_person_masked(
        fresh: Page, server: Server, protected: dict[str, Any]) -> None:
    sign_in(fresh, server, "clerk", f"/console/patient/{protected['id']}")
    expect(fresh.locator("p.who")).to_contain_text("Inloggad som Klara Kanslist")
    expect(fresh.locator("p.protected")).to_contain_text("Skyddad folkbokföring")
    expect(fresh.locator("main")).not_to_contain_text(PHONE)
    assert_accessible(fresh)


def test_privileged_role_sees_everything_and_is_audited(
        fresh: Page, server: Server, protected: dict[str, Any]) -> None:
    sign_in(fresh, server, "privileged", f"/console/patient/{protected['id']}")
    expect(fresh.locator("p.who")).to_contain_text("Behörighet: skyddade personer")
    expect(fresh.locator("main")).to_contain_text(PHONE)
    fresh.reload()
    expect(fresh.locator("section[aria-labelledby=logg] tr", has_text="privileged").first
           ).to_contain_text("read")


def test_a_user_without_roles_may_do_nothing(fresh: Page, server: Server) -> None:
    sign_in(fresh, server, "visitor", "/console/")
    expect(fresh.get_by_role("heading", level=1)).to_have_text("Du saknar behörighet")


def test_logout_and_the_session_never_opens_the_api(fresh: Page, server: Server) -> None:
    sign_in(fresh, server, "clerk", "/console/")
    assert fresh.request.get(f"{server.base}/Patient").status == 401
    fresh.get_by_role("button", name="Logga ut").click()
    # RP-initiated logout: the provider asks, ends its own session and sends the browser
    # back to the console.
    fresh.get_by_role("button", name="Yes, sign me out").click()
    fresh.wait_for_url(f"{root_of(server)}/console/utloggad")
    OFF_MACHINE.clear()  # the provider's own page imports a web font (blocked)
    expect(fresh.get_by_role("heading", level=1)).to_have_text("Du är utloggad")
    expect(fresh.locator("main")).to_contain_text("hos identitetsleverantören för att logga "
                                                  "ut där också")
    assert_accessible(fresh)
    after = fresh.request.get(f"{root_of(server)}/console/", max_redirects=0)
    assert after.status == 302
    assert after.headers["location"].startswith("/console/logga-in")
    # The next person at this workstation must sign in: the provider asks for a login
    # again instead of sending the previous user's identity straight back.
    fresh.goto(f"{root_of(server)}/console/")
    expect(fresh.locator("input[name=login]")).to_be_visible()
    OFF_MACHINE.clear()  # the provider's login page imports a web font (blocked)
