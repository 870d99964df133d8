"""gunicorn settings from the environment: PORT, WORKERS, HOST, THREADS, TIMEOUT,
GRACEFUL_TIMEOUT, LOG_LEVEL.

Threads (gthread workers) by default: a request spends much of its time waiting for the
database (a commit waits for the disk), and threads let one worker overlap those waits.

``TIMEOUT`` seconds (default :data:`app.domain.limits.DEFAULT_REQUEST_TIMEOUT`) is as long
as one request may occupy a worker. gunicorn's own ``timeout`` does not see to that for
gthread workers: it kills a worker whose main loop stops reporting, and that loop keeps
reporting while a request thread computes for minutes (issue 14). So each worker runs a
:class:`RequestWatchdog` as well.

gunicorn's own log lines pass the same filter as the app's (:class:`SafeLogger`,
:mod:`app.logs`): they quote request lines and exceptions, which may hold personal data.

On SIGTERM gunicorn stops accepting connections and its workers finish the requests they
have (kept-alive connections are closed after at most 2 s), for at most ``GRACEFUL_TIMEOUT``
seconds (default 30, gunicorn's own); a worker still busy then is killed, and the write
transaction it was in is rolled back by the database — each write is one transaction, so
nothing is left half-written (tests/e2e/test_graceful_shutdown.py).

What gunicorn answers itself — a request it cannot parse or that is over its limits — is an
OperationOutcome too, never its HTML page (issue 15): the workers are :class:`FhirWorker`.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from typing import Any

from gunicorn.glogging import Logger
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import ThreadWorker

from app.domain.limits import DEFAULT_REQUEST_TIMEOUT
from app.logs import protect

# The console's session and CSRF key, when none is configured: one random key set here, in
# the master before the workers fork, so that every worker signs and checks with the same.
os.environ.setdefault("CONSOLE_SECRET_KEY", secrets.token_urlsafe(32))

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WORKERS", "2"))
threads = int(os.environ.get("THREADS", "4"))
timeout = int(os.environ.get("TIMEOUT", DEFAULT_REQUEST_TIMEOUT))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# The longest request line gunicorn accepts (its maximum, 0 would mean no limit at all);
# longer URLs get 414 with an OperationOutcome that points at POST _search.
limit_request_line = 8190


class SafeLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with its error and access lines made safe (app.logs): no query
    string, no quote of a request it could not parse, no exception message."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        protect(self.error_log)
        protect(self.access_log)


logger_class = SafeLogger


# One header line may hold up to 32 KiB (gunicorn's default is 8 KiB): a bearer token with
# many scopes or claims fits; larger, or more than gunicorn's 100 header fields, gets 431.
limit_request_field_size = 32768
limit_request_fields = 100
worker_class = "app.gunicorn_conf.FhirWorker"
#: A worker that ends itself for an overrun request (any code but gunicorn's 3 and 4, which
#: stop the whole server).
OVERRUN_EXIT_CODE = 1


class RequestWatchdog:
    """Ends the worker process when one of its requests has run longer than ``limit``
    seconds; gunicorn then starts a fresh worker. A thread cannot be stopped from outside,
    so the whole worker goes, as gunicorn's sync workers do on their timeout: the other
    requests it is serving at that moment lose their connections too, and a write
    transaction in progress is rolled back by the database."""

    def __init__(self, limit: float, log: Any) -> None:
        self.limit = limit
        self.log = log
        #: Thread id → (monotonic start, "METHOD path") of each request being served.
        self.running: dict[int, tuple[float, str]] = {}

    def begin(self, method: str, path: str) -> None:
        """The current thread starts serving a request (no query string: it may hold
        personal numbers)."""
        self.running[threading.get_ident()] = (time.monotonic(), f"{method} {path}")

    def end(self) -> None:
        """The current thread is done with its request."""
        self.running.pop(threading.get_ident(), None)

    def start(self) -> None:
        """Watch from a daemon thread, checking a few times within each ``limit``."""
        threading.Thread(target=self._watch, name="request-watchdog", daemon=True).start()

    def _watch(self) -> None:
        interval = min(1.0, self.limit / 4)
        while True:
            time.sleep(interval)
            now = time.monotonic()
            # dict.copy() is atomic under the GIL; the request threads change the dict.
            for started, request in self.running.copy().values():
                if now - started > self.limit:
                    self.log.critical("%s ran longer than %g s; worker %d exits so that "
                                      "gunicorn starts a fresh one", request, self.limit,
                                      os.getpid())
                    os._exit(OVERRUN_EXIT_CODE)


def post_worker_init(worker: Any) -> None:
    """gunicorn hook, in each worker process: start its watchdog, its Subscription
    deliverer (app.services.delivery) and its Bulk Data exporter
    (app.services.bulk_export); the workers share that work through the database."""
    from app.config import Settings
    from app.services import bulk_export, delivery

    worker.request_watchdog = RequestWatchdog(timeout, worker.log)
    worker.request_watchdog.start()
    settings = Settings.from_env()
    delivery.start(settings)
    bulk_export.start(settings)


#: Paths the watchdog leaves alone: a Bulk Data file download streams a file from disk
#: (no work for the worker, however long a big file takes to reach a slow client).
UNWATCHED_PATHS = ("/fhir/$export-file/",)


def pre_request(worker: Any, req: Any) -> None:
    """gunicorn hook, in the request's thread before the app runs."""
    if not req.path.startswith(UNWATCHED_PATHS):
        worker.request_watchdog.begin(req.method, req.path)


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """gunicorn hook, in the request's thread after the response was sent."""
    worker.request_watchdog.end()


class FhirWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker, answering what gunicorn answers itself with an
    OperationOutcome (:mod:`app.http.protocol_errors`) instead of an HTML page. Its log line
    names the kind of error only: gunicorn's own would quote the request line, whose query
    string may hold a personnummer."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        from app.http.protocol_errors import protocol_error_response

        status, response = protocol_error_response(exc)
        if status >= 500:
            self.log.exception("Error handling a request", exc_info=exc)
        else:
            self.log.warning("Refused a request with %d: %s", status, type(exc).__name__)
        try:
            write_nonblock(client, response)
        except OSError:
            self.log.debug("Failed to send the error response")
