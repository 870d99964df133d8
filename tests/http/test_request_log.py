"""The batched request log: lines wait in memory, then reach the file together — within a
second, as soon as enough wait, and on flush — with personnummer in paths redacted."""

from __future__ import annotations

import os
import time
from pathlib import Path

from app.http import request_log
from app.http.request_log import RequestLog
from tests.support import make_pnr


def _log(tmp_path: Path) -> tuple[RequestLog, Path]:
    path = tmp_path / "requests.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    return RequestLog(fd), path


def test_lines_wait_then_arrive_within_the_flush_interval(tmp_path: Path) -> None:
    log, path = _log(tmp_path)
    pnr = make_pnr()
    log.write("req-1", "GET", f"/fhir/Patient/{pnr}", 404, 0.0123)
    assert path.read_text() == ""  # buffered
    deadline = time.monotonic() + request_log.FLUSH_SECONDS * 3
    while not path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = path.read_text()
    assert line.endswith(f" req-1 GET /fhir/Patient/{pnr[:8]}**** 404 12.3ms\n")
    assert pnr not in line
    assert line[:24].endswith("Z") and line[10] == "T"  # UTC time with milliseconds


def test_a_full_buffer_and_flush_write_at_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(request_log, "MAX_BUFFERED", 150)  # ~60 bytes a line
    log, path = _log(tmp_path)
    for number in range(3):
        assert path.read_text() == ""
        log.write(f"req-{number}", "GET", "/fhir/metadata", 200, 0.001)
    assert path.read_text().count("\n") == 3  # the third line passes 150 bytes: all written
    log.write("req-last", "POST", "/fhir/Patient", 201, 0.002)
    log.flush()
    assert path.read_text().splitlines()[-1].split()[1:5] == ["req-last", "POST",
                                                                "/fhir/Patient", "201"]
