"""How much one request may ask of the server (issue 14): every limit in one place.

A client could otherwise make one request occupy a worker for minutes — a Patient with
40,000 telecom entries, a Bundle or a search with thousands of parts. The limits are far
above what a person's record or an integration needs (README, "Limits"); a request over
one is refused before any work is done on it, with the element and the limit named.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from app.domain.errors import LimitExceeded

#: Items a repeating element of a Patient may hold, by path without positions
#: (``name.given`` is the given names of one name). ``_given`` (primitive extensions,
#: FHIR R4 §2.6.2) counts as ``given``.
MAX_REPEATS: dict[str, int] = {
    "identifier": 100,
    "name": 50,
    "name.given": 20,
    "name.prefix": 10,
    "name.suffix": 10,
    "telecom": 100,
    "address": 50,
    "address.line": 10,
    "link": 100,
    "extension": 100,
    "contact": 50,
    "communication": 50,
}
#: Items any other repeating element may hold (meta.security, contact.telecom, …).
DEFAULT_MAX_REPEATS = 100
#: Items all repeating elements of one Patient may hold together.
MAX_REPEATED_ITEMS = 2000
#: Entries of a batch or transaction Bundle.
MAX_BUNDLE_ENTRIES = 500
#: Parameters of one search (the query string or form: each name=value pair counts,
#: result parameters such as ``_count`` too).
MAX_SEARCH_PARAMETERS = 50
#: Comma-separated values one search parameter (or ``_sort``, ``_elements``) may carry; each
#: becomes an OR branch in SQL.
MAX_PARAMETER_VALUES = 100
#: Values of all the search parameters of one search together.
MAX_SEARCH_VALUES = 200
#: Seconds one request may occupy a worker unless ``TIMEOUT`` says otherwise
#: (app/gunicorn_conf.py): above SQLite's 30 s wait for the write lock (app/adapters/db.py).
DEFAULT_REQUEST_TIMEOUT = 60
#: ``channel.header`` lines one Subscription may carry, and the length of each.
MAX_SUBSCRIPTION_HEADERS = 10
MAX_SUBSCRIPTION_HEADER_LENGTH = 1000
#: Longest heartbeat period (seconds) a Subscription may ask for.
MAX_HEARTBEAT_SECONDS = 86_400
#: Events one ``Subscription/<id>/$events`` answer holds at most.
MAX_EVENTS_QUERY = 100
#: Subscriptions one ``GET /fhir/Subscription`` search answers at most.
MAX_SUBSCRIPTION_SEARCH = 1000
#: The staff console (app.console): records one search page shows, versions and audit events
#: the person page lists (newest first), records in one downtime pack, and roles read from
#: the OpenID Connect roles claim.
CONSOLE_MAX_RESULTS = 50
CONSOLE_MAX_HISTORY = 50
CONSOLE_MAX_PACK = 50
CONSOLE_MAX_ROLES = 50
#: ``$export`` jobs one owner (token ``sub``) may have queued or running at once (more: 429).
MAX_EXPORT_JOBS_PER_OWNER = 3
#: ``$export`` jobs queued or running on the whole server at once (more: 429).
MAX_EXPORT_JOBS = 20
#: Query parameters one ``$export`` kick-off may carry.
MAX_EXPORT_PARAMETERS = 10
#: Resources one NDJSON file of an export holds at most (EXPORT_FILE_MAX_RESOURCES may
#: lower it); more go to the next file.
MAX_EXPORT_FILE_RESOURCES = 100_000
#: Times an exporter starts one job without completing a file of it (a job whose exporter
#: died is taken over, going on after its last completed file); then it is failed.
MAX_EXPORT_ATTEMPTS = 3


def check_count(where: str, count: int, limit: int, what: str = "items") -> None:
    """Refuse (422) ``count`` items of the element ``where`` when it is more than ``limit``.

    >>> check_count("Bundle.entry", 501, MAX_BUNDLE_ENTRIES)
    Traceback (most recent call last):
    ...
    app.domain.errors.LimitExceeded: Bundle.entry has 501 items; this server accepts at most 500
    """
    if count > limit:
        raise LimitExceeded(f"{where} has {count} {what}; this server accepts at most {limit}",
                            expression=[where])


def check_repeats(resource: dict[str, Any], where: str = "Patient") -> None:
    """Refuse (422) a resource with a repeating element over its limit in
    :data:`MAX_REPEATS`, or with more than :data:`MAX_REPEATED_ITEMS` items in all.

    Runs on the parsed JSON before the FHIR model validates it (which takes seconds for
    tens of thousands of items); its own cost is one pass over the document. Breadth first:
    a long top-level list is named before whatever its items hold.

    >>> check_repeats({"name": [{"family": "Testsson", "given": ["Anna", "Eva"]}]})
    >>> check_repeats({"link": [{}] * 101})
    Traceback (most recent call last):
    ...
    app.domain.errors.LimitExceeded: Patient.link has 101 items; this server accepts at most 100
    """
    total = 0
    pending: deque[tuple[str, str, dict[str, Any]]] = deque([(where, "", resource)])
    while pending:
        location, path, node = pending.popleft()
        for key, value in node.items():
            if isinstance(value, dict):
                pending.append((f"{location}.{key}", f"{path}{key}.", value))
                continue
            if not isinstance(value, list):
                continue
            element = f"{path}{key.removeprefix('_')}"
            check_count(f"{location}.{key}", len(value),
                        MAX_REPEATS.get(element, DEFAULT_MAX_REPEATS))
            total += len(value)
            pending.extend((f"{location}.{key}[{position}]", f"{element}.", item)
                           for position, item in enumerate(value) if isinstance(item, dict))
    check_count(where, total, MAX_REPEATED_ITEMS, "items in its repeating elements together")
