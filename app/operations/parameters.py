"""The one Parameters parser and builder every operation uses (style.md "Operations").

Input parameters are checked against the operation's OperationDefinition in
``fhir_profiles/``: unknown names, wrong value types and cardinality are refused with 400
before the handler sees them. Output Parameters are built from (name, type, value) triples.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from app.conformance import PROFILES
from app.domain.errors import InvalidRequest

#: FHIR types whose value travels as ``value<Type>``; anything else is a resource.
PRIMITIVE_PATTERNS: dict[str, str] = {
    "boolean": r"^(true|false)$",
    "integer": r"^[+-]?\d{1,9}$",
    "positiveInt": r"^\+?0*[1-9]\d{0,8}$",
    "unsignedInt": r"^\+?\d{1,9}$",
    "date": r"^\d{4}(-\d{2}(-\d{2})?)?$",
    "dateTime": r"^\d{4}(-\d{2}(-\d{2}(T.+)?)?)?$",
    "code": r"^\S+( \S+)*$",
    "uri": r"^\S*$",
    "string": r"^[\s\S]+$",
    "id": r"^[A-Za-z0-9\-.]{1,64}$",
}
COMPLEX_TYPES = frozenset({"Identifier", "Reference", "CodeableConcept", "Coding",
                           "HumanName", "Address", "ContactPoint", "Period"})


@dataclass(frozen=True)
class ParameterSpec:
    """One ``in`` parameter of an OperationDefinition."""

    name: str
    type: str
    min: int
    max: int | None


@cache
def operation_definition(file_stem: str) -> dict[str, Any]:
    """Load ``fhir_profiles/<file_stem>.json`` (cached; the files ship with the server)."""
    loaded: dict[str, Any] = json.loads((PROFILES / f"{file_stem}.json").read_text("utf-8"))
    return loaded


def input_specs(definition: dict[str, Any]) -> dict[str, ParameterSpec]:
    """The ``in`` parameters of a definition, by name."""
    specs = {}
    for param in definition.get("parameter", []):
        if param.get("use") != "in":
            continue
        maximum = param.get("max", "*")
        specs[param["name"]] = ParameterSpec(
            param["name"], param.get("type", "string"), int(param.get("min", 0)),
            None if maximum == "*" else int(maximum),
        )
    return specs


def parse_parameters(body: Any, definition: dict[str, Any]) -> dict[str, list[Any]]:
    """Parse a Parameters resource against ``definition``: name → list of values.

    Primitive values come back as the JSON value, complex types as dicts, resources as dicts.
    """
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidRequest("The operation takes a Parameters resource")
    specs = input_specs(definition)
    values: dict[str, list[Any]] = {}
    parameters = body.get("parameter", [])
    if not isinstance(parameters, list):
        raise InvalidRequest("Parameters.parameter must be an array",
                             expression=["Parameters.parameter"])
    for position, param in enumerate(parameters):
        where = f"Parameters.parameter[{position}]"
        if not isinstance(param, dict) or not isinstance(param.get("name"), str):
            raise InvalidRequest(f"{where} has no name", expression=[where])
        spec = specs.get(param["name"])
        if spec is None:
            raise InvalidRequest(
                f"Unknown parameter {param['name'][:40]!r} for ${definition['code']}",
                expression=[where])
        values.setdefault(spec.name, []).append(_value(param, spec, where))
    _check_cardinality(values, specs, definition["code"])
    return values


def parse_query_parameters(pairs: list[tuple[str, str]],
                           definition: dict[str, Any]) -> dict[str, list[Any]]:
    """Parse an operation invoked with GET: query parameters against ``definition``."""
    specs = input_specs(definition)
    values: dict[str, list[Any]] = {}
    for name, raw in pairs:
        if name.startswith("_"):
            continue
        spec = specs.get(name)
        if spec is None:
            raise InvalidRequest(f"Unknown parameter {name[:40]!r} for ${definition['code']}")
        if spec.type not in PRIMITIVE_PATTERNS and spec.type != "token":
            raise InvalidRequest(f"Parameter {name!r} cannot be given in the URL")
        values.setdefault(name, []).append(_primitive(raw, spec, name))
    _check_cardinality(values, specs, definition["code"])
    return values


def build_parameters(outputs: list[tuple[str, str, Any]]) -> dict[str, Any]:
    """Output Parameters from (name, FHIR type, value); type ``Resource`` embeds a resource."""
    parameters = []
    for name, ftype, value in outputs:
        if ftype == "Resource":
            parameters.append({"name": name, "resource": value})
        else:
            parameters.append({"name": name, f"value{ftype[0].upper()}{ftype[1:]}": value})
    return {"resourceType": "Parameters", "parameter": parameters}


def single(values: dict[str, list[Any]], name: str, default: Any = None) -> Any:
    """The one value of a 0..1 parameter (or ``default``)."""
    found = values.get(name)
    return found[0] if found else default


def _value(param: dict[str, Any], spec: ParameterSpec, where: str) -> Any:
    if spec.type in PRIMITIVE_PATTERNS or spec.type in COMPLEX_TYPES:
        key = f"value{spec.type[0].upper()}{spec.type[1:]}"
        if key not in param:
            raise InvalidRequest(f"Parameter {spec.name!r} must be given as {key}",
                                 expression=[where])
        value = param[key]
        if spec.type in COMPLEX_TYPES:
            if not isinstance(value, dict):
                raise InvalidRequest(f"Parameter {spec.name!r} must be a {spec.type}",
                                     expression=[where])
            return value
        return _primitive(value, spec, where)
    resource = param.get("resource")
    if not isinstance(resource, dict):
        raise InvalidRequest(f"Parameter {spec.name!r} must carry a resource",
                             expression=[where])
    if spec.type not in ("Resource", "Any") and resource.get("resourceType") != spec.type:
        raise InvalidRequest(f"Parameter {spec.name!r} must be a {spec.type} resource",
                             expression=[where])
    return resource


def _primitive(value: Any, spec: ParameterSpec, where: str) -> Any:
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
    elif spec.type in ("integer", "positiveInt", "unsignedInt"):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.match(PRIMITIVE_PATTERNS[spec.type], value):
            return int(value)
    elif isinstance(value, str) and re.match(PRIMITIVE_PATTERNS.get(spec.type, r"^.+$"),
                                             value):
        return value
    raise InvalidRequest(f"Parameter {spec.name!r} is not a valid {spec.type}",
                         expression=[where])


def _check_cardinality(values: dict[str, list[Any]], specs: dict[str, ParameterSpec],
                       code: str) -> None:
    for spec in specs.values():
        count = len(values.get(spec.name, []))
        if count < spec.min:
            raise InvalidRequest(f"${code} needs the parameter {spec.name!r}")
        if spec.max is not None and count > spec.max:
            raise InvalidRequest(f"${code} takes at most {spec.max} {spec.name!r}")
