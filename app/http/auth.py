"""Authentication (bearer JWT) and authorisation (SMART v2 system scopes) for every request.

Authentication — ``create_app`` calls :func:`install`; the ``before_request`` hook calls
:func:`authenticate` then :func:`authorise`:

* ``JWT_HS256_SECRET`` (tests, development), ``JWT_PUBLIC_KEY_FILE`` (PEM: RSA → RS256,
  EC → ES256/ES384) and/or ``JWKS_FILE`` (a local JSON Web Key Set, keys picked by ``kid``;
  nothing is downloaded). Tokens need a valid signature, ``exp`` and ``sub``; ``nbf`` is
  checked when present; ``exp``, ``nbf`` and ``iat`` must be JSON numbers; ``aud``/``iss``
  when ``JWT_AUDIENCE``/``JWT_ISSUER`` are set.
  Missing or bad token → 401 with ``WWW-Authenticate: Bearer`` and an OperationOutcome.
* None of these set → open development mode: every caller is
  :data:`app.domain.access.ANONYMOUS` (every interaction, never protected data), and a
  WARNING says so at start-up.
* ``/fhir/metadata``, ``/openapi.json`` and ``/docs`` are always open.

Authorisation — every view function declares what it needs, in one line::

    from app.http.auth import requires

    @blp.route("/Patient/$merge", methods=["POST"])
    @requires("Patient", "u", interaction="merge")
    def merge() -> Response: ...

``requires(resource_type, requirement, interaction=None)``: ``requirement`` is permission
letters of ``cruds``; ``|`` separates alternatives (``"r|s"`` = read or search, ``"c|u"`` =
create or update). ``resource_type`` may name a URL variable as ``"<resource_type>"``.
``interaction`` is the AuditEvent subtype of disclosures made by the route (default: the
function name). :func:`authenticated` marks a route any valid token may call (it checks per
item itself with :func:`check`, like batch/transaction); :func:`public` a route without a
token. A route that declares nothing is refused (403) when authentication is on — new
routes are closed until they say what they need.

Scope table (SMART v2 letters; v1 ``read`` = rs, ``write`` = cud, ``*`` = cruds). The
Patient rows are declared in :mod:`app.http.interactions`, which REST routes and Bundle
entries both use:

==========================================  ==============================================
Interaction                                  Needs
==========================================  ==============================================
read, vread, instance/type history           ``system/Patient.r``
search (GET, POST _search)                   ``system/Patient.s``
create, conditional create                   ``system/Patient.c``
update (also update-as-create), patch,       ``system/Patient.u``
conditional update
delete, conditional delete                   ``system/Patient.d``
batch / transaction                          a valid token; each entry as above
``$match``, ``$ihe-pix``                     ``system/Patient.r`` or ``system/Patient.s``
``$merge``, ``$unmerge``                     ``system/Patient.u``
``$generate-reserve-id``                     ``system/Patient.c`` or ``system/Patient.u``
AuditEvent / Provenance read and search      ``system/AuditEvent.rs`` / ``system/Provenance.rs``
                                             (read needs r, search needs s)
``$export``, its status, files and DELETE    ``system/Patient.rs`` (both letters); only the
                                             owner (same ``sub``) sees a job
unmasked protected persons                   ``protected-identity``
==========================================  ==============================================

``system/*.<perms>`` grants the letters on every type.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Response, current_app, g, request

from app.config import Settings
from app.domain.access import ANONYMOUS, Access
from app.domain.errors import Forbidden, Unauthorized
from app.domain.scopes import describe, parse_requirement, parse_scopes
from app.masking import disclosures
from app.services import audit_events
from app.services.transactions import run_write

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

OPEN_PATHS = ("/fhir/metadata", "/openapi.json")
OPEN_PREFIXES = ("/docs", "/swagger-ui/", "/console/static/")
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"})
LEEWAY_SECONDS = 10
#: Verified tokens remembered per worker (then forgotten all at once and verified again).
MAX_VERIFIED_TOKENS = 1024
NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")
REQUIREMENT_ATTRIBUTE = "sweid_requirement"
#: The staff console (app.console): a signed-in session stands in for the bearer token there.
CONSOLE_PREFIX = "/console"
CONSOLE_SESSION_KEY = "console_user"


@dataclass(frozen=True)
class Requirement:
    """What a view needs: ``resource_type`` None = any valid token (the view checks itself);
    ``public`` = not even a token."""

    resource_type: str | None
    requirement: str = ""
    interaction: str | None = None
    public: bool = False


def requires(resource_type: str, requirement: str, *,
             interaction: str | None = None) -> Callable[[F], F]:
    """Declare the scope a view needs (see the module docstring)."""
    parse_requirement(requirement)  # refuse typos at import time

    def mark(view: F) -> F:
        setattr(view, REQUIREMENT_ATTRIBUTE,
                Requirement(resource_type, requirement, interaction or view.__name__))
        return view

    return mark


def authenticated(interaction: str | None = None) -> Callable[[F], F]:
    """Declare a view any valid token may call; it checks finer permissions itself."""

    def mark(view: F) -> F:
        setattr(view, REQUIREMENT_ATTRIBUTE,
                Requirement(None, "", interaction or view.__name__))
        return view

    return mark


def public(view: F) -> F:
    """Declare a view open without a token (``/metadata``)."""
    setattr(view, REQUIREMENT_ATTRIBUTE, Requirement(None, public=True))
    return view


def check(resource_type: str, requirement: str) -> None:
    """Raise 403 unless the caller's scopes satisfy ``requirement`` on the type."""
    access: Access = g.get("access", ANONYMOUS)
    if not access.may(resource_type, requirement):
        raise Forbidden(f"This interaction needs the scope {describe(resource_type, requirement)}")


def interaction() -> str:
    """The declared interaction of the current request's view (AuditEvent subtype)."""
    found = g.get("interaction")
    if found:
        return str(found)
    declared = _requirement_of(_view())
    return declared.interaction if declared and declared.interaction else "operation"


@dataclass
class VerificationKey:
    """One key tokens may be signed with."""

    key: Any
    algorithms: list[str]
    kid: str | None = None


@dataclass
class TokenVerifier:
    """Verifies bearer JWTs against the configured keys."""

    keys: list[VerificationKey]
    audience: str | None = None
    issuer: str | None = None
    leeway: int = LEEWAY_SECONDS
    required: list[str] = field(default_factory=lambda: ["exp", "sub"])

    #: Tokens verified before and their claims (a client sends one token with many
    #: requests; verifying an RS256 signature and PyJWT's parsing cost ~0.3 ms each time).
    verified: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims, or :class:`Unauthorized` saying what is wrong (never the
        token). A token verified before is taken from :attr:`verified` while its ``exp``
        and ``nbf`` still hold (the signature of the same bytes with the same keys cannot
        change); otherwise it is verified again, which says why it no longer passes."""
        claims = self.verified.get(token)
        if claims is not None and _in_time(claims, self.leeway):
            return claims
        claims = self._verify(token)
        if len(self.verified) >= MAX_VERIFIED_TOKENS:
            self.verified.clear()
        self.verified[token] = claims
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("The bearer token is not a well-formed JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        candidates = [k for k in self.keys if alg in k.algorithms
                      and (kid is None or k.kid is None or k.kid == kid)]
        if not candidates:
            raise Unauthorized("The bearer token's algorithm or key id is not accepted")
        error: Unauthorized | None = None
        for candidate in candidates:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token, candidate.key, algorithms=[str(alg)], audience=self.audience,
                    issuer=self.issuer, leeway=self.leeway,
                    options={"require": self.required, "verify_aud": self.audience is not None},
                )
            except jwt.InvalidSignatureError:
                error = Unauthorized("The bearer token's signature does not verify")
                continue
            except jwt.PyJWTError as err:
                raise _explain(err) from None
            _check_numeric_dates(claims)
            if not isinstance(claims.get("sub"), str) or not claims["sub"].strip():
                raise Unauthorized("The bearer token's 'sub' claim is empty")
            return claims
        assert error is not None
        raise error


def _in_time(claims: dict[str, Any], leeway: int) -> bool:
    """Whether verified ``claims`` are still valid now: before ``exp`` and not before
    ``nbf``, with the leeway PyJWT applies."""
    now = time.time()
    return bool(claims["exp"] > now - leeway and claims.get("nbf", now) <= now + leeway)


def _check_numeric_dates(claims: dict[str, Any]) -> None:
    """``exp``, ``nbf`` and ``iat`` are NumericDates, JSON numbers (RFC 7519 §2, §4.1.4–6).
    PyJWT compares ``int()`` of them, so it took ``"exp": "9999999999"`` (or ``true``)."""
    for claim in NUMERIC_DATE_CLAIMS:
        if claim in claims and (isinstance(claims[claim], bool)
                                or not isinstance(claims[claim], int | float)):
            raise Unauthorized(f"The bearer token's '{claim}' claim is not a number "
                               "(a NumericDate)")


def _explain(err: jwt.PyJWTError) -> Unauthorized:
    if isinstance(err, jwt.ExpiredSignatureError):
        return Unauthorized("The bearer token has expired")
    if isinstance(err, jwt.ImmatureSignatureError):
        return Unauthorized("The bearer token is not valid yet (nbf/iat in the future)")
    if isinstance(err, jwt.InvalidAudienceError):
        return Unauthorized("The bearer token is not meant for this server (aud)")
    if isinstance(err, jwt.InvalidIssuerError):
        return Unauthorized("The bearer token comes from an issuer this server does not trust")
    if isinstance(err, jwt.MissingRequiredClaimError):
        return Unauthorized(f"The bearer token has no '{err.claim}' claim")
    if isinstance(err, jwt.DecodeError):
        return Unauthorized("The bearer token is not a well-formed JWT")
    return Unauthorized("The bearer token is not valid")


def make_verifier(settings: Settings) -> TokenVerifier | None:
    """The verifier for the settings, or None in open development mode. Refuses unreadable
    key files at start-up."""
    keys: list[VerificationKey] = []
    if settings.jwt_hs256_secret:
        keys.append(VerificationKey(settings.jwt_hs256_secret, ["HS256"]))
    if settings.jwt_public_key_file:
        keys.append(_pem_key(Path(settings.jwt_public_key_file)))
    if settings.jwks_file:
        keys += _jwks_keys(Path(settings.jwks_file))
    if not keys:
        return None
    return TokenVerifier(keys, settings.jwt_audience, settings.jwt_issuer)


def _pem_key(path: Path) -> VerificationKey:
    key = load_pem_public_key(path.read_bytes())
    if isinstance(key, rsa.RSAPublicKey):
        return VerificationKey(key, ["RS256"])
    if isinstance(key, ec.EllipticCurvePublicKey):
        algorithm = {"secp256r1": "ES256", "secp384r1": "ES384"}.get(key.curve.name)
        if algorithm:
            return VerificationKey(key, [algorithm])
    raise ValueError(f"JWT_PUBLIC_KEY_FILE {path}: only RSA and EC P-256/P-384 keys are supported")


def _jwks_keys(path: Path) -> list[VerificationKey]:
    keys = []
    for jwk in jwt.PyJWKSet.from_json(path.read_text()).keys:
        if jwk.public_key_use not in (None, "sig"):
            continue
        if jwk.algorithm_name not in ASYMMETRIC_ALGORITHMS:
            continue
        keys.append(VerificationKey(jwk.key, [jwk.algorithm_name], jwk.key_id))
    if not keys:
        raise ValueError(f"JWKS_FILE {path} holds no usable signing key (RS*/PS256/ES256/ES384)")
    return keys


def install(settings: Settings) -> TokenVerifier | None:
    """Build the verifier once per process (None: open mode, with a loud warning); the
    request hooks pass it to :func:`authenticate` and :func:`authorise`."""
    verifier = make_verifier(settings)
    if verifier is None:
        log.warning(
            "AUTHENTICATION IS OFF: no JWT_HS256_SECRET, JWT_PUBLIC_KEY_FILE or JWKS_FILE is "
            "set. Every caller is anonymous with every interaction allowed (protected "
            "identities stay masked). Development only — never run like this in production."
        )
    return verifier


def authenticate(verifier: TokenVerifier | None) -> Access:
    """The caller of the current request (raises 401 when a token is required and bad)."""
    if verifier is None:
        return ANONYMOUS
    if request.path in OPEN_PATHS or request.path.startswith(OPEN_PREFIXES):
        return Access(subject=None, see_protected=False, scopes=parse_scopes(None))
    declared = _requirement_of(_view())
    if declared is not None and declared.public:
        return Access(subject=None, see_protected=False, scopes=parse_scopes(None))
    header = request.headers.get("Authorization")
    if not header and request.path.startswith(CONSOLE_PREFIX):
        if _view() is None:  # no console page here: the 404 or the trailing-slash redirect
            return Access(subject=None, see_protected=False, scopes=parse_scopes(None))
        return console_access()
    if not header:
        raise Unauthorized("This server requires a bearer token (Authorization: Bearer …)",
                           error=None)
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized("The Authorization header must be 'Bearer <JWT>'",
                           error="invalid_request")
    claims = verifier.verify(token)
    scopes = parse_scopes(claims.get("scope") or claims.get("scp"))
    return Access(subject=claims["sub"], see_protected=scopes.protected_identity, scopes=scopes)


class LoginRequired(Unauthorized):
    """A console page asked for without a signed-in user: the console sends the browser to
    its login page instead of answering 401."""


def console_access() -> Access:
    """The signed-in console user (the Flask session the OpenID Connect login filled), with
    the same scopes as a token's ``scope`` claim. The session is honoured under
    ``/console`` only: a cookie never authenticates a FHIR API call."""
    from flask import session

    user = session.get(CONSOLE_SESSION_KEY)
    if not isinstance(user, dict) or not isinstance(user.get("sub"), str):
        raise LoginRequired("Logga in för att använda konsolen (Sign in to use the console)",
                            error=None)
    scopes = parse_scopes(str(user.get("scope") or ""))
    return Access(subject=user["sub"], see_protected=scopes.protected_identity, scopes=scopes)


def authorise(verifier: TokenVerifier | None) -> None:
    """Check the current view's declared requirement against ``g.access`` (403)."""
    if verifier is None:
        return  # open mode: anonymous may do everything (but see protected data)
    if request.path in OPEN_PATHS or request.path.startswith(OPEN_PREFIXES):
        return
    view = _view()
    if view is None:
        return  # no route: the 404/405 handler answers
    declared = _requirement_of(view)
    if declared is None:
        raise Forbidden("This route declares no permission and is closed")
    if declared.public or declared.resource_type is None:
        return
    resource_type = declared.resource_type
    if resource_type.startswith("<") and resource_type.endswith(">"):
        resource_type = str((request.view_args or {}).get(resource_type[1:-1], ""))
    check(resource_type, declared.requirement)


def _view() -> Callable[..., Any] | None:
    if request.endpoint is None:
        return None
    view: Callable[..., Any] | None = current_app.view_functions.get(request.endpoint)
    return view


def _requirement_of(view: Callable[..., Any] | None) -> Requirement | None:
    """The declaration on a view, looking through decorators that used functools.wraps."""
    seen = 0
    while view is not None and seen < 10:
        found = getattr(view, REQUIREMENT_ATTRIBUTE, None)
        if isinstance(found, Requirement):
            return found
        view = getattr(view, "__wrapped__", None)
        seen += 1
    return None


ACTIONS = {"read": "R", "vread": "R", "history-instance": "R", "history-type": "R",
           "create": "C", "update": "U", "patch": "U", "delete": "D"}


def audit_disclosures(response: Response) -> Response:
    """After a request: one AuditEvent (in a write transaction of its own) naming every
    protected Patient the response showed unmasked. If it cannot be written the response is
    replaced by a 500 — no unaudited disclosure leaves the server."""
    disclosed = disclosures()
    if not disclosed or response.status_code >= 400:
        return response
    subtype = interaction()
    access: Access = g.get("access", ANONYMOUS)
    try:
        run_write(current_app.extensions["sweid"].engine, lambda uow: audit_events.record(
            uow, access, ACTIONS.get(subtype, "E"), disclosed, "0", subtype))
    except Exception as err:  # noqa: BLE001 — fail closed, whatever went wrong
        from app.http.errors import unexpected_error_response

        return unexpected_error_response(err)
    return response
