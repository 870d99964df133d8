"""Search parameters from the request, with the server's paging settings and ``Prefer``."""

from __future__ import annotations

from flask import current_app, request

from app.domain.search import SearchQuery, parse_search


def parse_query(pairs: list[tuple[str, str]]) -> SearchQuery:
    """Parse search parameters; ``Prefer: handling=strict`` refuses unknown ones."""
    # From the WSGI environment: request.headers answers a missing header with a caught
    # KeyError, and most searches carry no Prefer.
    strict = "handling=strict" in request.environ.get("HTTP_PREFER", "")
    settings = current_app.config["SETTINGS"]
    return parse_search(pairs, default_count=settings.default_page_size,
                        max_count=settings.max_page_size, strict=strict)


#: The parameters of a page: how many and from where.
PAGING_PARAMETERS = ("_count", "_offset")


def parse_paging(pairs: list[tuple[str, str]]) -> SearchQuery:
    """Only the paging parameters of ``pairs`` (history, AuditEvent and Provenance lists),
    checked and bounded as a search's."""
    return parse_query([(k, v) for k, v in pairs if k in PAGING_PARAMETERS])
