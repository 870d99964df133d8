"""``$generate-reserve-id`` end to end through the running server (api.md "Operations",
domain.md §2.2, §2.3, §3.2–3.5)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import requests

from app.identity import lrid_vgr, nrid
from tests.operations.reserve_helpers import (
    FHIR_JSON,
    LRID_SYSTEM,
    NRID_SYSTEM,
    fresh_date,
    generate,
    identifiers,
    patient_ids,
)
from tests.support import PNR_SYSTEM, SNR_SYSTEM, make_pnr, patient, unique_name

GRID_SYSTEM = "urn:oid:1.2.752.113.11.0.2.1.1.4"
NRID_ALIAS = "http://electronichealth.se/identifier/nationelltReservnummer"
TODAY = date.today()


def search_identifier(base: str, system: str, value: str) -> list[dict]:
    bundle = requests.get(f"{base}/Patient", params={"identifier": f"{system}|{value}"},
                          timeout=30).json()
    return [entry["resource"] for entry in bundle.get("entry", [])]


def assert_outcome(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code


# --- happy paths ---------------------------------------------------------------------------

def test_nrid_for_a_known_date_and_sex_encodes_both_in_the_first_series(base):
    born = fresh_date()
    ids = identifiers(generate(base, birth_date=born.isoformat(), gender="female", count=3))
    assert len(ids) == 3
    assert len({i["value"] for i in ids}) == 3
    for ident in ids:
        assert ident["system"] == NRID_SYSTEM
        described = nrid.describe(ident["value"], today=TODAY)
        assert (described.birth_date, described.sex, described.series) == (born, "female", 1)
        assert ident["value"][:2] == str(born.year // 100 + 3)


def test_nrid_is_the_default_kind_and_the_hl7_sweden_alias_is_accepted(base):
    born = fresh_date()
    default = identifiers(generate(base, birth_date=born.isoformat(), gender="male"))
    alias = identifiers(generate(base, system=NRID_ALIAS, birth_date=born.isoformat(),
                                 gender="male"))
    assert default[0]["system"] == alias[0]["system"] == NRID_SYSTEM
    assert default[0]["value"] != alias[0]["value"]
    for ident in default + alias:
        assert nrid.describe(ident["value"], today=TODAY).sex == "male"


def test_nrid_for_unknown_sex_has_a_letter_in_the_sex_position(base):
    born = fresh_date()
    for gender in ("unknown", "other", None):
        [ident] = identifiers(generate(base, birth_date=born.isoformat(), gender=gender))
        assert ident["value"][10].isalpha()
        described = nrid.describe(ident["value"], today=TODAY)
        assert described.sex_unknown and described.birth_date == born


def test_nrid_without_a_birth_date_uses_the_unknown_date_form(base):
    ids = identifiers(generate(base, gender="male", count=2))
    ids += identifiers(generate(base))
    for ident in ids:
        assert ident["value"].startswith("00")
        assert nrid.describe(ident["value"], today=TODAY).date_unknown
    assert nrid.describe(ids[0]["value"]).sex == "male"
    assert nrid.describe(ids[2]["value"]).sex_unknown
    assert len({i["value"] for i in ids}) == 3


def test_lrid_uses_the_running_range_of_each_sex(base):
    born = fresh_date()
    ranges = {"female": set(range(6, 80, 2)), "male": set(range(7, 80, 2)),
              "unknown": set(range(80, 90))}
    letters = {"female": "K", "male": "M", "unknown": "X"}
    for gender, allowed in ranges.items():
        ids = identifiers(generate(base, system=LRID_SYSTEM, birth_date=born.isoformat(),
                                   gender=gender, count=2))
        for ident in ids:
            assert ident["system"] == LRID_SYSTEM
            value = lrid_vgr.validate(ident["value"], today=TODAY)
            assert value[:8] == f"{born:%Y%m%d}"
            assert value[8] == letters[gender]
            assert int(value[9:11]) in allowed
            assert lrid_vgr.describe(value).birth_date == born


def test_birth_date_and_gender_come_from_the_patient_parameter(base):
    born = fresh_date()
    response = generate(base, system=LRID_SYSTEM,
                        patient=patient(birth=born.isoformat(), gender="male"))
    [ident] = identifiers(response)
    described = lrid_vgr.describe(ident["value"])
    assert (described.birth_date, described.sex) == (born, "male")
    [created] = patient_ids(response)
    stored = requests.get(f"{base}/Patient/{created}", timeout=30).json()
    assert {"system": LRID_SYSTEM, "value": ident["value"], "use": "official"} in stored[
        "identifier"]


def test_parameters_fill_what_the_patient_parameter_leaves_out(base):
    born = fresh_date()
    response = generate(base, birth_date=born.isoformat(), gender="female",
                        patient=patient(birth=None, gender="unknown"))
    assert response.status_code == 422  # gender given twice, differently
    response = generate(base, birth_date=born.isoformat(), gender="female",
                        patient={"resourceType": "Patient", "name": [{"family": unique_name()}]})
    [created] = patient_ids(response)
    stored = requests.get(f"{base}/Patient/{created}", timeout=30).json()
    assert (stored["birthDate"], stored["gender"]) == (born.isoformat(), "female")


def test_patient_with_count_creates_that_many_records_each_with_its_own_identifier(base):
    family = unique_name("Pack")
    born = fresh_date()
    response = generate(base, count=4, patient=patient(family, birth=born.isoformat(),
                                                        gender="female"))
    ids, created = identifiers(response), patient_ids(response)
    assert len(ids) == len(created) == 4
    assert len(set(created)) == 4
    for ident, patient_id in zip(ids, created, strict=True):
        [found] = search_identifier(base, NRID_SYSTEM, ident["value"])
        assert found["id"] == patient_id
        assert found["name"][0]["family"] == family
        assert [i["value"] for i in found["identifier"]] == [ident["value"]]


def test_identifiers_in_the_given_patient_are_kept_and_the_strongest_is_official(base):
    pnr = make_pnr()
    opaque = {"system": "urn:oid:1.2.3.4.5", "value": uuid.uuid4().hex}
    response = generate(base, patient=patient(pnr=pnr, identifier=[
        {"system": PNR_SYSTEM, "value": pnr}, opaque]))
    [ident] = identifiers(response)
    [created] = patient_ids(response)
    stored = requests.get(f"{base}/Patient/{created}", timeout=30).json()
    by_system = {i["system"]: i for i in stored["identifier"]}
    assert by_system[PNR_SYSTEM]["use"] == "official"
    assert "use" not in by_system[NRID_SYSTEM]
    assert by_system[NRID_SYSTEM]["value"] == ident["value"]
    assert by_system[opaque["system"]]["value"] == opaque["value"]


def test_downtime_pack_of_ten_women_and_ten_men_through_the_operation(base):
    family = unique_name("DRIFTSTOPP")
    created: dict[str, list[str]] = {}
    values: list[str] = []
    for gender in ("female", "male"):
        pack = {"resourceType": "Patient", "gender": gender, "birthDate": "2019-01-01",
                "name": [{"family": family, "given": ["AKUTEN", "SÄS"]}]}
        response = generate(base, count=10, patient=pack)
        created[gender] = patient_ids(response)
        values += [i["value"] for i in identifiers(response)]
    assert len(set(values)) == 20
    assert [len(ids) for ids in created.values()] == [10, 10]
    described = [nrid.describe(value, today=TODAY) for value in values]
    assert {d.birth_date for d in described} == {date(2019, 1, 1)}
    assert [d.sex for d in described] == ["female"] * 10 + ["male"] * 10
    found = requests.get(f"{base}/Patient", params={"family": family, "_count": 50},
                         timeout=30).json()
    assert found["total"] == 20
    genders = sorted(e["resource"]["gender"] for e in found["entry"])
    assert genders == ["female"] * 10 + ["male"] * 10


def test_instance_level_adds_an_nrid_to_an_lrid_patient_found_by_either_identifier(base):
    born = fresh_date()
    [lrid] = identifiers(generate(base, system=LRID_SYSTEM, birth_date=born.isoformat(),
                                  gender="female"))
    holder = requests.post(f"{base}/Patient", json=patient(
        birth=born.isoformat(), gender="female",
        identifier=[{**lrid, "use": "official"}]), timeout=30).json()
    response = generate(base, patient_id=holder["id"])
    [new] = identifiers(response)
    assert patient_ids(response) == [holder["id"]]
    assert new["system"] == NRID_SYSTEM
    described = nrid.describe(new["value"])
    assert (described.birth_date, described.sex) == (born, "female")
    stored = requests.get(f"{base}/Patient/{holder['id']}", timeout=30).json()
    assert stored["meta"]["versionId"] == "2"
    by_system = {i["system"]: i for i in stored["identifier"]}
    assert by_system[NRID_SYSTEM] == {**new, "use": "official"}
    assert by_system[LRID_SYSTEM] == {"system": LRID_SYSTEM, "value": lrid["value"]}
    assert [p["id"] for p in search_identifier(base, LRID_SYSTEM, lrid["value"])] == [
        holder["id"]]
    assert [p["id"] for p in search_identifier(base, NRID_SYSTEM, new["value"])] == [
        holder["id"]]


def test_a_retry_with_the_same_request_id_returns_the_same_ids_and_patients(base):
    key = f"retry-{uuid.uuid4()}"
    body = {"birth_date": fresh_date().isoformat(), "count": 3,
            "patient": patient(unique_name(), birth=None, gender="male")}
    first = generate(base, request_id=key, **body)
    again = generate(base, request_id=key, **body)
    assert identifiers(first) == identifiers(again)
    assert patient_ids(first) == patient_ids(again)
    assert len(patient_ids(first)) == 3


def test_the_x_request_id_header_makes_a_retry_idempotent_too(base):
    headers = {"X-Request-Id": f"hdr-{uuid.uuid4()}"}
    born = fresh_date().isoformat()
    first = generate(base, system=LRID_SYSTEM, birth_date=born, gender="unknown",
                     headers=headers)
    again = generate(base, system=LRID_SYSTEM, birth_date=born, gender="unknown",
                     headers=headers)
    assert identifiers(first) == identifiers(again)
    other = identifiers(generate(base, system=LRID_SYSTEM, birth_date=born, gender="unknown"))
    assert other != identifiers(first)


def test_an_instance_level_retry_does_not_add_a_second_identifier(base):
    holder = requests.post(f"{base}/Patient", json=patient(birth=fresh_date().isoformat()),
                           timeout=30).json()
    key = f"instance-{uuid.uuid4()}"
    first = generate(base, patient_id=holder["id"], request_id=key)
    again = generate(base, patient_id=holder["id"], request_id=key)
    assert identifiers(first) == identifiers(again)
    stored = requests.get(f"{base}/Patient/{holder['id']}", timeout=30).json()
    assert stored["meta"]["versionId"] == "2"
    assert [i["system"] for i in stored["identifier"]] == [NRID_SYSTEM]


def test_unknown_sex_lrid_numbers_of_a_date_run_out_after_ten_with_a_409(base):
    born = fresh_date().isoformat()
    ids = identifiers(generate(base, system=LRID_SYSTEM, birth_date=born, gender="unknown",
                               count=9))
    ids += identifiers(generate(base, system=LRID_SYSTEM, birth_date=born, gender="unknown"))
    assert sorted(int(i["value"][9:11]) for i in ids) == list(range(80, 90))
    eleventh = generate(base, system=LRID_SYSTEM, birth_date=born, gender="unknown")
    assert_outcome(eleventh, 409, "conflict")
    assert "80–89" in eleventh.json()["issue"][0]["diagnostics"]
    # Other sexes of the same date and NRIDs of the date are unaffected.
    assert identifiers(generate(base, system=LRID_SYSTEM, birth_date=born, gender="male"))
    assert identifiers(generate(base, birth_date=born, gender="unknown"))


def test_a_request_that_asks_for_more_than_is_left_allocates_nothing(base):
    born = fresh_date().isoformat()
    identifiers(generate(base, system=LRID_SYSTEM, birth_date=born, gender="unknown", count=8))
    assert_outcome(generate(base, system=LRID_SYSTEM, birth_date=born, gender="unknown",
                            count=3), 409, "conflict")
    assert len(identifiers(generate(base, system=LRID_SYSTEM, birth_date=born,
                                    gender="unknown", count=2))) == 2


def test_the_capability_statement_lists_the_operation_with_its_definition(base):
    statement = requests.get(f"{base}/metadata", timeout=30).json()
    operations = statement["rest"][0]["resource"][0]["operation"]
    assert {"name": "generate-reserve-id",
            "definition": "http://sweid.example/fhir/OperationDefinition/generate-reserve-id"
            } in operations


# --- failures ------------------------------------------------------------------------------

@pytest.mark.parametrize("system", [PNR_SYSTEM, SNR_SYSTEM, GRID_SYSTEM,
                                    "http://electronichealth.se/identifier/personnummer",
                                    "urn:oid:1.2.752.97.3.1.3"])
def test_a_kind_that_cannot_be_generated_is_a_422(base, system):
    assert_outcome(generate(base, system=system), 422, "business-rule")


def test_an_unknown_system_is_a_422(base):
    assert_outcome(generate(base, system="urn:oid:1.2.3.4"), 422, "business-rule")


def test_a_birth_date_in_the_future_is_a_422(base):
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert_outcome(generate(base, birth_date=tomorrow), 422, "business-rule")
    assert_outcome(generate(base, patient=patient(birth=tomorrow)), 422, "business-rule")


def test_an_impossible_birth_date_is_a_422(base):
    assert_outcome(generate(base, birth_date="2019-02-30"), 422, "business-rule")


def test_a_partial_birth_date_is_a_422(base):
    assert_outcome(generate(base, birth_date="2019-02"), 422, "business-rule")


def test_a_birth_date_that_is_not_a_date_is_a_400(base):
    assert_outcome(generate(base, birth_date="1st of May"), 400, "invalid")


@pytest.mark.parametrize("count", [0, -1, 51])
def test_a_count_outside_one_to_fifty_is_a_422(base, count):
    assert_outcome(generate(base, count=count), 422, "business-rule")


def test_an_lrid_without_a_birth_date_is_a_422_explaining_why(base):
    response = generate(base, system=LRID_SYSTEM, gender="female")
    assert_outcome(response, 422, "business-rule")
    assert "LRID VGR needs a birth date" in response.json()["issue"][0]["diagnostics"]


def test_a_gender_outside_the_value_set_is_a_422(base):
    assert_outcome(generate(base, gender="F"), 422, "business-rule")


def test_a_birth_date_that_contradicts_the_patient_is_a_422(base):
    assert_outcome(generate(base, birth_date="2001-01-01", patient=patient(birth="2002-02-02")),
                   422, "business-rule")


def test_the_same_request_id_with_other_parameters_is_a_422(base):
    key = f"reuse-{uuid.uuid4()}"
    identifiers(generate(base, request_id=key, gender="female"))
    assert_outcome(generate(base, request_id=key, gender="male"), 422, "business-rule")


def test_a_patient_with_identifiers_cannot_be_created_several_times(base):
    assert_outcome(generate(base, count=2, patient=patient(pnr=make_pnr())), 422,
                   "business-rule")


def test_a_patient_whose_identifier_is_taken_is_a_409_before_anything_is_generated(base):
    pnr = make_pnr()
    requests.post(f"{base}/Patient", json=patient(pnr=pnr), timeout=30).raise_for_status()
    assert_outcome(generate(base, patient=patient(pnr=pnr)), 409, "duplicate")


def test_an_invalid_patient_is_refused(base):
    assert_outcome(generate(base, patient={"resourceType": "Patient", "gender": 7}), 400,
                   "invalid")


def test_instance_level_takes_one_id_only(base):
    holder = requests.post(f"{base}/Patient", json=patient(), timeout=30).json()
    assert_outcome(generate(base, patient_id=holder["id"], count=2), 422, "business-rule")
    assert_outcome(generate(base, patient_id=holder["id"], patient=patient()), 422,
                   "business-rule")


def test_instance_level_refuses_a_patient_that_already_has_that_kind(base):
    holder = requests.post(f"{base}/Patient", json=patient(), timeout=30).json()
    identifiers(generate(base, patient_id=holder["id"]))
    assert_outcome(generate(base, patient_id=holder["id"]), 422, "business-rule")


def test_instance_level_on_an_unknown_patient_is_a_404(base):
    assert_outcome(generate(base, patient_id="no-such-patient"), 404, "not-found")


def test_instance_level_on_a_deleted_patient_is_a_410(base):
    holder = requests.post(f"{base}/Patient", json=patient(), timeout=30).json()
    requests.delete(f"{base}/Patient/{holder['id']}", timeout=30).raise_for_status()
    assert_outcome(generate(base, patient_id=holder["id"]), 410, "deleted")


def test_a_body_that_is_not_parameters_is_a_400(base):
    response = requests.post(f"{base}/Patient/$generate-reserve-id", json=patient(),
                             timeout=30)
    assert_outcome(response, 400, "invalid")


def test_an_unknown_parameter_is_a_400(base):
    body = {"resourceType": "Parameters", "parameter": [{"name": "sex", "valueCode": "male"}]}
    response = requests.post(f"{base}/Patient/$generate-reserve-id", json=body, timeout=30)
    assert_outcome(response, 400, "invalid")


@pytest.mark.parametrize("given", [{}, None, "identifier"])
def test_parameters_whose_parameter_is_not_an_array_are_a_400(base, given):
    # {} read as "no parameters" once, and generated an NRID from nothing (schemathesis).
    answer = requests.post(f"{base}/Patient/$generate-reserve-id", headers=FHIR_JSON,
                           json={"resourceType": "Parameters", "parameter": given}, timeout=30)
    assert_outcome(answer, 400, "invalid")
