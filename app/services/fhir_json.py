"""The canonical JSON of a validated ``fhir.resources`` model, five times faster than the
model's own ``model_dump(mode="json", exclude_none=True, by_alias=True)``.

Every Patient written passes through that dump (:mod:`app.services.fhir_validation`). In
fhir_core 1.1 it walks each element through a pydantic wrap serializer, looking the field up
through pydantic's deprecated ``model_fields`` accessor each time: 130 µs of a bulk load's
~470 µs per Patient (issue 16). :func:`canonical_json` walks the same elements in the same
order with the model class's element sequence, aliases and primitive flags read once per
class, and converts each primitive value the way the library does — its own
``_serialize_primitive_value`` (base64Binary, uuid, decimal) and then pydantic's JSON
conversion — so the output is the library's, byte for byte.
``tests/services/test_fhir_json.py`` holds it to that on every resource the test suite
writes, the synthetic populations and the odd shapes (primitive extensions, aligned
nulls, comments, contained resources, every date and number type); an upgrade of
fhir_core that changes its dump fails there first.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fhir_core.fhirabstractmodel import FHIR_COMMENTS_FIELD_NAME, FHIRAbstractModel
from fhir_core.utils import is_primitive_type
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

#: How one element is written: field name, JSON key, its primitive value's field (None for
#: a complex element), and the field name and JSON key of its ``_x`` extension sibling.
_Element = tuple[str, str, FieldInfo | None, str | None, str | None]
#: Values the library writes as they are (everything else is converted).
_PLAIN = (str, bool, int)


def canonical_json(model: FHIRAbstractModel) -> dict[str, Any]:
    """``model`` as the JSON dict fhir_core's ``model_dump(mode="json", exclude_none=True,
    by_alias=True)`` gives: elements in FHIR order, empty and absent ones left out."""
    resource_base, elements = _elements(type(model))
    values = model.__dict__
    out: dict[str, Any] = {}
    if resource_base:
        out["resourceType"] = model.__resource_type__
    for name, key, primitive, ext_name, ext_key in elements:
        value = values.get(name)
        if value is not None:
            if primitive is not None:
                value = _primitive(model, value, primitive)
            else:
                value = _complex(value)
            if value is not None and value != []:
                out[key] = value
        if ext_name is not None:
            extension = values.get(ext_name)
            if extension is not None:
                extension = _complex(extension)
                if extension:
                    out[ext_key] = extension  # type: ignore[index]
    comments = values.get(FHIR_COMMENTS_FIELD_NAME)
    if comments is not None:
        out[FHIR_COMMENTS_FIELD_NAME] = comments
    return out


def _complex(value: Any) -> Any:
    if isinstance(value, FHIRAbstractModel):
        return canonical_json(value)
    if isinstance(value, list):
        return [None if item is None else _complex(item) for item in value]
    return to_jsonable_python(value)


def _primitive(model: FHIRAbstractModel, value: Any, field: FieldInfo) -> Any:
    if isinstance(value, list):
        return [_primitive(model, item, field) for item in value]
    if value is None or type(value) in _PLAIN:
        return value
    return to_jsonable_python(model._serialize_primitive_value(value, field))


@cache
def _elements(model_type: type[FHIRAbstractModel]) -> tuple[bool, tuple[_Element, ...]]:
    """Whether the type is a resource (it writes ``resourceType``) and its elements, read
    from the class once."""
    aliases = model_type.get_alias_mapping()
    fields = model_type.model_fields
    elements: list[_Element] = []
    for element in model_type.elements_sequence():
        name = aliases[element]
        field = fields[name]
        primitive = field if is_primitive_type(field) else None
        ext_name = f"{name}__ext" if primitive is not None else None
        ext_field = fields.get(ext_name) if ext_name is not None else None
        elements.append((name, field.alias or name, primitive,
                         ext_name if ext_field is not None else None,
                         (ext_field.alias or ext_name) if ext_field is not None else None))
    return model_type.has_resource_base(), tuple(elements)
