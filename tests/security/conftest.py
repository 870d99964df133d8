"""A server with authentication on (JWT_HS256_SECRET, audience and issuer), shared by the
security tests; tokens are made with PyJWT."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import requests

from tests.support import Database, Server

SECRET = "test-secret-" + "x" * 40
AUDIENCE = "sweid-fhir-test"
ISSUER = "https://issuer.test.example"
SECURITY_LABEL_SYSTEM = "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel"
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
#: The settings of a server with authentication on.
SECURE_ENV = {"JWT_HS256_SECRET": SECRET, "JWT_AUDIENCE": AUDIENCE, "JWT_ISSUER": ISSUER}
FULL = "system/*.cruds protected-identity"
MASKED = "system/*.cruds"


def make_token(scope: str = MASKED, *, sub: str | None = "tester", key: str = SECRET,
               lifetime: int = 600, **claims: Any) -> str:
    """A signed token; ``claims`` override (None removes a claim)."""
    now = int(time.time())
    payload: dict[str, Any] = {"sub": sub, "exp": now + lifetime, "iat": now, "nbf": now - 5,
                               "aud": AUDIENCE, "iss": ISSUER, "scope": scope}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm="HS256")


def headers(scope: str = MASKED, **claims: Any) -> dict[str, str]:
    """FHIR JSON headers with a bearer token."""
    return {**FHIR_JSON, "Authorization": f"Bearer {make_token(scope, **claims)}"}


@pytest.fixture(scope="module")
def secure_server(database: Database) -> Iterator[Server]:
    srv = Server(database, env=SECURE_ENV, upgrade=False).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def sbase(secure_server: Server) -> str:
    return secure_server.base


Call = Callable[..., requests.Response]


@pytest.fixture()
def as_full() -> Iterator[requests.Session]:
    """A caller with every Patient/audit scope and protected-identity (its own ``sub``)."""
    with requests.Session() as session:
        session.headers.update(headers(FULL, sub=f"full-{uuid.uuid4().hex[:8]}"))
        yield session


@pytest.fixture()
def as_masked() -> Iterator[requests.Session]:
    """A caller with every Patient scope but without protected-identity."""
    with requests.Session() as session:
        session.headers.update(headers(MASKED, sub=f"masked-{uuid.uuid4().hex[:8]}"))
        yield session
