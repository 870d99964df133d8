"""The staff console: the identity routines (find, register, link, downtime) as server-rendered
pages under ``/console`` (Flask + Jinja2, plain forms, no JavaScript needed, assets served from
this package). Every page calls the same services as the FHIR API (app.services), so rules,
masking (:func:`app.masking.present_dict`) and audit are the API's own."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from app.config import Settings


def register(app: Flask, settings: Settings) -> None:
    """Serve the console under ``/console`` with CSRF protection on every form.

    CSRF covers the console only: the FHIR API takes bearer tokens, not cookies, and its
    POSTs are exempt (``WTF_CSRF_CHECK_DEFAULT`` off; the console's views check)."""
    from app.console import login, views

    app.config.update(
        SECRET_KEY=settings.console_secret_key,
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="sweid_console",
    )
    CSRFProtect(app)
    app.register_blueprint(views.bp)
    login.register(app, settings)
