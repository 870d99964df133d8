"""Settings, read from the environment once in ``create_app`` (never at import time)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from app.domain.limits import MAX_EXPORT_FILE_RESOURCES


@dataclass(frozen=True)
class Settings:
    """Every knob the server has; each maps to the environment variable in upper case."""

    database_url: str
    #: A PostgreSQL standby for reads (app.adapters.replica); None: all on the primary.
    read_database_url: str | None = None
    base_url: str | None = None
    max_body_bytes: int = 5 * 1024 * 1024
    default_page_size: int = 20
    max_page_size: int = 1000
    #: domain.md §3.4: "empty" (default) leaves an unknown birth date empty; "minus-120-years"
    #: uses today − 120 years for reserve identities generated without a birth date.
    unknown_birth_date_policy: str = "empty"
    #: NRID numbers per (birth date, sex, series) before rolling over to the next series;
    #: None = the real capacity. Only tests set this (to exercise rollover).
    reserve_series_capacity: int | None = None
    #: Authentication (api.md "Access control"). None of these set → open development mode.
    #: Shared HS256 secret (tests, development).
    jwt_hs256_secret: str | None = field(default=None, repr=False)
    #: PEM public key (RSA → RS256, EC P-256 → ES256) for production tokens.
    jwt_public_key_file: str | None = None
    #: Local JWKS JSON file (keys chosen by ``kid``); never downloaded.
    jwks_file: str | None = None
    #: Required ``aud`` / ``iss`` of tokens when set.
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    #: One line per request on stderr (app.http.request_log); REQUEST_LOG=off turns it off.
    request_log: bool = True
    #: IHE query audits (ITI-78, ITI-83, ITI-119; README "IHE PIXm and PDQm"): one
    #: AuditEvent per query, written on the primary; QUERY_AUDIT=on turns them on.
    query_audit: bool = False
    #: The $match model file (``python -m app match fit`` writes one); None = the shipped one.
    match_model_file: str | None = None
    #: The level of the app's log lines, and of gunicorn's (app.gunicorn_conf): LOG_LEVEL.
    log_level: str = "info"
    #: Subscriptions (api.md "Subscriptions", README "Subscriptions"). The URL prefixes a
    #: Subscription's endpoint must start with (SUBSCRIPTION_ENDPOINT_PREFIXES,
    #: comma-separated); none set: no endpoint is allowed.
    subscription_endpoint_prefixes: tuple[str, ...] = ()
    #: Whether each server worker runs a deliverer (SUBSCRIPTION_DELIVERY=off: none).
    subscription_delivery: bool = True
    #: Seconds a deliverer waits before it looks for work again when it found none.
    subscription_poll_seconds: float = 0.5
    #: Retries after a failed delivery wait this long, doubling up to the maximum.
    subscription_retry_base_seconds: float = 2.0
    subscription_retry_max_seconds: float = 300.0
    #: Failed deliveries in a row after which the status becomes ``error``.
    subscription_max_failures: int = 5
    #: Seconds one POST to an endpoint may take.
    subscription_timeout_seconds: float = 10.0
    #: Seconds a deliverer holds a subscription (longer than the timeout); one that dies
    #: mid-send frees it when this runs out.
    subscription_lease_seconds: float = 60.0
    #: Events at most in one notification.
    subscription_batch_size: int = 20
    #: Bulk Data ``$export`` (README "Bulk export"). Where the NDJSON files are written
    #: (EXPORT_DIRECTORY; every server instance on one database must see the same one).
    export_directory: str = "var/export"
    #: Seconds the files of a finished job stay downloadable; then they and the job go.
    export_retention_seconds: float = 3600.0
    #: Whether each server worker runs an exporter (EXPORT_WORKER=off: none).
    export_worker: bool = True
    #: Seconds an exporter waits before it looks for work again when it found none.
    export_poll_seconds: float = 1.0
    #: Seconds an exporter holds a job between two pages; one that dies frees it when
    #: this runs out, and another takes the job over after its last completed file.
    export_lease_seconds: float = 30.0
    #: Patients read per database query while exporting.
    export_page_size: int = 1000
    #: Resources per NDJSON file (at most app.domain.limits.MAX_EXPORT_FILE_RESOURCES).
    export_file_max_resources: int = MAX_EXPORT_FILE_RESOURCES
    #: The ``Retry-After`` (seconds) of a status answer while the job runs.
    export_retry_after_seconds: int = 2

    #: Signs the console's session and CSRF tokens (CONSOLE_SECRET_KEY). Unset: a random key
    #: per server start (app.gunicorn_conf sets one before the workers fork, so they share it).
    console_secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32),
                                    repr=False)
    #: OpenID Connect login of the console (app.console.login); unset: no login page (open
    #: development mode lets everyone in, a configured API lets bearer tokens in).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    #: The ID token / userinfo claim that holds the user's roles, and ROLE=scopes pairs
    #: (OIDC_ROLE_SCOPES="clerk=system/Patient.cruds;privileged=protected-identity").
    oidc_roles_claim: str = "roles"
    oidc_role_scopes: tuple[tuple[str, str], ...] = ()

    @property
    def auth_configured(self) -> bool:
        """Whether tokens are required (False: open development mode)."""
        return bool(self.jwt_hs256_secret or self.jwt_public_key_file or self.jwks_file)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from ``os.environ`` (or the mapping given, for tests)."""
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("DATABASE_URL") or default_database_url(),
            read_database_url=_optional(env, "READ_DATABASE_URL"),
            base_url=(env.get("BASE_URL") or "").rstrip("/") or None,
            max_body_bytes=int(env.get("MAX_BODY_BYTES", cls.max_body_bytes)),
            default_page_size=int(env.get("DEFAULT_PAGE_SIZE", cls.default_page_size)),
            max_page_size=int(env.get("MAX_PAGE_SIZE", cls.max_page_size)),
            unknown_birth_date_policy=_policy(env.get("UNKNOWN_BIRTH_DATE_POLICY")),
            reserve_series_capacity=int(env["RESERVE_SERIES_CAPACITY"])
            if env.get("RESERVE_SERIES_CAPACITY") else None,
            jwt_hs256_secret=env.get("JWT_HS256_SECRET") or None,
            jwt_public_key_file=_optional(env, "JWT_PUBLIC_KEY_FILE"),
            jwks_file=_optional(env, "JWKS_FILE"),
            jwt_audience=_optional(env, "JWT_AUDIENCE"),
            jwt_issuer=_optional(env, "JWT_ISSUER"),
            request_log=_switch(env.get("REQUEST_LOG")),
            query_audit=_switch(env.get("QUERY_AUDIT") or "off"),
            match_model_file=_optional(env, "MATCH_MODEL_FILE"),
            log_level=_text(env, "LOG_LEVEL", cls.log_level),
            subscription_endpoint_prefixes=tuple(
                p.strip() for p in (env.get("SUBSCRIPTION_ENDPOINT_PREFIXES") or "").split(",")
                if p.strip()),
            subscription_delivery=_switch(env.get("SUBSCRIPTION_DELIVERY")),
            subscription_poll_seconds=float(env.get("SUBSCRIPTION_POLL_SECONDS",
                                                    cls.subscription_poll_seconds)),
            subscription_retry_base_seconds=float(env.get(
                "SUBSCRIPTION_RETRY_BASE_SECONDS", cls.subscription_retry_base_seconds)),
            subscription_retry_max_seconds=float(env.get(
                "SUBSCRIPTION_RETRY_MAX_SECONDS", cls.subscription_retry_max_seconds)),
            subscription_max_failures=int(env.get("SUBSCRIPTION_MAX_FAILURES",
                                                  cls.subscription_max_failures)),
            subscription_timeout_seconds=float(env.get("SUBSCRIPTION_TIMEOUT_SECONDS",
                                                       cls.subscription_timeout_seconds)),
            subscription_lease_seconds=float(env.get("SUBSCRIPTION_LEASE_SECONDS",
                                                     cls.subscription_lease_seconds)),
            subscription_batch_size=int(env.get("SUBSCRIPTION_BATCH_SIZE",
                                                cls.subscription_batch_size)),
            console_secret_key=env.get("CONSOLE_SECRET_KEY") or secrets.token_urlsafe(32),
            oidc_issuer=_optional(env, "OIDC_ISSUER"),
            oidc_client_id=_optional(env, "OIDC_CLIENT_ID"),
            oidc_client_secret=_optional(env, "OIDC_CLIENT_SECRET"),
            oidc_roles_claim=_text(env, "OIDC_ROLES_CLAIM", cls.oidc_roles_claim),
            oidc_role_scopes=_role_scopes(env.get("OIDC_ROLE_SCOPES")),
            export_directory=_text(env, "EXPORT_DIRECTORY", cls.export_directory),
            export_retention_seconds=float(env.get("EXPORT_RETENTION_SECONDS",
                                                   cls.export_retention_seconds)),
            export_worker=_switch(env.get("EXPORT_WORKER")),
            export_poll_seconds=float(env.get("EXPORT_POLL_SECONDS", cls.export_poll_seconds)),
            export_lease_seconds=float(env.get("EXPORT_LEASE_SECONDS",
                                               cls.export_lease_seconds)),
            export_page_size=int(env.get("EXPORT_PAGE_SIZE", cls.export_page_size)),
            export_file_max_resources=min(MAX_EXPORT_FILE_RESOURCES, int(env.get(
                "EXPORT_FILE_MAX_RESOURCES", cls.export_file_max_resources))),
            export_retry_after_seconds=int(env.get("EXPORT_RETRY_AFTER_SECONDS",
                                                   cls.export_retry_after_seconds)),
        )


UNKNOWN_BIRTH_DATE_POLICIES = ("empty", "minus-120-years")


def _role_scopes(value: str | None) -> tuple[tuple[str, str], ...]:
    """``role=scope scope;role2=scope`` → ((role, scopes), …)."""
    pairs = []
    for item in (value or "").split(";"):
        role, sep, scopes = item.partition("=")
        if sep and role.strip():
            pairs.append((role.strip(), " ".join(scopes.split())))
    return tuple(pairs)


def _switch(value: str | None) -> bool:
    """An on/off setting, on unless it says off, 0, false or no."""
    return (value or "on").strip().lower() not in ("off", "0", "false", "no")


def _policy(value: str | None) -> str:
    policy = (value or "empty").strip().lower()
    if policy not in UNKNOWN_BIRTH_DATE_POLICIES:
        raise ValueError(
            f"UNKNOWN_BIRTH_DATE_POLICY must be one of {', '.join(UNKNOWN_BIRTH_DATE_POLICIES)}"
        )
    return policy


def default_database_url() -> str:
    """The embedded default: an SQLite file under ``./var/`` of the working directory."""
    Path("var").mkdir(exist_ok=True)
    return "sqlite:///" + str(Path("var/fhir.db").resolve())


def _optional(env: dict[str, str], name: str) -> str | None:
    """The setting ``name``; unset or empty: None."""
    return env.get(name) or None


def _text(env: dict[str, str], name: str, default: str) -> str:
    """The setting ``name``; unset or empty: ``default``."""
    return env.get(name) or default
