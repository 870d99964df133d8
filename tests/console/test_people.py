"""The console's display model (app/console/people.py): pure, no browser."""

from __future__ import annotations

from app.console.login import scopes_for
from app.console.people import identities, person, protection_reason
from app.domain.extensions import PATIENT_GROUP, PATIENT_TYPE
from tests.support import LRID_SYSTEM, NRID_SYSTEM, PNR_SYSTEM


def test_main_identity_first_by_priority_and_taken_over_last() -> None:
    rows = identities({"identifier": [
        {"system": NRID_SYSTEM, "value": "22950606FH20", "use": "old"},
        {"system": LRID_SYSTEM, "value": "19810829M071"},
        {"system": PNR_SYSTEM, "value": "199801019820"},
    ]})
    assert [(r.kind, r.main, r.taken_over) for r in rows] == [
        ("PNR", True, False), ("LRID", False, False), ("NRID", False, True)]
    assert rows[0].value == "19980101-9820"
    assert rows[0].valid == "tills vidare"


def test_a_record_with_only_taken_over_identities_has_no_main_one() -> None:
    rows = identities({"identifier": [{"system": PNR_SYSTEM, "value": "199801019820",
                                       "use": "old"}]})
    assert [r.main for r in rows] == [False]


def test_unknown_system_and_validity_shown_as_given() -> None:
    rows = identities({"identifier": [{"system": "urn:oid:9.9", "value": "X-1",
                                       "period": {"start": "2020-01-01"}}]})
    assert (rows[0].kind, rows[0].value, rows[0].valid) == ("urn:oid:9.9", "X-1", "2020-01-01")


def test_protection_reasons() -> None:
    labelled = {"meta": {"security": [{"system": "http://hl7.se/fhir/ig/base/CodeSystem/"
                                       "SecurityLabel", "code": "skyddadFolkbokforing"}]}}
    assert protection_reason(labelled, True) == "Skyddad folkbokföring"
    oklar = {"extension": [{"url": PATIENT_TYPE.url, "valueCoding": {"code": "oklar"}}]}
    assert protection_reason(oklar, True) == "Patienttyp Oklar"
    assert protection_reason({}, True) == "Kopplad till en skyddad person"
    assert protection_reason(labelled, False) is None


def test_person_view() -> None:
    view = person({
        "id": "a", "name": [{"family": "Ahmadi", "given": ["Yusuf"]}], "gender": "male",
        "telecom": [{"system": "phone", "value": "070-1"}],
        "extension": [{"url": PATIENT_GROUP.url, "valueCoding": {"code": "01/99"}}],
        "link": [{"other": {"reference": "Patient/b"}, "type": "replaced-by"}],
        "active": False}, protected=False, masked=False)
    assert (view.name, view.gender, view.birth_date, view.active) == (
        "Yusuf Ahmadi", "Man", "okänt", False)
    assert view.contacts == [("Telefon", "070-1")]
    assert view.patient_group == "Asylsökande (01/99)"
    assert view.survivor == "b" and view.links[0].label == "Ersatt av"
    assert view.main_identity is None


def test_roles_map_to_scopes() -> None:
    mapping = (("clerk", "system/Patient.cruds"), ("privileged", "protected-identity"))
    assert scopes_for(["clerk", "privileged"], mapping) == (
        "system/Patient.cruds protected-identity")
    assert scopes_for("clerk", mapping) == "system/Patient.cruds"
    assert scopes_for(None, mapping) == ""
    assert scopes_for({"clerk": True}, mapping) == ""
