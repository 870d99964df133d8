"""OpenID Connect login of the console (Authlib). Used when the server requires
authentication (the API's JWT settings) and ``OIDC_ISSUER`` is set: the user signs in at the
provider, and the roles in the claim ``OIDC_ROLES_CLAIM`` (ID token or userinfo) become the
same SMART scopes an API token would carry (``OIDC_ROLE_SCOPES``), so the console's checks,
masking and audit are the API's own. The signed-in user is kept in the Flask session
(:data:`app.http.auth.CONSOLE_SESSION_KEY`), which only ``/console`` honours."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.integrations.flask_client import OAuth, OAuthError
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from app.config import Settings
from app.domain.limits import CONSOLE_MAX_ROLES
from app.http.auth import CONSOLE_SESSION_KEY, public

bp = Blueprint("console_login", __name__, url_prefix="/console")
NEXT_KEY = "console_next"
#: Seconds any call to the OpenID provider may take (metadata, token, userinfo).
PROVIDER_TIMEOUT_SECONDS = 10


def scopes_for(roles: Any, role_scopes: tuple[tuple[str, str], ...]) -> str:
    """The scope string the user's roles grant (a role without a mapping grants nothing).

    >>> scopes_for(["clerk", "x"], (("clerk", "system/Patient.rs"), ("p", "protected-identity")))
    'system/Patient.rs'
    """
    if isinstance(roles, str):
        roles = roles.split()
    if not isinstance(roles, list):
        return ""
    held = {str(role) for role in roles[:CONSOLE_MAX_ROLES]}
    words = [word for role, scopes in role_scopes if role in held for word in scopes.split()]
    return " ".join(dict.fromkeys(words))


def register(app: Flask, settings: Settings) -> None:
    """Install the login routes when OpenID Connect is configured."""
    if not (settings.oidc_issuer and settings.oidc_client_id):
        return
    oauth = OAuth(app)
    oauth.register(
        "console",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/")
        + "/.well-known/openid-configuration",
        # Every call to the provider is bounded: a hung provider must not hold a worker
        # (and a logout) until the request watchdog kills it.
        client_kwargs={"scope": "openid profile roles", "code_challenge_method": "S256",
                       "default_timeout": PROVIDER_TIMEOUT_SECONDS},
    )
    app.config["CONSOLE_OIDC"] = True
    app.register_blueprint(bp)


def _client() -> Any:
    return current_app.extensions["authlib.integrations.flask_client"].console


def _safe_next(target: str | None) -> str:
    """Only a console path of this server (never another host) to go back to."""
    if not target or urlsplit(target).netloc or not target.startswith("/console"):
        return url_for("console.search")
    return target


@bp.route("/logga-in", methods=["GET"])
@public
def login() -> Response:
    """Send the browser to the provider."""
    session[NEXT_KEY] = _safe_next(request.args.get("next"))
    redirect_uri = url_for("console_login.callback", _external=True)
    response: Response = _client().authorize_redirect(redirect_uri)
    return response


@bp.route("/inloggad", methods=["GET"])
@public
def callback() -> Any:
    """Back from the provider: check the code and ID token, map roles to scopes."""
    client = _client()
    try:
        token = client.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        claims.update(client.userinfo(token=token))
    except OAuthError as error:
        return render_template("error.html", headline="Inloggningen misslyckades",
                               message=str(error.description or error.error),
                               status=401), 401
    settings: Settings = current_app.config["SETTINGS"]
    session.pop(CONSOLE_SESSION_KEY, None)
    session[CONSOLE_SESSION_KEY] = {
        "sub": str(claims["sub"]),
        "name": str(claims.get("name") or claims["sub"])[:200],
        "scope": scopes_for(claims.get(settings.oidc_roles_claim), settings.oidc_role_scopes),
    }
    return redirect(session.pop(NEXT_KEY, None) or url_for("console.search"))


@bp.route("/logga-ut", methods=["POST"])
@public
def logout() -> Any:
    """Forget the signed-in user (a POST with the CSRF token, like every form), then send
    the browser to end the session at the provider too when it offers RP-initiated logout
    (OpenID Connect RP-Initiated Logout 1.0): on a shared workstation the next person to
    press "log in" would otherwise be signed in as the previous one without a password."""
    from flask_wtf.csrf import CSRFProtect

    csrf: CSRFProtect = current_app.extensions["csrf"]
    csrf.protect()
    session.clear()
    try:
        end_session = _client().load_server_metadata().get("end_session_endpoint")
    except Exception:  # noqa: BLE001 - the provider unreachable: the local logout stands
        end_session = None
    if not end_session:
        return render_template("logged_out.html", at_provider=False)
    # The client, not the ID token, names who asks (the spec allows either): the session
    # cookie is signed, not encrypted, and a provider's ID token may carry personal data.
    params = {"client_id": _client().client_id,
              "post_logout_redirect_uri": url_for("console_login.logged_out", _external=True)}
    return redirect(f"{end_session}{'&' if '?' in end_session else '?'}{urlencode(params)}")


@bp.route("/utloggad", methods=["GET"])
@public
def logged_out() -> str:
    """Where the provider sends the browser back after ending its session."""
    return render_template("logged_out.html", at_provider=True)
