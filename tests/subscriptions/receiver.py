"""A real rest-hook receiver for the Subscription tests:
``python receiver.py PORT FILE [SECONDS]``.

Each POST it gets is appended to FILE as one JSON line (its body, and its ``Authorization``
header when there was one) and answered 200 (after SECONDS, when given: a slow endpoint).
Run as its own process so that a test can stop it (the endpoint is down) and start it again
on the same port.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    """Append every notification to the file, answer 200."""

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if len(sys.argv) > 3:
            time.sleep(float(sys.argv[3]))
        line = json.dumps({"authorization": self.headers.get("Authorization"),
                           "content_type": self.headers.get("Content-Type"),
                           "body": json.loads(body)})
        with open(sys.argv[2], "a", encoding="utf-8") as out:
            out.write(line + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("listening", flush=True)
    server.serve_forever()
