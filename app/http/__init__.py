"""The Flask application factory: ``create_app()`` builds everything, nothing at import."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from inspect import CO_COROUTINE
from types import FunctionType, ModuleType
from typing import TYPE_CHECKING, Any

from flask import Flask, Request, Response, g, request
from flask_smorest import Api
from sqlalchemy import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

from app import console, logs
from app.adapters.db import make_engine
from app.adapters.replica import ReadRouting
from app.config import Settings
from app.domain.access import ANONYMOUS
from app.domain.errors import InvalidRequest
from app.domain.matching import SHIPPED, Model
from app.domain.matching.model import ModelError, ModelFile
from app.domain.text import CONTROL_CHARACTERS_MESSAGE, has_encoded_control_characters
from app.http import auth, landing, openapi_schemas, routing
from app.http.body_limit import BodyLimit
from app.http.errors import http_error_response, register_error_handlers
from app.http.fhir_io import response_type
from app.http.request_log import RequestLog
from app.http.trace_ids import trace_id
from app.masking import collect_disclosures


@dataclass
class Extension:
    """What the app holds for the request handlers."""

    engine: Engine
    #: Where reads go (the primary, or a current standby: READ_DATABASE_URL).
    reads: ReadRouting
    #: The $match model's file, reloaded when ``match fit`` rewrites it.
    match_model_file: ModelFile

    @property
    def match_model(self) -> Model:
        """The $match model in use."""
        return self.match_model_file.model


def _model_error(error: ModelError) -> None:
    logging.getLogger(__name__).error("$match model not reloaded, the one in use kept: %s",
                                      error)


class FhirFlask(Flask):
    """Flask with a cheaper ``ensure_sync`` for plain functions.

    Flask asks ``ensure_sync`` about every hook and view on every request (four times for a
    read: two hooks, flask-smorest's wrapper and the view), each time through
    ``inspect.iscoroutinefunction``. For a plain function that is one flag of its code
    object, read here directly; anything else goes to Flask's own check.
    """

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if type(func) is FunctionType and not func.__code__.co_flags & CO_COROUTINE:
            return func
        return super().ensure_sync(func)


class ForwardedHeaders:
    """Werkzeug's ProxyFix (one proxy's ``X-Forwarded-For/-Proto/-Host/-Port/-Prefix``),
    applied to the requests that carry one of those headers; the others go straight through
    instead of paying for ProxyFix's copy of the environment."""

    HEADERS = tuple(f"HTTP_X_FORWARDED_{name}" for name in ("FOR", "PROTO", "HOST", "PORT",
                                                             "PREFIX"))

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.direct = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        for header in self.HEADERS:
            if header in environ:
                return self.fixed(environ, start_response)
        return self.direct(environ, start_response)


class FhirApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with its HTTP error handler replaced by the OperationOutcome one,
    and without its catch-all ``default`` response: each route documents every status it
    gives (app.http.openapi_schemas)."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error: Any) -> Response:
        return http_error_response(error)


def operation_modules() -> list[ModuleType]:
    """The operation modules of ``app.operations.MODULES``, imported."""
    from app.operations import MODULES

    return [importlib.import_module(f"app.operations.{name}") for name in MODULES]


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI application."""
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)  # no personal data in any log line
    app = FhirFlask(__name__)
    app.config.update(
        SETTINGS=settings,
        API_TITLE="sweid-fhir",
        API_VERSION="0.1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        # Swagger UI's assets come from the swagger-ui-bundle package, served below:
        # /docs works without reaching a CDN.
        OPENAPI_SWAGGER_UI_URL="/swagger-ui/",
    )
    # MAX_BODY_BYTES is BodyLimit's, not Flask's MAX_CONTENT_LENGTH: werkzeug's limit cuts
    # a chunked body short instead of refusing it (app/http/body_limit.py).
    app.wsgi_app = BodyLimit(  # type: ignore[method-assign]
        ForwardedHeaders(app.wsgi_app), settings.max_body_bytes)
    engine = make_engine(settings.database_url)
    standby = make_engine(settings.read_database_url) if settings.read_database_url else None
    app.extensions["sweid"] = Extension(engine=engine, reads=ReadRouting(engine, standby),
                                        match_model_file=ModelFile(
                                            settings.match_model_file or SHIPPED,
                                            on_error=_model_error))
    api = FhirApi(app)
    routing.install(app, api)
    openapi_schemas.register(api.spec)
    from app.http import (
        audit_routes,
        conformance_routes,
        export_routes,
        health_routes,
        patient_routes,
        subscription_routes,
        system_routes,
    )

    api.register_blueprint(health_routes.blp)
    api.register_blueprint(system_routes.blp)
    api.register_blueprint(audit_routes.blp)
    api.register_blueprint(conformance_routes.blp)
    for module in operation_modules():
        api.register_blueprint(module.blp)
    api.register_blueprint(patient_routes.blp)
    api.register_blueprint(subscription_routes.blp)
    api.register_blueprint(export_routes.blp)
    # Last: its rule matches the resource types none of the rules above serves.
    api.register_blueprint(routing.other_types)
    register_error_handlers(app)
    landing.register(app)
    console.register(app, settings)
    _serve_swagger_ui_assets(app)
    verifier = auth.install(settings)
    request_log = RequestLog() if settings.request_log else None

    # The hooks run on every request: each looks the request and ``g`` up once (every use of
    # the ``request``/``g`` proxies is a context-variable lookup), and reads headers from the
    # WSGI environment (request.headers answers a missing header with a caught KeyError).
    @app.before_request
    def _start() -> None:
        state = g._get_current_object()
        current: Request = request._get_current_object()  # type: ignore[attr-defined]
        state.started = time.perf_counter()
        state.request_id = current.environ.get("HTTP_X_REQUEST_ID") or trace_id()
        state.access = ANONYMOUS
        collect_disclosures()
        state.access = auth.authenticate(verifier)  # 401
        auth.authorise(verifier)  # 403
        if current.path.startswith("/fhir"):
            # Settled once, before any work (406 when the client accepts nothing we write);
            # every response of the request then reuses it.
            state.media_type = response_type()
            if has_encoded_control_characters(current.environ.get("QUERY_STRING", "")):
                raise InvalidRequest(CONTROL_CHARACTERS_MESSAGE)

    @app.after_request
    def _finish(response: Response) -> Response:
        # An AuditEvent for every protected record this response shows unmasked.
        response = auth.audit_disclosures(response)
        state = g._get_current_object()
        request_id: str = getattr(state, "request_id", "")
        response.headers["X-Request-Id"] = request_id
        if request_log is not None:
            current: Request = request._get_current_object()  # type: ignore[attr-defined]
            request_log.write(request_id, current.method, current.path, response.status_code,
                              time.perf_counter() - getattr(state, "started", 0))
        return response

    return app


def _serve_swagger_ui_assets(app: Flask) -> None:
    """``/swagger-ui/<file>``: Swagger UI's JavaScript and CSS from swagger-ui-bundle."""
    from flask import send_from_directory
    from swagger_ui_bundle import swagger_ui_path

    def asset(filename: str) -> Response:
        return send_from_directory(swagger_ui_path, filename, max_age=86400)

    app.add_url_rule("/swagger-ui/<path:filename>", "swagger_ui_asset", asset)
