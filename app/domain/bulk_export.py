"""FHIR Bulk Data Access IG (v2) ``$export``: the kick-off parameters, the job states and
the completion manifest (pure; README "Bulk export").

Supported: ``GET [base]/$export`` and ``GET [base]/Patient/$export`` with ``_type=Patient``
(the only type this server holds), ``_since`` (a FHIR instant: resources whose current
version was stored at or after it) and ``_outputFormat`` (``application/fhir+ndjson`` and
its IG aliases ``application/ndjson`` and ``ndjson``). Any other parameter is refused (400)
unless the client sent ``Prefer: handling=lenient``, when it is ignored; an unsupported
value of a supported parameter is always refused.

What is exported: the current version of every Patient that is not deleted, stored at or
before the job's ``transactionTime`` (the kick-off: a record changed later is left to the
next export with ``_since=transactionTime``). A merged-away Patient is exported as it is
stored (inactive, with its ``replaced-by`` link), so a receiving system learns the merge;
a deleted Patient is not exported (FHIR bulk output holds resources, not deletions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.errors import InvalidRequest
from app.domain.fhirdate import instant, parse_range

NDJSON = "application/fhir+ndjson"
#: What ``_outputFormat`` accepts: the IG's media type and its two abbreviations.
OUTPUT_FORMATS = frozenset({NDJSON, "application/ndjson", "ndjson"})
EXPORTED_TYPES = ("Patient",)
SUPPORTED_PARAMETERS = frozenset({"_type", "_since", "_outputFormat"})

# Job states. A job is ``queued`` until an exporter claims it, ``running`` while one holds
# its lease (or until another takes it over when the lease ran out), then ``completed``,
# ``failed`` or ``cancelled`` (DELETE on the status URL).
QUEUED = "queued"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
ACTIVE_STATES = (QUEUED, RUNNING)

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class ExportRequest:
    """What a kick-off asks for, checked."""

    types: tuple[str, ...]
    since: datetime | None


def parse_kickoff(params: list[tuple[str, str]], *, lenient: bool = False) -> ExportRequest:
    """Check the kick-off's query parameters (raises :class:`InvalidRequest`, 400).

    >>> parse_kickoff([("_type", "Patient"), ("_since", "2026-01-01T00:00:00Z")])
    ExportRequest(types=('Patient',), since=datetime.datetime(2026, 1, 1, 0, 0))
    >>> parse_kickoff([("_type", "Group")])
    Traceback (most recent call last):
    ...
    app.domain.errors.InvalidRequest: _type 'Group' is not supported; only Patient is exported
    """
    types: list[str] = []
    since: datetime | None = None
    seen: set[str] = set()
    for name, value in params:
        if name not in SUPPORTED_PARAMETERS:
            if lenient:
                continue
            raise InvalidRequest(f"$export parameter {name[:40]!r} is not supported (this "
                                 "server takes _type, _since and _outputFormat)")
        if name in seen and name != "_type":
            raise InvalidRequest(f"$export parameter {name} may be given once")
        seen.add(name)
        if name == "_outputFormat":
            if value not in OUTPUT_FORMATS:
                raise InvalidRequest(f"_outputFormat {value[:60]!r} is not supported; use "
                                     f"{NDJSON}")
        elif name == "_since":
            since = _since(value)
        else:
            types += _types(value)
    return ExportRequest(tuple(dict.fromkeys(types)) or EXPORTED_TYPES, since)


def _types(value: str) -> list[str]:
    wanted = [t.strip() for t in value.split(",")]
    for resource_type in wanted:
        if resource_type not in EXPORTED_TYPES:
            raise InvalidRequest(f"_type {resource_type[:40]!r} is not supported; only "
                                 "Patient is exported")
    return wanted


def _since(value: str) -> datetime:
    # A '+' of a time zone arrives as a space when the client did not percent-encode it.
    value = value.strip().replace(" ", "+")
    if not _INSTANT.match(value):
        raise InvalidRequest("_since must be a FHIR instant, e.g. 2026-01-01T00:00:00Z")
    try:
        return parse_range(value)[0]
    except ValueError:
        raise InvalidRequest("_since is not a real date and time") from None


@dataclass(frozen=True)
class OutputFile:
    """One NDJSON file of a completed job."""

    type: str
    name: str
    count: int


def file_name(resource_type: str, number: int) -> str:
    """The name of the ``number``-th file (from 1) of a type.

    >>> file_name("Patient", 2)
    'Patient-2.ndjson'
    """
    return f"{resource_type}-{number}.ndjson"


def manifest(*, transaction_time: datetime, request: str, files: list[OutputFile],
             file_url: str) -> dict[str, Any]:
    """The completion manifest (IG "Response - Complete Status"); ``file_url`` is the
    files' URL prefix. Output URLs need the same bearer token (``requiresAccessToken``)."""
    return {
        "transactionTime": instant(transaction_time),
        "request": request,
        "requiresAccessToken": True,
        "output": [{"type": f.type, "url": f"{file_url}/{f.name}", "count": f.count}
                   for f in files],
        "error": [],
    }


def progress_text(state: str, exported: int, total: int | None) -> str:
    """The ``X-Progress`` header of a job still running (the IG asks for a short text).

    >>> progress_text(RUNNING, 500, 2000)
    'running: 500 of 2000 resources (25 %)'
    """
    if state == QUEUED:
        return "queued"
    if not total:
        return f"running: {exported} resources"
    return f"running: {exported} of {total} resources ({100 * exported // total} %)"
