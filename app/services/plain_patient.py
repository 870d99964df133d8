"""The validated JSON of a *plain* Patient without building the library's model.

fhir.resources builds a pydantic model of every Patient and runs fhir_core's Python
validators on each of its elements: ~170 µs of a bulk load's ~450 µs of worker CPU per
Patient (issue 16), for records that are nearly all alike — identifiers, names, contact
points, addresses, a gender, a birth date, a security label. :func:`plain_patient`
checks such a record itself and writes what the library's validation and
:func:`app.services.fhir_json.canonical_json` would write (the same elements in FHIR
order, the same values) in about a seventh of the time.

It is a shortcut, never a second opinion: it answers only for the shapes in
:data:`PATIENT`, and for a value it checks more strictly than the library does (a code of
printable ASCII, a birth date of ``YYYY-MM-DD``, no empty element, no ``null``, no lone
surrogate). Anything
else — another element, a primitive extension (``_given``), a partial date, an unusual
character class, an invalid value — answers None, and
:func:`app.services.fhir_validation.validate_patient` asks the library, which accepts or
refuses it with its own messages. So every refusal still comes from the library, and
what is accepted here the library accepts with the same JSON:
``tests/services/test_plain_patient.py`` holds it to that on generated Patients with
adversarial values and on the example resources and synthetic populations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

#: Checks one element's value; returns the value to store or raises :class:`_NotPlain`.
_Check = Callable[[Any], Any]


class _NotPlain(Exception):
    """The record is not plain: the library decides."""


def plain_patient(data: dict[str, Any]) -> dict[str, Any] | None:
    """The canonical JSON dict of ``data`` when it is a plain Patient that the library
    accepts (new dicts and lists, elements in FHIR order); None when the library must
    decide."""
    try:
        result: dict[str, Any] = PATIENT(data)
    except _NotPlain:
        return None
    return result


# --- primitives: each accepts a subset of what its fhir_core type accepts -------------

#: A character that is certainly not whitespace to the library's pattern
#: ``[ \r\n\t\S]+`` (the space, tab, CR, LF or any letter, digit or ASCII sign).
_SHOWN = re.compile(r"[\w \t\r\n!-~]")
#: A lone surrogate (JSON readers refuse one; a dict built otherwise may hold one, and the
#: library then refuses the string it cannot write as UTF-8).
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Printable ASCII words separated by single spaces (``^[^\s]+(\s[^\s]+)*$`` allows more).
_CODE = re.compile(r"[!-~]+(?: [!-~]+)*")
#: Printable ASCII without spaces (the library's ``\S*`` takes any text).
_URI = re.compile(r"[!-~]+")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _string(value: Any) -> str:
    if (type(value) is not str or not _SHOWN.search(value)
            or (not value.isascii() and _SURROGATE.search(value))):
        raise _NotPlain
    return value


def _matching(pattern: re.Pattern[str]) -> _Check:
    """A text element whose whole value matches ``pattern``."""

    def matching(value: Any) -> str:
        if type(value) is not str or not pattern.fullmatch(value):
            raise _NotPlain
        return value

    return matching


_code = _matching(_CODE)
_uri = _matching(_URI)
_id = _matching(_ID)
_full_date = _matching(_DATE)


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise _NotPlain
    return value


def _date(value: Any) -> str:
    text: str = _full_date(value)
    try:
        date.fromisoformat(text)
    except ValueError:
        raise _NotPlain from None
    return text


# --- structure ---------------------------------------------------------------------------

def _many(check: _Check) -> _Check:
    """A repeating element: a non-empty list, no ``null`` items."""

    def many(value: Any) -> list[Any]:
        if type(value) is not list or not value:
            raise _NotPlain
        return [check(item) for item in value]

    return many


def _object(*elements: tuple[str, _Check]) -> _Check:
    """A complex element: a non-empty object of these elements (in FHIR order) only."""
    keys = frozenset(key for key, _ in elements)

    def object_(value: Any) -> dict[str, Any]:
        if type(value) is not dict or not value or not keys.issuperset(value):
            raise _NotPlain
        return {key: check(value[key]) for key, check in elements if key in value}

    return object_


def _resource_type(value: Any) -> str:
    if value != "Patient":
        raise _NotPlain
    return "Patient"


_CODING = _object(("system", _uri), ("version", _string), ("code", _code),
                  ("display", _string), ("userSelected", _boolean))
_META = _object(("security", _many(_CODING)), ("tag", _many(_CODING)))
_IDENTIFIER = _object(("use", _code), ("system", _uri), ("value", _string))
_HUMAN_NAME = _object(("use", _code), ("text", _string), ("family", _string),
                      ("given", _many(_string)), ("prefix", _many(_string)),
                      ("suffix", _many(_string)))
_CONTACT_POINT = _object(("system", _code), ("value", _string), ("use", _code))
_ADDRESS = _object(("use", _code), ("type", _code), ("text", _string),
                   ("line", _many(_string)), ("city", _string), ("district", _string),
                   ("state", _string), ("postalCode", _string), ("country", _string))

#: The plain Patient: these elements, in the order of R4's Patient, and nothing else.
PATIENT = _object(
    ("resourceType", _resource_type), ("id", _id), ("meta", _META),
    ("identifier", _many(_IDENTIFIER)), ("active", _boolean), ("name", _many(_HUMAN_NAME)),
    ("telecom", _many(_CONTACT_POINT)), ("gender", _code), ("birthDate", _date),
    ("deceasedBoolean", _boolean), ("address", _many(_ADDRESS)),
)
