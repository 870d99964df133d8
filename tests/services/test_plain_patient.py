"""``plain_patient`` is a shortcut of the library's validation, never a second opinion
(app/services/plain_patient.py): whatever it accepts, the library accepts with the same
JSON, key order included; it accepts the records a population register sends."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest
from fhir.resources.R4B.patient import Patient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.errors import InvalidRequest
from app.services.fhir_validation import _validated, validate_patient
from app.services.plain_patient import plain_patient
from bench.load_bench import population
from bench.swedish_population import generate
from tests.services.test_fhir_json import EXAMPLES, ODD_SHAPES


def text(resource: dict[str, Any]) -> str:
    return json.dumps(resource, ensure_ascii=False)


def library(resource: dict[str, Any]) -> dict[str, Any]:
    """The library's answer alone (the model and its dump)."""
    return _validated(Patient, resource)


def assert_agrees(resource: dict[str, Any]) -> bool:
    """The shortcut's answer, if any, is the library's; whether it answered."""
    plain = plain_patient(resource)
    if plain is None:
        return False
    assert text(plain) == text(library(resource))
    return True


# Values chosen to sit on either side of each primitive type's rules: whitespace the
# library's patterns do and do not count, empty text, impossible dates, codes with double
# or edge spaces, strings that look like other types.
TRICKY = [
    "", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2028", "\u2029", "\u3000", "\x1c", "\x85",
    "\u200b", "a", " a", "a ", "a  b", "a b", "a\tb", "a\u00a0b", "Å", "_", "-", ".", "é\u0301",
    "true", "1", "male", "female", "urn:oid:1.2.752.129.2.1.3.1", "http://x/y z",
    "1988", "1988-02", "1988-02-29", "1988-02-30", "2000-02-29", "0000-01-01", "0001-01-01",
    "1988-13-01", "1988-1-01", "19880120", "1988-01-20T10:00:00Z", "+1988-01-20",
    "A" * 64, "A" * 65, "a/b", "a_b", "a b c", "a\ud800", "\udc00a",
]
_TRICKY = st.sampled_from(TRICKY)
_STRING = st.one_of(_TRICKY, st.text(max_size=6),
                    st.text(alphabet="ab -.\u00a0\t", min_size=1, max_size=5))
_WRONG = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.floats(0, 1),
                   st.just([]), st.just({}), st.just(["a"]), st.just({"a": "b"}))


def primitive(kind: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a value of the element's kind, sometimes of the wrong one."""
    return st.one_of(kind, kind, kind, _WRONG)


def repeated(item: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A repeating element: usually a list (sometimes empty or with a null), sometimes not."""
    return st.one_of(st.lists(item, min_size=1, max_size=3),
                     st.lists(st.one_of(item, st.none()), max_size=3), _WRONG)


def obj(elements: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Some of these elements, in a random order, now and then one the type lacks."""
    extra = st.sampled_from(["id", "extension", "period", "_value", "fhir_comments", "x"])

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        keys = draw(st.lists(st.sampled_from(sorted(elements)), unique=True,
                             max_size=len(elements)))
        value = {key: draw(elements[key]) for key in keys}
        if draw(st.integers(0, 9)) == 0:
            value[draw(extra)] = draw(_STRING)
        return value

    return st.one_of(build(), build(), build(), _WRONG)


_BOOL = primitive(st.one_of(st.booleans(), st.sampled_from(["true", 1, 0])))
_STR = primitive(_STRING)
_CODING = obj({"system": _STR, "version": _STR, "code": _STR, "display": _STR,
               "userSelected": _BOOL})
ELEMENTS: dict[str, st.SearchStrategy[Any]] = {
    "id": _STR,
    "meta": obj({"security": repeated(_CODING), "tag": repeated(_CODING),
                 "versionId": _STR, "source": _STR}),
    "identifier": repeated(obj({"use": _STR, "system": _STR, "value": _STR,
                                "type": obj({"text": _STR})})),
    "active": _BOOL,
    "name": repeated(obj({"use": _STR, "text": _STR, "family": _STR,
                          "given": repeated(_STR), "prefix": repeated(_STR),
                          "suffix": repeated(_STR)})),
    "telecom": repeated(obj({"system": _STR, "value": _STR, "use": _STR,
                             "rank": primitive(st.integers(-1, 3))})),
    "gender": _STR,
    "birthDate": _STR,
    "deceasedBoolean": _BOOL,
    "deceasedDateTime": _STR,
    "address": repeated(obj({"use": _STR, "type": _STR, "text": _STR, "line": repeated(_STR),
                             "city": _STR, "district": _STR, "state": _STR,
                             "postalCode": _STR, "country": _STR})),
    "multipleBirthBoolean": _BOOL,
    "_gender": obj({"id": _STR}),
}


@st.composite
def patients(draw: st.DrawFn) -> dict[str, Any]:
    """Patients near the plain shape: elements in any order, adversarial values."""
    keys = draw(st.lists(st.sampled_from(sorted(ELEMENTS)), unique=True, max_size=8))
    resource: dict[str, Any] = {"resourceType": draw(st.sampled_from(
        ["Patient", "Patient", "Patient", "Person"]))}
    for key in keys:
        resource[key] = draw(ELEMENTS[key])
    return resource


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients())
def test_what_the_shortcut_accepts_the_library_accepts_with_the_same_json(resource):
    assert_agrees(resource)


_WORD = st.text(alphabet="abcÅö -.1", min_size=1, max_size=6).filter(str.strip)
_CODE = st.sampled_from(["male", "female", "home", "official", "a-b", "x y", "A.1"])
_URI = st.sampled_from(["urn:oid:1.2.752.129.2.1.3.1", "http://x/y", "phone", "a"])
_PLAIN_CODING = st.fixed_dictionaries({"code": _CODE}, optional={
    "system": _URI, "version": _WORD, "display": _WORD, "userSelected": st.booleans()})
_PLAIN_ELEMENTS: dict[str, st.SearchStrategy[Any]] = {
    "id": st.text(alphabet="aZ09-.", min_size=1, max_size=64),
    "meta": st.fixed_dictionaries({}, optional={
        "security": st.lists(_PLAIN_CODING, min_size=1, max_size=2),
        "tag": st.lists(_PLAIN_CODING, min_size=1, max_size=2)}).filter(bool),
    "identifier": st.lists(st.fixed_dictionaries({"value": _WORD}, optional={
        "use": _CODE, "system": _URI}), min_size=1, max_size=2),
    "active": st.booleans(),
    "name": st.lists(st.fixed_dictionaries({"family": _WORD}, optional={
        "use": _CODE, "text": _WORD, "given": st.lists(_WORD, min_size=1, max_size=2),
        "prefix": st.lists(_WORD, min_size=1), "suffix": st.lists(_WORD, min_size=1)}),
        min_size=1, max_size=2),
    "telecom": st.lists(st.fixed_dictionaries({"value": _WORD}, optional={
        "system": _CODE, "use": _CODE}), min_size=1, max_size=2),
    "gender": _CODE,
    "birthDate": st.dates().map(date.isoformat),
    "deceasedBoolean": st.booleans(),
    "address": st.lists(st.fixed_dictionaries({"city": _WORD}, optional={
        "use": _CODE, "type": _CODE, "text": _WORD, "line": st.lists(_WORD, min_size=1),
        "district": _WORD, "state": _WORD, "postalCode": _WORD, "country": _WORD}),
        min_size=1, max_size=2),
}


@st.composite
def plain_patients(draw: st.DrawFn) -> dict[str, Any]:
    """Patients the shortcut should take: every plain element, each value of its kind,
    the elements in a random order."""
    keys = draw(st.permutations(sorted(_PLAIN_ELEMENTS)))
    chosen = [key for key in keys if draw(st.booleans())]
    return {"resourceType": "Patient", **{key: draw(_PLAIN_ELEMENTS[key]) for key in chosen}}


def places(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a JSON document."""
    found: list[tuple[Any, Any]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        found.append((node, key))
        if isinstance(value, dict | list):
            found += places(value)
    return found


@st.composite
def perturbed_patients(draw: st.DrawFn) -> dict[str, Any]:
    """A plain Patient with one value replaced (a tricky text, another type) or one key
    added: the boundary of what the shortcut takes."""
    resource = draw(plain_patients())
    if draw(st.booleans()):
        node, key = draw(st.sampled_from(places(resource)))
        node[key] = draw(st.one_of(_TRICKY, _WRONG))
    else:
        node = draw(st.sampled_from(objects(resource)))
        node[draw(st.sampled_from(["id", "extension", "period", "_family", "rank", "x",
                                   "fhir_comments", "deceasedDateTime", "gender"]))] = \
            draw(st.one_of(_TRICKY, _WRONG))
    return resource


@settings(max_examples=300, deadline=None)
@given(plain_patients())
def test_the_shortcut_answers_for_plain_patients(resource):
    assert assert_agrees(resource)


@settings(max_examples=1000, deadline=None)
@given(perturbed_patients())
def test_on_the_boundary_the_shortcut_accepts_only_what_the_library_does(resource):
    assert_agrees(resource)


#: A plain Patient with every element the shortcut takes.
FULL: dict[str, Any] = {
    "resourceType": "Patient", "id": "p-1.a",
    "meta": {"security": [{"system": "urn:x", "version": "1", "code": "R", "display": "R r",
                           "userSelected": True}], "tag": [{"code": "t"}]},
    "identifier": [{"use": "official", "system": "urn:oid:1.2.752.129.2.1.3.1",
                    "value": "198801209811"}],
    "active": True,
    "name": [{"use": "official", "text": "Dr Ö Å", "family": "Å", "given": ["Ö", "Li"],
              "prefix": ["Dr"], "suffix": ["Jr"]}],
    "telecom": [{"system": "phone", "value": "070-445 85 09", "use": "mobile"}],
    "gender": "female", "birthDate": "1988-01-20", "deceasedBoolean": False,
    "address": [{"use": "home", "type": "both", "text": "Gatan 1", "line": ["Gatan 1"],
                 "city": "Kumla", "district": "D", "state": "S", "postalCode": "69250",
                 "country": "SE"}],
}
_EXTRA_KEYS = ["id", "extension", "modifierExtension", "period", "_family", "rank", "x",
               "fhir_comments", "deceasedDateTime", "resourceType"]


def test_every_value_of_every_element_on_either_side_of_its_rules():
    """Each value of :data:`FULL` replaced in turn by each tricky value and each other
    type, and each object given each extra key: the shortcut agrees with the library."""
    assert assert_agrees(copy.deepcopy(FULL))
    replacements = TRICKY + [None, True, 0, 1, -1, 0.5, [], {}, ["a"],
                                             {"a": "b"}]
    for position in range(len(places(FULL))):
        for replacement in replacements:
            resource = copy.deepcopy(FULL)
            node, key = places(resource)[position]
            node[key] = replacement
            assert_agrees(resource)
    for position in range(len(objects(FULL))):
        for extra in _EXTRA_KEYS:
            resource = copy.deepcopy(FULL)
            objects(resource)[position][extra] = "x"
            assert_agrees(resource)


def objects(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The resource and every object in it."""
    return [resource] + [node[key] for node, key in places(resource)
                         if isinstance(node[key], dict)]


def test_the_shortcut_answers_for_the_synthetic_populations():
    people = generate(400, 12, queries=0).patients
    lines = [json.loads(line) for line in population(400, 13)]
    for resource in people + lines:
        assert assert_agrees(resource), resource


@pytest.mark.parametrize("resource", EXAMPLES + ODD_SHAPES,
                         ids=lambda r: str(r.get("id", "odd")))
def test_the_shortcut_agrees_on_examples_and_odd_shapes(resource):
    assert_agrees(resource)


@pytest.mark.parametrize("resource", [
    {"resourceType": "Patient", "gender": "male "},
    {"resourceType": "Patient", "birthDate": "1988-02-30"},
    {"resourceType": "Patient", "name": [{"family": ""}]},
    {"resourceType": "Patient", "name": [{"family": "\u2028"}]},
    {"resourceType": "Patient", "active": "maybe"},
    {"resourceType": "Patient", "name": [{"family": "x", "period": "2001"}]},
])
def test_a_refusal_still_comes_from_the_library(resource):
    assert plain_patient(resource) is None
    with pytest.raises(InvalidRequest, match="Invalid Patient"):
        validate_patient(resource)
