"""Structural validation of incoming resources with ``fhir.resources`` (R4B ≙ R4 4.0.1)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from app.domain.errors import InvalidRequest

MAX_REPORTED = 5


def validate_patient(data: Any) -> dict[str, Any]:
    """Return the canonical JSON dict of a Patient, or raise InvalidRequest (400).

    The message names each broken element and rule, never the submitted value.
    """
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object (a FHIR resource)")
    resource_type = data.get("resourceType")
    if resource_type != "Patient":
        raise InvalidRequest(
            f"Expected a Patient resource, got {str(resource_type)[:40]!r}",
            expression=["resourceType"],
        )
    try:
        model = Patient.model_validate(data)
    except ValidationError as err:
        problems = err.errors()
        paths = [_fhirpath(problem["loc"]) for problem in problems[:MAX_REPORTED]]
        text = "; ".join(
            f"{path}: {problem['msg']}" for path, problem in zip(paths, problems, strict=False)
        )
        raise InvalidRequest(f"Invalid Patient: {text}", expression=paths) from None
    except (ValueError, TypeError) as err:
        raise InvalidRequest(f"Invalid Patient: {type(err).__name__}") from None
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True, by_alias=True)
    return dumped


def _fhirpath(location: tuple[int | str, ...]) -> str:
    path = "Patient"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
