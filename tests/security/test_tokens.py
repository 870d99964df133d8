"""Authentication: every bad token is a 401 OperationOutcome with a Bearer challenge; a
valid token without the scope is a 403; /metadata stays open. Production key modes (PEM,
JWKS) are checked in-process against generated keys here and through running servers in
test_key_files.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.config import Settings
from app.domain.errors import Unauthorized
from app.http.auth import make_verifier
from tests.security.conftest import AUDIENCE, FHIR_JSON, ISSUER, headers, make_token


def hs256_signed_with(secret: bytes, claims: dict[str, object]) -> str:
    """An HS256 JWT with ``secret`` as the HMAC key, made by hand: PyJWT refuses to use a
    PEM key as an HMAC secret, which is exactly what an algorithm-confusion attacker does."""
    def part(value: dict[str, object]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signing_input = part({"alg": "HS256", "typ": "JWT"}) + b"." + part(claims)
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def _get(sbase: str, hdrs: dict[str, str]) -> requests.Response:
    return requests.get(f"{sbase}/Patient?_count=1", headers=hdrs, timeout=10)


def assert_401(response: requests.Response, text: str) -> None:
    """A 401 OperationOutcome (code login) with a Bearer challenge whose text has ``text``."""
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "login"
    assert text in body["issue"][0]["diagnostics"]


def test_valid_token_is_accepted(sbase: str) -> None:
    assert _get(sbase, headers("system/Patient.rs")).status_code == 200


def test_no_token(sbase: str) -> None:
    response = _get(sbase, FHIR_JSON)
    assert_401(response, "requires a bearer token")
    assert "error=" not in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "token"])
def test_malformed_authorization_header(sbase: str, value: str) -> None:
    assert_401(_get(sbase, {**FHIR_JSON, "Authorization": value}), "Bearer <JWT>")


def test_garbage_token(sbase: str) -> None:
    assert_401(_get(sbase, {**FHIR_JSON, "Authorization": "Bearer not.a.jwt"}), "JWT")


@pytest.mark.parametrize(("claims", "text"), [
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"nbf": int(time.time()) + 3600}, "not valid yet"),
    ({"aud": "someone-else"}, "aud"),
    ({"iss": "https://evil.example"}, "issuer"),
    ({"sub": None}, "'sub'"),
    ({"sub": " "}, "'sub'"),
    ({"exp": None}, "'exp'"),
    # NumericDate is a JSON number (RFC 7519 §2); PyJWT would take int() of a string.
    ({"exp": str(int(time.time()) + 3600)}, "'exp' claim is not a number"),
    ({"nbf": str(int(time.time()) - 60)}, "'nbf' claim is not a number"),
    ({"iat": str(int(time.time()) - 60)}, "'iat' claim is not a number"),
    ({"nbf": True}, "'nbf' claim is not a number"),
])
def test_bad_claims(sbase: str, claims: dict[str, object], text: str) -> None:
    token = make_token("system/Patient.rs", **claims)  # type: ignore[arg-type]
    assert_401(_get(sbase, {**FHIR_JSON, "Authorization": f"Bearer {token}"}), text)


def test_wrong_signature(sbase: str) -> None:
    token = make_token("system/Patient.rs", key="another-secret-" + "y" * 40)
    assert_401(_get(sbase, {**FHIR_JSON, "Authorization": f"Bearer {token}"}), "signature")


def test_unsigned_token_is_refused(sbase: str) -> None:
    payload = {"sub": "x", "exp": int(time.time()) + 60, "aud": AUDIENCE, "iss": ISSUER,
               "scope": "system/*.cruds protected-identity"}
    token = jwt.encode(payload, None, algorithm="none")  # type: ignore[arg-type]
    assert_401(_get(sbase, {**FHIR_JSON, "Authorization": f"Bearer {token}"}), "algorithm")


def test_missing_scope_is_403(sbase: str) -> None:
    response = _get(sbase, headers("system/Patient.r openid"))
    assert response.status_code == 403
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "forbidden"
    assert "system/Patient.s" in body["issue"][0]["diagnostics"]


def test_metadata_openapi_and_profiles_are_open(sbase: str) -> None:
    root = sbase.removesuffix("/fhir")
    metadata = requests.get(f"{sbase}/metadata", timeout=10)
    assert metadata.status_code == 200
    security = metadata.json()["rest"][0]["security"]
    assert security["service"] == [{"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
        "code": "SMART-on-FHIR"}]}]
    # The description names exactly the scopes the server checks (app/http/auth.py's table).
    assert set(re.findall(r"system/[\w*]+\.[\w<>]+", security["description"])) == {
        "system/Patient.r", "system/Patient.s", "system/AuditEvent.rs",
        "system/Provenance.rs", "system/*.<perms>", "system/Patient.rs"}  # rs: $export
    for text in ("'protected-identity'", "SUBSETTED", "401", "403", "Bearer"):
        assert text in security["description"]
    assert requests.get(f"{root}/openapi.json", timeout=10).status_code == 200
    assert requests.get(f"{sbase}/CodeSystem/patient-type", timeout=10).status_code == 200


# --- production key modes, in-process ---------------------------------------------------

def _pem(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("kind", ["RS256", "ES256"])
def test_public_key_file(tmp_path: Path, kind: str) -> None:
    private = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "RS256"
               else ec.generate_private_key(ec.SECP256R1()))
    (tmp_path / "key.pem").write_bytes(_pem(private))
    verifier = make_verifier(Settings(database_url="sqlite://",
                                      jwt_public_key_file=str(tmp_path / "key.pem")))
    assert verifier is not None
    claims = {"sub": "svc", "exp": int(time.time()) + 60}
    assert verifier.verify(jwt.encode(claims, private, algorithm=kind))["sub"] == "svc"
    other = ec.generate_private_key(ec.SECP256R1()) if kind == "ES256" else \
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized, match="signature"):
        verifier.verify(jwt.encode(claims, other, algorithm=kind))
    # An HS256 token signed with the public key's PEM text as the HMAC secret must not pass
    # (algorithm confusion: the attacker knows the public key).
    with pytest.raises(Unauthorized, match="algorithm"):
        verifier.verify(hs256_signed_with(_pem(private), claims))
    # ... although it is a well-formed HS256 token: with a plain secret it verifies.
    plain = "p" * 64
    assert jwt.decode(hs256_signed_with(plain.encode(), claims), plain,
                      algorithms=["HS256"])["sub"] == "svc"


def test_jwks_file_picks_the_key_by_kid(tmp_path: Path) -> None:
    keys = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for kid in ("one", "two")}
    jwks = {"keys": []}
    for kid, private in keys.items():
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        jwks["keys"].append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    verifier = make_verifier(Settings(database_url="sqlite://",
                                      jwks_file=str(tmp_path / "jwks.json"),
                                      jwt_audience="a"))
    assert verifier is not None
    claims = {"sub": "svc", "exp": int(time.time()) + 60, "aud": "a"}
    token = jwt.encode(claims, keys["two"], algorithm="RS256", headers={"kid": "two"})
    assert verifier.verify(token)["sub"] == "svc"
    wrong = jwt.encode(claims, keys["one"], algorithm="RS256", headers={"kid": "two"})
    with pytest.raises(Unauthorized, match="signature"):
        verifier.verify(wrong)
    with pytest.raises(Unauthorized, match="aud"):
        verifier.verify(jwt.encode({**claims, "aud": "b"}, keys["one"], algorithm="RS256",
                                   headers={"kid": "one"}))


def test_no_settings_means_open_mode() -> None:
    assert make_verifier(Settings(database_url="sqlite://")) is None


def test_a_remembered_token_still_expires_and_a_changed_one_is_verified_again(
        tmp_path: Path) -> None:
    """Verified tokens are remembered (the signature of the same bytes cannot change), but
    their time claims are checked on every use, and any other bytes are verified afresh."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "key.pem").write_bytes(_pem(private))
    verifier = make_verifier(Settings(database_url="sqlite://",
                                      jwt_public_key_file=str(tmp_path / "key.pem")))
    assert verifier is not None
    verifier.leeway = 0
    token = jwt.encode({"sub": "svc", "exp": time.time() + 1.5}, private, algorithm="RS256")
    assert verifier.verify(token)["sub"] == "svc"
    assert token in verifier.verified
    assert verifier.verify(token)["sub"] == "svc"  # remembered
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(Unauthorized, match="signature"):
        verifier.verify(tampered)
    time.sleep(1.6)
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(token)
    later = jwt.encode({"sub": "svc", "exp": time.time() + 60, "nbf": time.time() + 30},
                       private, algorithm="RS256")
    with pytest.raises(Unauthorized, match="not yet valid|nbf|before"):
        verifier.verify(later)
