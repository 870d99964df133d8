"""Strings: folding for search (case- and accent-insensitive: Å→a, Ö→o, É→e) and the
characters a FHIR string may not hold."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

import orjson

#: FHIR R4 datatypes, string: "SHALL NOT contain Unicode character points below 32, except
#: for u0009 (horizontal tab), u000D (carriage return) and u000A (line feed)". PostgreSQL's
#: text cannot store U+0000 at all.
CONTROL_CHARACTERS_MESSAGE = ("FHIR strings may not contain control characters (U+0000 to "
                              "U+001F other than tab, line feed and carriage return)")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ENCODED_CONTROL = re.compile(r"%(?:0[0-8bcef]|1[0-9a-f])", re.IGNORECASE)


#: Strings remembered by :func:`remembered`: how many by default (~17 MiB for
#: :func:`fold`'s), and the longest remembered.
REMEMBERED_STRINGS = 1 << 16
REMEMBERED_LENGTH = 64
T = TypeVar("T")


def remembered(size: int = REMEMBERED_STRINGS) -> Callable[[Callable[[str], T]],
                                                    Callable[[str], T]]:
    """A decorator: the function (pure, of one string) with its results for up to ``size``
    short strings remembered, the least recently used forgotten first: names and places
    repeat across a population. A long string is computed every time, so that nobody can
    pin megabytes of text in a worker's memory through a request."""

    def decorate(function: Callable[[str], T]) -> Callable[[str], T]:
        cached = lru_cache(maxsize=size)(function)

        @wraps(function)
        def either(value: str) -> T:
            return cached(value) if len(value) <= REMEMBERED_LENGTH else function(value)

        either.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return either

    return decorate


@remembered()
def fold(value: str) -> str:
    """Lower-case ``value`` and strip diacritics, keeping letters, digits and spacing.

    >>> fold("Åsa Öberg-Élan")
    'asa oberg-elan'
    """
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def parse_json(text: bytes | str) -> Any:
    """A JSON text as every way in reads it (a request body, a line of a bulk load): strictly
    by RFC 8259, with orjson — no ``NaN`` or ``Infinity``, no lone surrogate, and a control
    character inside a string only as an escape. Raises ``ValueError``."""
    return orjson.loads(text)


def json_text(document: Any) -> bytes | None:
    """``document`` as compact JSON text, or None when it is not of JSON's types (a key
    that is not a string, an integer wider than 64 bits, a lone surrogate, nesting too
    deep): what a check that looks at the text first must then walk instead."""
    try:
        return orjson.dumps(document)
    except TypeError:
        return None


def has_control_characters(document: Any) -> bool:
    r"""True when a string anywhere in a parsed JSON document (keys too) holds a character
    a FHIR string may not.

    The document is written as JSON first (a few µs): a text without a backslash holds no
    such character, since JSON writes each as an escape. A document that cannot be written
    (not JSON's types) and one with a backslash are walked string by string.

    >>> has_control_characters({"name": [{"family": "A\x00b"}]})
    True
    >>> has_control_characters({"text": "line one\nline two\ttabbed"})
    False
    """
    text = json_text(document)
    if text is not None and b"\\" not in text:
        return False
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _CONTROL.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def has_encoded_control_characters(query: str) -> bool:
    """True when a percent-encoded query string or form body encodes such a character.

    >>> has_encoded_control_characters("family=a%00b")
    True
    >>> has_encoded_control_characters("address=Storgatan%201%0A123%2045")
    False
    """
    return _ENCODED_CONTROL.search(query) is not None
