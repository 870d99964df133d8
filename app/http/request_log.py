"""The request log: one line per request, written in batches.

A line holds the UTC time, the request id, the method, the path without its query string
(query strings carry identifiers, style.md "Masking and logs"), the status and the
milliseconds taken; the path is redacted like every log line (:func:`app.masking.redact`).

Why not the logging module for these lines: under gunicorn a ``log.info`` per request cost
~45 µs of worker CPU (a tenth of a read by id), half of it the logging machinery and half one
``write`` per line. Lines are therefore formatted here and written together, as nginx's
``access_log … buffer= flush=`` does: at least once a second (a background thread), as soon
as :data:`MAX_BUFFERED` bytes wait, and at exit — ~10 µs a request. A process killed with
SIGKILL loses at most its last second of request lines; nothing else depends on them
(AuditEvents are in the database; warnings and errors go through logging unbuffered).
``REQUEST_LOG=off`` turns the lines off.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
import time

from app.masking import redact

#: Write as soon as this many bytes of lines wait.
MAX_BUFFERED = 64 * 1024
#: Write at least this often (seconds) while lines wait.
FLUSH_SECONDS = 1.0


class RequestLog:
    """Buffers request lines and writes them to a file descriptor (stderr by default)."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stderr.fileno() if fd is None else fd
        self._lines: list[str] = []
        self._size = 0
        self._lock = threading.Lock()
        self._stamp_second = -1
        self._stamp = ""
        self._flusher: threading.Thread | None = None
        atexit.register(self.flush)

    def write(self, request_id: str, method: str, path: str, status: int,
              seconds: float) -> None:
        """Queue one request's line."""
        line = (f"{self._now()} {request_id} {method} {redact(path)} {status} "
                f"{seconds * 1000:.1f}ms\n")
        with self._lock:
            self._lines.append(line)
            self._size += len(line)
            full = self._size >= MAX_BUFFERED
            if self._flusher is None:  # started in the process that serves (after a fork)
                self._flusher = threading.Thread(target=self._flush_regularly, daemon=True,
                                                 name="request-log")
                self._flusher.start()
        if full:
            self.flush()

    def flush(self) -> None:
        """Write every queued line now."""
        with self._lock:
            lines, self._lines, self._size = self._lines, [], 0
        if lines:
            with contextlib.suppress(OSError):  # a closed or full log must not fail requests
                os.write(self.fd, "".join(lines).encode("utf-8", "replace"))

    def _flush_regularly(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def _now(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._stamp_second:  # one strftime a second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._stamp_second = second
        return f"{self._stamp}.{int(now % 1 * 1000):03d}Z"
