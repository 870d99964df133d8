"""Every Patient search parameter, through the running server."""

from __future__ import annotations

import pytest

from tests.support import PNR_SYSTEM, SNR_SYSTEM, make_pnr, patient, unique_name


def ids(bundle: dict) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", [])
            if e["search"]["mode"] == "match"}


@pytest.fixture()
def family() -> str:
    return unique_name("Sök")


def create(http, base, **kwargs) -> dict:
    response = http.post(f"{base}/Patient", json=patient(**kwargs))
    assert response.status_code == 201, response.text
    return response.json()


def search(http, base, params) -> dict:
    response = http.get(f"{base}/Patient", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_identifier_search_accepts_every_token_form_and_display_values(base, http):
    pnr = make_pnr()
    created = create(http, base, pnr=pnr)
    display = f"{pnr[:8]}-{pnr[8:]}"
    forms = [f"{PNR_SYSTEM}|{pnr}", f"{PNR_SYSTEM}|{display}", pnr, display,
             f"http://electronichealth.se/identifier/personnummer|{pnr}"]
    for form in forms:
        assert ids(search(http, base, {"identifier": form})) == {created["id"]}, form
    assert created["id"] in ids(search(http, base, {"identifier": f"{PNR_SYSTEM}|",
                                                     "_count": 1000, "_id": created["id"]}))
    # A personnummer is not a valid samordningsnummer (day + 60): refused, not "no match".
    refused = http.get(f"{base}/Patient", params={"identifier": f"{SNR_SYSTEM}|{pnr}"})
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["code"] == "value"


def test_identifier_without_system_matches_only_identifiers_without_system(base, http):
    value = "local-" + unique_name()
    created = create(http, base, identifier=[{"value": value}])
    assert ids(search(http, base, {"identifier": f"|{value}"})) == {created["id"]}
    other = create(http, base, identifier=[{"system": "urn:oid:1.2.3.4", "value": value + "x"}])
    assert ids(search(http, base, {"identifier": f"|{value}x"})) == set()
    assert ids(search(http, base, {"identifier": f"urn:oid:1.2.3.4|{value}x"})) == {other["id"]}


def test_name_search_is_case_and_accent_insensitive_prefix_with_exact_and_contains(base, http,
                                                                                    family):
    created = create(http, base, family=f"Åström{family}", given="Élise")
    assert ids(search(http, base, {"family": f"astrom{family[:4]}"})) == {created["id"]}
    assert ids(search(http, base, {"name": f"ÅSTRÖM{family}"})) == {created["id"]}
    assert ids(search(http, base, {"given": "elis", "family": f"Åström{family}"})) == {
        created["id"]}
    assert ids(search(http, base, {"family:exact": f"Åström{family}"})) == {created["id"]}
    assert ids(search(http, base, {"family:exact": f"åström{family}"})) == set()
    assert ids(search(http, base, {"family:contains": family[3:9]})) == {created["id"]}
    assert ids(search(http, base, {"family": family})) == set()


def test_birthdate_prefixes_and_partial_dates(base, http, family):
    early = create(http, base, family=family, birth="1998-03-15")
    late = create(http, base, family=family, birth="1999-07-01")
    partial = create(http, base, family=family, birth="1998-11")
    cases = {
        "1998": {early["id"], partial["id"]},
        "1998-03-15": {early["id"]},
        "eq1998-03": {early["id"]},
        "ne1998": {late["id"]},
        "lt1998-06-01": {early["id"]},
        "le1998-03-15": {early["id"]},
        "gt1998-12-31": {late["id"]},
        "ge1998-11-01": {partial["id"], late["id"]},
        "sa1998": {late["id"]},
        "eb1999": {early["id"], partial["id"]},
    }
    for value, expected in cases.items():
        found = ids(search(http, base, {"family": family, "birthdate": value}))
        assert found == expected, value


def test_gender_active_and_not_modifier(base, http, family):
    woman = create(http, base, family=family, gender="female")
    man = create(http, base, family=family, gender="male", active=False)
    assert ids(search(http, base, {"family": family, "gender": "female"})) == {woman["id"]}
    assert ids(search(http, base, {"family": family, "gender:not": "female"})) == {man["id"]}
    assert ids(search(http, base, {"family": family, "active": "true"})) == {woman["id"]}
    assert ids(search(http, base, {"family": family, "active": "false"})) == {man["id"]}
    assert ids(search(http, base, {"family": family, "gender": "female,male"})) == {
        woman["id"], man["id"]}


def test_telecom_phone_email_and_address_parameters(base, http, family):
    created = create(
        http, base, family=family,
        telecom=[{"system": "phone", "value": "070-123 45 67"},
                 {"system": "email", "value": "Testa.Person@Example.org"}],
        address=[{"line": ["Storgatan 1"], "city": "Göteborg", "postalCode": "411 01",
                  "district": "Västra Götaland"}],
    )
    expected = {created["id"]}
    assert ids(search(http, base, {"family": family, "phone": "0701234567"})) == expected
    assert ids(search(http, base, {"family": family, "email": "testa.person@example.org"})) \
        == expected
    assert ids(search(http, base, {"family": family, "telecom": "phone|070 123 45 67"})) \
        == expected
    assert ids(search(http, base, {"family": family, "address-city": "goteborg"})) == expected
    assert ids(search(http, base, {"family": family, "address-postalcode": "411"})) == expected
    assert ids(search(http, base, {"family": family, "address": "storgat"})) == expected
    assert ids(search(http, base, {"family": family, "address": "malmo"})) == set()


def test_id_last_updated_and_security(base, http, family):
    created = create(http, base, family=family,
                     meta={"security": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                         "v3-ActCode", "code": "DEMO"}]})
    when = created["meta"]["lastUpdated"]
    assert ids(search(http, base, {"_id": created["id"]})) == {created["id"]}
    assert ids(search(http, base, {"family": family, "_lastUpdated": f"ge{when}"})) == {
        created["id"]}
    assert ids(search(http, base, {"family": family, "_lastUpdated": "lt2000-01-01"})) == set()
    assert ids(search(http, base, {"family": family, "_security": "DEMO"})) == {created["id"]}
    assert ids(search(http, base, {"family": family,
                                   "_security": "http://terminology.hl7.org/CodeSystem/"
                                                "v3-ActCode|DEMO"})) == {created["id"]}


def test_link_search_and_include_return_linked_records(base, http, family):
    target = create(http, base, family=family)
    source = create(http, base, family=family,
                    link=[{"other": {"reference": f"Patient/{target['id']}"}, "type": "seealso"}])
    assert ids(search(http, base, {"link": f"Patient/{target['id']}"})) == {source["id"]}
    bundle = search(http, base, {"_id": source["id"], "_include": "Patient:link"})
    modes = {e["resource"]["id"]: e["search"]["mode"] for e in bundle["entry"]}
    assert modes == {source["id"]: "match", target["id"]: "include"}


def test_link_to_a_missing_patient_is_refused(base, http):
    response = http.post(f"{base}/Patient", json=patient(
        link=[{"other": {"reference": "Patient/does-not-exist"}, "type": "seealso"}]))
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Patient.link[0].other"]


def test_sort_count_paging_and_total(base, http, family):
    created = [create(http, base, family=family, given=g, birth=f"19{80 + i}-01-01")
               for i, g in enumerate(["Cecilia", "Adam", "Bertil", "David", "Erik"])]
    by_given = search(http, base, {"family": family, "_sort": "given", "_count": 2,
                                   "_total": "accurate"})
    assert by_given["total"] == 5
    names = [e["resource"]["name"][0]["given"][0] for e in by_given["entry"]]
    assert names == ["Adam", "Bertil"]
    seen = names
    page = by_given
    while next_link := [link for link in page["link"] if link["relation"] == "next"]:
        assert next_link[0]["url"].startswith("http://127.0.0.1:")
        page = http.get(next_link[0]["url"]).json()
        seen += [e["resource"]["name"][0]["given"][0] for e in page["entry"]]
    assert seen == ["Adam", "Bertil", "Cecilia", "David", "Erik"]
    assert any(link["relation"] == "previous" for link in page["link"])
    newest_first = search(http, base, {"family": family, "_sort": "-birthdate"})
    assert [e["resource"]["id"] for e in newest_first["entry"]] == [
        c["id"] for c in reversed(created)]
    assert newest_first["total"] == 5


def test_summary_count_and_elements(base, http, family):
    create(http, base, family=family, gender="male")
    counted = search(http, base, {"family": family, "_summary": "count"})
    assert counted["total"] == 1 and "entry" not in counted
    bundle = search(http, base, {"family": family, "_elements": "gender"})
    resource = bundle["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "gender"}
    assert resource["meta"]["tag"][0]["code"] == "SUBSETTED"


def test_post_search_matches_get(base, http, family):
    created = create(http, base, family=family)
    response = http.post(f"{base}/Patient/_search", data={"family": family},
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert ids(response.json()) == {created["id"]}


def test_unknown_parameters_are_ignored_unless_handling_is_strict(base, http, family):
    created = create(http, base, family=family)
    lenient = search(http, base, {"family": family, "shoe-size": "42"})
    assert ids(lenient) == {created["id"]}
    assert "shoe-size" not in lenient["link"][0]["url"]
    strict = http.get(f"{base}/Patient", params={"family": family, "shoe-size": "42"},
                      headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400
    assert strict.json()["issue"][0]["code"] == "invalid"


@pytest.mark.parametrize("params", [
    {"birthdate": "not-a-date"}, {"_count": "-1"}, {"_sort": "shoe-size"},
    {"gender": "robot"}, {"family:fuzzy": "x"}, {"_total": "many"}, {"active": "maybe"},
])
def test_bad_search_values_are_a_400_operation_outcome(base, http, params):
    response = http.get(f"{base}/Patient", params=params)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_base_url_honours_x_forwarded_headers(base, http, family):
    create(http, base, family=family)
    bundle = http.get(f"{base}/Patient", params={"family": family},
                      headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "fhir.example.se"}
                      ).json()
    assert bundle["link"][0]["url"].startswith("https://fhir.example.se/fhir/Patient?")
    assert bundle["entry"][0]["fullUrl"].startswith("https://fhir.example.se/fhir/Patient/")


@pytest.mark.parametrize(("header", "value", "expected"), [
    ("X-Forwarded-Proto", "https", "https://127.0.0.1:{port}/fhir/Patient/"),
    ("X-Forwarded-Host", "fhir.example.se", "http://fhir.example.se/fhir/Patient/"),
    ("X-Forwarded-Port", "8443", "http://127.0.0.1:8443/fhir/Patient/"),
    ("X-Forwarded-Prefix", "/mpi", "http://127.0.0.1:{port}/mpi/fhir/Patient/"),
])
def test_each_x_forwarded_header_alone_is_honoured(base, http, family, header, value,
                                                   expected):
    create(http, base, family=family)
    bundle = http.get(f"{base}/Patient", params={"family": family}, headers={header: value}).json()
    port = base.split(":")[2].split("/")[0]
    assert bundle["entry"][0]["fullUrl"].startswith(expected.format(port=port))
    plain = http.get(f"{base}/Patient", params={"family": family}).json()
    assert plain["entry"][0]["fullUrl"].startswith(f"{base}/Patient/")


@pytest.mark.parametrize(("path", "params"), [
    ("Patient", {"family": "Åström Ö", "_count": "1"}),
    ("Provenance", {"target": "Patient/å ä"}),
    ("AuditEvent", {"entity": "Patient/å ä", "outcome": "0"}),
    ("NamingSystem", {"name": "Personnummer ö"}),
])
def test_the_self_link_is_a_uri_whatever_the_parameters_hold(base, http, path, params):
    # Provenance and AuditEvent once echoed the decoded URL: "?target=Patient/å ä".
    bundle = http.get(f"{base}/{path}", params=params).json()
    link = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert link.isascii() and " " not in link, link
    assert "%C3%A5" in link or "%C3%96" in link or "%C3%B6" in link, link
