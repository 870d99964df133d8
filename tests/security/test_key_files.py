"""Production key modes through a running server: one server checks RS256 tokens against a
PEM public key file (``JWT_PUBLIC_KEY_FILE``), one ES256 tokens against a local JWKS
(``JWKS_FILE``, EC P-256, key chosen by ``kid``); both require ``JWT_AUDIENCE``. The keys are
generated for the test run; the servers start one after the other (module scope)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.security.conftest import FHIR_JSON
from tests.security.test_tokens import assert_401, hs256_signed_with
from tests.support import Database, Server

AUDIENCE = "sweid-fhir-key-files"
KID = "signing-2026"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class KeyedServer:
    """A running server and the private key its tokens are signed with."""

    base: str
    algorithm: str
    private: PrivateKey
    kid: str | None

    def token(self, key: PrivateKey | None = None, **claims: Any) -> str:
        """A token signed with the server's key (or ``key``); ``claims`` override, None
        removes a claim."""
        now = int(time.time())
        payload = {"sub": "key-file-client", "exp": now + 600, "iat": now, "nbf": now - 5,
                   "aud": AUDIENCE, "scope": "system/Patient.rs", **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        extra = {"kid": self.kid} if self.kid else None
        return jwt.encode(payload, key or self.private, algorithm=self.algorithm,
                          headers=extra)

    def new_key(self) -> PrivateKey:
        """Another key of the same kind (not the server's)."""
        return _generate(self.algorithm)

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _generate(algorithm: str) -> PrivateKey:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module", params=["RS256 PEM file", "ES256 JWKS file"])
def keyed(request: pytest.FixtureRequest, database: Database,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyedServer]:
    algorithm, _, mode = str(request.param).partition(" ")
    keys = tmp_path_factory.mktemp("keys")
    private = _generate(algorithm)
    if mode == "PEM file":
        keyed = KeyedServer("", algorithm, private, None)
        (keys / "public.pem").write_bytes(keyed.public_pem)
        env = {"JWT_PUBLIC_KEY_FILE": str(keys / "public.pem")}
    else:
        keyed = KeyedServer("", algorithm, private, KID)
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
        (keys / "jwks.json").write_text(json.dumps(
            {"keys": [{**jwk, "kid": KID, "alg": algorithm, "use": "sig"}]}))
        env = {"JWKS_FILE": str(keys / "jwks.json")}
    srv = Server(database, env={**env, "JWT_AUDIENCE": AUDIENCE, "JWT_HS256_SECRET": "",
                                "JWT_ISSUER": ""}, workers=1).start()
    keyed.base = srv.base
    yield keyed
    srv.stop()


def _search(keyed: KeyedServer, token: str) -> requests.Response:
    return requests.get(f"{keyed.base}/Patient", params={"_count": "1"}, timeout=10,
                        headers={**FHIR_JSON, "Authorization": f"Bearer {token}"})


def test_a_token_signed_with_the_configured_key_is_accepted(keyed: KeyedServer) -> None:
    response = _search(keyed, keyed.token())
    assert response.status_code == 200, response.text
    assert response.json()["resourceType"] == "Bundle"


@pytest.mark.parametrize("case", ["expired", "nbf in the future", "wrong audience",
                                  "no sub", "another key", "HS256 with the public key"])
def test_a_bad_token_is_refused(keyed: KeyedServer, case: str) -> None:
    now = int(time.time())
    token, text = {
        "expired": lambda: (keyed.token(exp=now - 3600), "expired"),
        "nbf in the future": lambda: (keyed.token(nbf=now + 3600), "not valid yet"),
        "wrong audience": lambda: (keyed.token(aud="someone-else"), "aud"),
        "no sub": lambda: (keyed.token(sub=None), "'sub'"),
        "another key": lambda: (keyed.token(key=keyed.new_key()), "signature"),
        # Algorithm confusion: HMAC keyed with the public key an attacker can read.
        "HS256 with the public key": lambda: (hs256_signed_with(keyed.public_pem, {
            "sub": "attacker", "exp": now + 600, "aud": AUDIENCE,
            "scope": "system/*.cruds protected-identity"}), "algorithm"),
    }[case]()
    assert_401(_search(keyed, token), text)
