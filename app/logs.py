"""What reaches a log: never the personal data a request or a record carries (style.md
"Masking and logs"), at any level.

Personal data cannot be recognised in general — a family name looks like any word — so the
rules keep it from being written at all, and a redaction of what has a shape is the net
under them:

* Requests are logged by method and path, never by query string (identifiers, names and
  phone numbers travel there): the request log (:mod:`app.http.request_log`) writes no
  query, and gunicorn's own lines lose it (:func:`safe_line`); a line about a request
  gunicorn could not parse keeps the kind of fault and drops the text it quotes.
* Exceptions are logged by type and stack, never by message (:func:`safe_traceback`): a
  message may quote anything — a database error its statement's parameters and the row it
  collided with, a ``KeyError`` its key, a validation error the value it refused.
* Every line then passes :func:`app.masking.redact` (personal-number shapes of every
  identity kind, e-mail addresses), as error texts do.

:class:`SafeLogFilter` applies them to every record; ``create_app`` puts it on the
handlers of the root logger, ``gunicorn_conf`` on gunicorn's own loggers, and the command
line (:func:`protect_command_line`) on its warnings and on what an uncaught exception
prints.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from types import TracebackType

from app.masking import redact

#: A URL or path with its query string: the query goes (a path may hold an id; the query
#: holds search values).
_QUERY = re.compile(r"(?P<target>/[^\s?#'\"]*)\?[^\s'\"]*")
#: gunicorn's line about a request it could not parse: "Invalid request from ip=…: <what>"
#: where <what> quotes the offending request line or header.
_UNPARSED = re.compile(r"^(?P<head>Invalid request from ip=\S*: )(?P<kind>[^:'\"(]*)")
WITHHELD = "message withheld: it may quote personal data"


def safe_line(text: str) -> str:
    """A log line without query strings, gunicorn's quotes of unparsable requests, or
    anything :func:`app.masking.redact` removes."""
    unparsed = _UNPARSED.match(text)
    if unparsed:
        text = f"{unparsed['head']}{unparsed['kind'].strip()}"
    return redact(_QUERY.sub(r"\g<target>?…", text))


def safe_traceback(error: BaseException) -> str:
    """The traceback of ``error`` and the exceptions it was raised from, each by type (and
    SQLSTATE for a database error) without its message."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__
                                        else current.__context__)
    parts: list[str] = []
    for position, item in enumerate(reversed(chain)):
        if position:
            parts.append("\nwhich led to\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(f"{_described(item)} ({WITHHELD})\n")
    return redact("".join(parts)).rstrip("\n")


def _described(error: BaseException) -> str:
    name = f"{type(error).__module__}.{type(error).__qualname__}"
    # SQLAlchemy keeps the driver's error as .orig; psycopg's errors carry the SQLSTATE.
    sqlstate = getattr(getattr(error, "orig", error), "sqlstate", None)
    return f"{name} [SQLSTATE {sqlstate}]" if isinstance(sqlstate, str) else name


class SafeLogFilter(logging.Filter):
    """Rewrites every record it sees by the rules above: the formatted message through
    :func:`safe_line`, an exception through :func:`safe_traceback`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = safe_line(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = safe_traceback(record.exc_info[1])
        elif record.exc_text:
            record.exc_text = safe_line(record.exc_text)
        record.exc_info = None
        if record.stack_info:
            record.stack_info = safe_line(record.stack_info)
        return True


def protect(logger: logging.Logger | logging.Handler) -> None:
    """Put one :class:`SafeLogFilter` on a logger or handler (once)."""
    if not any(isinstance(f, SafeLogFilter) for f in logger.filters):
        logger.addFilter(SafeLogFilter())


def configure(level: str) -> None:
    """The server's logging: unless a handler is already set up, the root logger at
    ``level`` (LOG_LEVEL) writing to stderr; every handler filtered."""
    root = logging.getLogger()
    if not root.handlers:  # under gunicorn (a program embedding the app keeps its own)
        logging.basicConfig(level=level.upper(),
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for handler in root.handlers:
        protect(handler)


def protect_command_line() -> None:
    """The command line's own outputs: warnings logged without a handler (Python's
    last-resort handler) and the traceback of an uncaught exception."""
    if logging.lastResort is not None:
        protect(logging.lastResort)
    sys.excepthook = _print_safe_traceback


def _print_safe_traceback(kind: type[BaseException], error: BaseException,
                          trace: TracebackType | None) -> None:
    print(safe_traceback(error.with_traceback(trace)), file=sys.stderr)
