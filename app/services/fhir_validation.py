"""Structural validation of incoming resources with ``fhir.resources`` (R4B ≙ R4 4.0.1)."""

from __future__ import annotations

from typing import Any

import orjson
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.subscription import Subscription
from pydantic import ValidationError

from app.domain.errors import InvalidRequest
from app.domain.limits import check_repeats
from app.services.fhir_json import canonical_json
from app.services.plain_patient import plain_patient

MAX_REPORTED = 5
#: Patient elements with a *required* binding in FHIR R4: only these codes are valid.
REQUIRED_CODES: dict[tuple[str, ...], frozenset[str]] = {
    ("gender",): frozenset({"male", "female", "other", "unknown"}),
    ("contact", "gender"): frozenset({"male", "female", "other", "unknown"}),
    ("link", "type"): frozenset({"replaced-by", "replaces", "refer", "seealso"}),
    ("identifier", "use"): frozenset({"usual", "official", "temp", "secondary", "old"}),
    ("name", "use"): frozenset({"usual", "official", "temp", "nickname", "anonymous", "old",
                                "maiden"}),
    ("telecom", "system"): frozenset({"phone", "fax", "email", "pager", "url", "sms",
                                      "other"}),
    ("telecom", "use"): frozenset({"home", "work", "temp", "old", "mobile"}),
    ("address", "use"): frozenset({"home", "work", "temp", "old", "billing"}),
    ("address", "type"): frozenset({"postal", "physical", "both"}),
}


def validate_patient(data: Any) -> dict[str, Any]:
    """Return the canonical JSON dict of a Patient, or raise InvalidRequest (400) —
    LimitExceeded (422) for a repeating element over its limit (``app.domain.limits``).

    The message names each broken element and rule, never the submitted value. Every
    Patient a client sends passes here, whatever the way in (REST, Bundle entries,
    operation parameters, the bulk load).
    """
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object (a FHIR resource)")
    resource_type = data.get("resourceType")
    if resource_type != "Patient":
        raise InvalidRequest("Expected a Patient resource (resourceType Patient)",
                             expression=["resourceType"])
    # Before the model: validating 40,000 telecom entries alone takes seconds (issue 14).
    check_repeats(data)
    dumped = plain_patient(data)  # most records: the library's answer, ~7x faster
    if dumped is None:
        dumped = _validated(Patient, data)
    _check_required_codes(dumped)
    return dumped


def validate_subscription(data: dict[str, Any]) -> dict[str, Any]:
    """Return the canonical JSON dict of a Subscription, or raise InvalidRequest (400)
    naming each broken element (what the server can honour is checked afterwards, by
    :func:`app.domain.subscriptions.parse_subscription`)."""
    if data.get("resourceType") != "Subscription":
        raise InvalidRequest("Expected a Subscription resource (resourceType Subscription)",
                             expression=["resourceType"])
    check_repeats(data, "Subscription")
    return _validated(Subscription, data)


def _validated(model_type: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data`` with a fhir.resources model; its canonical JSON dict."""
    name = model_type.__name__
    try:
        model = model_type.model_validate(data)
    except ValidationError as err:
        problems = err.errors()
        paths = [_fhirpath(problem["loc"]) for problem in problems[:MAX_REPORTED]]
        text = "; ".join(
            f"{path}: {problem['msg']}" for path, problem in zip(paths, problems, strict=False)
        )
        raise InvalidRequest(f"Invalid {name}: {text}", expression=paths) from None
    except (ValueError, TypeError, AttributeError) as err:  # the models' own slips too
        raise InvalidRequest(f"Invalid {name}: {type(err).__name__}") from None
    except RecursionError:
        raise InvalidRequest(f"Invalid {name}: elements are nested too deeply") from None
    _check_null_items(data, name)
    dumped = canonical_json(model)
    try:
        orjson.dumps(dumped)
    except TypeError:  # the library writes a whole decimal as an integer: 1e38 has 127 bits
        raise InvalidRequest(f"Invalid {name}: a number is out of range (a whole number, "
                             "decimal or not, has at most 64 bits here)") from None
    return dumped


def _check_null_items(node: Any, where: str) -> None:
    """FHIR JSON allows ``null`` in a primitive array only to align it with its ``_x``
    extension array (R4 §2.6.2); anywhere else it is malformed."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, list):
                partner = key[1:] if key.startswith("_") else f"_{key}"
                if None in value and not isinstance(node.get(partner), list):
                    raise InvalidRequest(f"{where}.{key}: null items are only allowed beside "
                                         f"{partner}", expression=[f"{where}.{key}"])
                for position, item in enumerate(value):
                    _check_null_items(item, f"{where}.{key}[{position}]")
            elif isinstance(value, dict):
                _check_null_items(value, f"{where}.{key}")


def _check_required_codes(resource: dict[str, Any]) -> None:
    for path, allowed in REQUIRED_CODES.items():
        for where, code in _values_at(resource, path, "Patient"):
            if code not in allowed:
                raise InvalidRequest(
                    f"{where}: not a code of its required value set ({', '.join(sorted(allowed))})",
                    expression=[where],
                )


def _values_at(node: Any, path: tuple[str, ...], where: str) -> list[tuple[str, Any]]:
    if not path:
        return [(where, node)]
    child = node.get(path[0]) if isinstance(node, dict) else None
    if child is None:
        return []
    if isinstance(child, list):
        found = []
        for position, item in enumerate(child):
            found += _values_at(item, path[1:], f"{where}.{path[0]}[{position}]")
        return found
    return _values_at(child, path[1:], f"{where}.{path[0]}")


def _fhirpath(location: tuple[int | str, ...]) -> str:
    path = "Patient"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
