"""Junk fed to every kind (python-stdnum's ``test_robustness.doctest``, style.md).

``validate`` and ``normalise`` may raise only ValidationError; ``is_valid`` never raises.
"""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.identity import KINDS, ValidationError, candidate_values, normalise_identifier
from app.identity.base import IdentityKind

TODAY = date(2024, 1, 17)

JUNK: list[object] = [
    "",
    " ",
    "-",
    "+",
    None,
    0,
    196512073245,
    3.5,
    b"196512073245",
    bytearray(b"x"),
    ["196512073245"],
    {"value": "196512073245"},
    "١٢٣",
    "١٩٦٥١٢٠٧٣٢٤٥",
    "１９６５１２０７３２４５",
    "19651207３245",
    "x" * 10_000,
    "1" * 100_000,
    "\x00" * 12,
    "19651207\n3245",
    "\t196512073245\r\n",
    "19651207-32-45",
    "-----------",
    "+++++++++++",
    "ßßßßßßßßßßßß",
    "ﬀﬀﬀﬀﬀﬀ",
    "\ud800",
    "🙂" * 12,
    "000000000000",
    "99999999999999999999",
    "0000-",
    "651207+",
    "+651207-3245",
]

KIND_IDS = [kind.CODE for kind in KINDS]


def check(kind: IdentityKind, junk: object) -> None:
    assert isinstance(kind.is_valid(junk), bool)  # type: ignore[arg-type]
    assert isinstance(kind.is_valid(junk, today=TODAY), bool)  # type: ignore[arg-type]
    for call in (kind.validate, kind.normalise, kind.describe):
        for today in (None, TODAY):
            try:
                result = call(junk, today=today)  # type: ignore[arg-type]
            except ValidationError as error:
                assert error.rule in {"length", "format", "checksum", "component"}
                if isinstance(junk, str) and sum(c in "0123456789" for c in junk) >= 6:
                    # Messages never echo the number (errors.py).
                    assert junk.strip() not in error.message
            else:
                assert result is not None
    with contextlib.suppress(ValidationError):
        kind.format(junk)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("junk", JUNK, ids=range(len(JUNK)))
def test_junk_raises_only_validation_errors_and_is_valid_never_raises(
    kind: IdentityKind, junk: object
) -> None:
    check(kind, junk)


@settings(max_examples=150)
@given(st.one_of(st.text(max_size=30), st.binary(max_size=13), st.integers(), st.none()))
def test_random_junk_never_escapes_as_anything_but_validation_error(junk: object) -> None:
    for kind in KINDS:
        check(kind, junk)


@settings(max_examples=100)
@given(st.text(alphabet="0123456789-+ABCDFGHKMXSTRZ ", min_size=8, max_size=14))
def test_near_miss_text_never_escapes_as_anything_but_validation_error(junk: str) -> None:
    for kind in KINDS:
        check(kind, junk)
    assert junk in candidate_values(junk, TODAY)


@pytest.mark.parametrize("junk", JUNK, ids=range(len(JUNK)))
def test_registry_normalise_identifier_raises_only_validation_errors(junk: object) -> None:
    for system in (None, "urn:oid:1.2.3", *(kind.SYSTEM for kind in KINDS)):
        with contextlib.suppress(ValidationError):
            normalise_identifier(system, junk, TODAY)  # type: ignore[arg-type]
    assert isinstance(candidate_values(junk, TODAY), set)  # type: ignore[arg-type]
