"""``MAX_BODY_BYTES``, enforced on the bytes actually read, whatever the framing.

werkzeug checks ``Content-Length`` against Flask's ``MAX_CONTENT_LENGTH``, but a chunked
body (``Transfer-Encoding: chunked``) has no length: werkzeug then reads through a
``LimitedStream`` that stops at the limit and returns what it has, so a 6 MB chunked body
reached the handlers cut at 5 MB — a create answered 400 "not valid JSON", a form search 200
on the truncated form (issue 14). :class:`BodyLimit` owns the limit instead: its
:class:`LimitedInput` raises :class:`~app.domain.errors.PayloadTooLarge` (413, an
OperationOutcome through the one error path) when a body declares more than the limit or
its byte ``limit + 1`` arrives.

A client such as ``requests`` sends its whole body before it reads the answer. gunicorn
drains at most 64 KiB of a body the application left unread and otherwise closes the
socket with data still unread, which resets the connection: the client never saw its 413.
So once the application has answered, :meth:`LimitedInput.discard_rest` reads and drops
what is left — up to :data:`DISCARD_UP_TO` bytes of body in all and for
:data:`DISCARD_SECONDS` — and the connection stays usable. A larger or slower body still
gets its 413 written, but gunicorn then closes the connection, as nginx does after its
``lingering_time``.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, BinaryIO

from werkzeug.wsgi import get_content_length

from app.domain.errors import InvalidRequest, PayloadTooLarge

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: A body over the limit is read and dropped up to this many bytes in all, so that its
#: client receives the 413; beyond it the connection is closed after the answer.
DISCARD_UP_TO = 64 * 1024 * 1024
#: ... and for at most this many seconds (a client trickling its body holds a thread).
DISCARD_SECONDS = 10.0
#: Bytes asked of the server per read.
READ_SIZE = 64 * 1024


class LimitedInput(io.RawIOBase):
    """``wsgi.input`` that never delivers more than ``limit`` bytes: a body that declares
    more, or whose byte ``limit + 1`` arrives, raises 413 instead of being cut short."""

    def __init__(self, stream: BinaryIO, limit: int, declared: int | None) -> None:
        self._stream = stream
        self.limit = limit
        #: The body's Content-Length (None when chunked).
        self.declared = declared
        #: Bytes read from the client so far (delivered or discarded).
        self.received = 0
        #: Whether the body's end was read.
        self.ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        if self.declared is not None and self.declared > self.limit:
            raise self._too_large()
        view = memoryview(buffer).cast("B")
        data = self._read(min(len(view), self.limit + 1 - self.received))
        if self.received > self.limit:
            raise self._too_large()
        view[:len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        """The rest of the body (``read()``), in reads of :data:`READ_SIZE` rather than
        io.RawIOBase's 8 KiB."""
        parts = []
        while data := self.read(READ_SIZE):
            parts.append(data)
        return b"".join(parts)

    def discard_rest(self) -> None:
        """Read and drop what the application left unread (see the module docstring)."""
        if self.declared is not None and self.declared > DISCARD_UP_TO:
            return
        deadline = time.monotonic() + DISCARD_SECONDS
        try:
            while (not self.ended and self.received <= DISCARD_UP_TO
                   and time.monotonic() < deadline):
                self._read(READ_SIZE)
        except InvalidRequest:
            return  # a broken body: gunicorn closes the connection

    def _read(self, size: int) -> bytes:
        if self.ended or size <= 0:
            return b""
        try:
            data = self._stream.read(size)
        except Exception:  # noqa: BLE001 - each server has its own (gunicorn: ParseException)
            raise InvalidRequest("The request body could not be read (broken chunked "
                                 "encoding or the client went away)") from None
        self.received += len(data)
        self.ended = not data
        return data

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body is larger than the server accepts "
                               f"({self.limit} bytes, MAX_BODY_BYTES)")


class BodyLimit:
    """WSGI middleware: requests with a body read it through :class:`LimitedInput`, and
    what the application leaves unread is discarded before the answer goes out."""

    def __init__(self, wsgi_app: WSGIApplication, limit: int) -> None:
        self.app = wsgi_app
        self.limit = limit

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        declared = get_content_length(environ)
        if not declared and "HTTP_TRANSFER_ENCODING" not in environ:
            return self.app(environ, start_response)  # no body (every GET): nothing to wrap
        body = LimitedInput(environ["wsgi.input"], self.limit, declared)
        environ["wsgi.input"] = body
        try:
            return self.app(environ, start_response)
        finally:
            body.discard_rest()
