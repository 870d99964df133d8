"""``$merge`` end to end: the happy path first, then one test per refusal (status and
``issue[0].code``), then concurrent merges of one source from parallel processes."""

from __future__ import annotations

import multiprocessing
from collections import Counter

import requests

from tests.operations.merge_helpers import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    PNR_SYSTEM,
    RECORD_MANAGEMENT,
    SNR_SYSTEM,
    create,
    ident,
    make_lrid,
    make_nrid,
    make_pnr,
    merge,
    output,
    params,
    read,
)


def test_merge_deactivates_the_source_and_gives_its_identifiers_to_the_target(base, http):
    lrid, pnr = make_lrid(), make_pnr()
    source = create(http, base, ident(LRID_SYSTEM, lrid))
    target = create(http, base, ident(PNR_SYSTEM, pnr))
    body = params(source, target, reason="Same person, checked against ID card")
    response = merge(http, base, body)
    assert response.status_code == 200, response.text
    assert output(response, "input") == body
    assert output(response, "outcome")["issue"][0]["severity"] == "information"
    result = output(response, "result")
    assert result["meta"]["versionId"] == "2"
    assert result["link"] == [{"other": {"reference": f"Patient/{source['id']}"},
                               "type": "replaces"}]
    assert result["identifier"] == [{"system": PNR_SYSTEM, "value": pnr},
                                    {"system": LRID_SYSTEM, "value": lrid, "use": "old"}]
    assert read(http, base, target["id"]) == result
    merged_away = read(http, base, source["id"])
    assert merged_away["active"] is False
    assert merged_away["link"] == [{"other": {"reference": f"Patient/{target['id']}"},
                                    "type": "replaced-by"}]
    assert merged_away["identifier"] == [{"system": LRID_SYSTEM, "value": lrid}]


def test_merge_records_a_provenance_with_both_versions_agent_and_reason(base, http):
    source = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    assert merge(http, base, params(source, target, reason="Duplicate")).status_code == 200
    for pid in (source["id"], target["id"]):
        found = http.get(f"{base}/Provenance", params={"target": f"Patient/{pid}"}).json()
        assert found["total"] == 1
    provenance = found["entry"][0]["resource"]
    assert provenance["target"] == [{"reference": f"Patient/{target['id']}/_history/2"},
                                    {"reference": f"Patient/{source['id']}/_history/2"}]
    assert provenance["activity"]["coding"][0]["code"] == "merge"
    assert provenance["activity"]["text"] == "MERGE"
    assert provenance["agent"][0]["who"]["display"] == "anonymous"
    assert provenance["reason"] == [{"coding": [RECORD_MANAGEMENT], "text": "Duplicate"}]
    assert provenance["entity"] == [{"role": "source", "what": {
        "reference": f"Patient/{source['id']}/_history/1"}}]
    assert provenance["recorded"]


def test_a_merge_without_a_reason_still_records_why_it_was_made(base, http):
    source = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    assert merge(http, base, params(source, target)).status_code == 200
    found = http.get(f"{base}/Provenance", params={"target": f"Patient/{target['id']}"}).json()
    assert found["entry"][0]["resource"]["reason"] == [{"coding": [RECORD_MANAGEMENT]}]


def test_merge_by_identifiers_normalises_alias_systems_and_display_forms(base, http):
    lrid, pnr = make_lrid(), make_pnr()
    source = create(http, base, ident(LRID_SYSTEM, lrid))
    target = create(http, base, ident(PNR_SYSTEM, pnr))
    body = params(source_patient_identifier=ident(LRID_SYSTEM, f"{lrid[:8]}-{lrid[8:]}"),
                  target_patient_identifier=ident(
                      "http://electronichealth.se/identifier/personnummer",
                      f"{pnr[:8]}-{pnr[8:]}"))
    response = merge(http, base, body)
    assert response.status_code == 200, response.text
    assert output(response, "result")["id"] == target["id"]
    assert read(http, base, source["id"])["active"] is False


def test_preview_returns_the_would_be_target_and_changes_nothing(base, http):
    lrid = make_lrid()
    source = create(http, base, ident(LRID_SYSTEM, lrid))
    target = create(http, base, ident(SNR_SYSTEM, make_pnr(snr=True)))
    response = merge(http, base, params(source, target, preview=True))
    assert response.status_code == 200, response.text
    preview = output(response, "result")
    assert {"system": LRID_SYSTEM, "value": lrid, "use": "old"} in preview["identifier"]
    assert "Preview" in output(response, "outcome")["issue"][-1]["diagnostics"]
    assert read(http, base, source["id"]) == source
    assert read(http, base, target["id"]) == target
    assert http.get(f"{base}/Provenance",
                    params={"target": f"Patient/{source['id']}"}).json()["total"] == 0


def test_result_patient_becomes_the_target_content(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    wanted = {**target, "name": [{"family": "Sammanslagen", "given": ["Ny"]}]}
    response = merge(http, base, params(source, target, result_patient=wanted))
    assert response.status_code == 200, response.text
    assert read(http, base, target["id"])["name"] == [{"family": "Sammanslagen", "given": ["Ny"]}]


def test_result_patient_that_drops_a_target_identifier_is_refused(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    wanted = {k: v for k, v in target.items() if k != "identifier"}
    response = merge(http, base, params(source, target, result_patient=wanted))
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "business-rule"
    other = {**target, "id": source["id"]}
    response = merge(http, base, params(source, target, result_patient=other))
    assert response.status_code == 400


def test_result_patient_cannot_talk_a_contradiction_away(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()), birth="1998-01-02")
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    no_birth_date = {k: v for k, v in target.items() if k not in ("birthDate", "meta")}
    response = merge(http, base, params(source, target, result_patient=no_birth_date))
    assert response.status_code == 422
    assert "birth dates" in response.json()["issue"][0]["diagnostics"]
    same_day = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    other_sex = {**target, "gender": "male"}
    response = merge(http, base, params(same_day, target, result_patient=other_sex))
    assert response.status_code == 422
    assert "sexes" in response.json()["issue"][0]["diagnostics"]
    for record in (source, same_day, target):
        assert read(http, base, record["id"]) == record


def test_result_patient_cannot_drop_the_links_of_earlier_merges(base, http):
    first = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    second = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    assert merge(http, base, params(first, target)).status_code == 200
    without_links = {k: v for k, v in read(http, base, target["id"]).items() if k != "link"}
    response = merge(http, base, params(second, target, result_patient=without_links))
    assert response.status_code == 200, response.text
    assert read(http, base, target["id"])["link"] == [
        {"other": {"reference": f"Patient/{first['id']}"}, "type": "replaces"},
        {"other": {"reference": f"Patient/{second['id']}"}, "type": "replaces"}]


def test_merge_refuses_a_target_that_ranks_below_the_source_and_names_the_way(base, http):
    source = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    target = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    response = merge(http, base, params(source, target))
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["code"] == "business-rule"
    assert (f"source-patient Patient/{target['id']} into target-patient Patient/{source['id']}"
            in issue["diagnostics"])
    assert read(http, base, source["id"]) == source
    assert read(http, base, target["id"]) == target
    assert merge(http, base, params(target, source)).status_code == 200


def test_merge_between_lrid_records_keeps_the_earliest_created(base, http):
    early = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    late = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    refused = merge(http, base, params(early, late))
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["code"] == "business-rule"
    assert "earliest created" in refused.json()["issue"][0]["diagnostics"]
    assert merge(http, base, params(late, early)).status_code == 200


def test_merge_refuses_two_different_personnummer(base, http):
    source = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    response = merge(http, base, params(source, target))
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "business-rule"
    assert "Personnummer" in response.json()["issue"][0]["diagnostics"]
    assert read(http, base, source["id"]) == source


def test_merge_refuses_two_different_samordningsnummer(base, http):
    source = create(http, base, ident(SNR_SYSTEM, make_pnr(snr=True)))
    target = create(http, base, ident(SNR_SYSTEM, make_pnr(snr=True)))
    response = merge(http, base, params(source, target))
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "business-rule"


def test_merge_refuses_different_known_birth_dates_and_sexes(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()), birth="1998-01-02")
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    response = merge(http, base, params(source, target))
    assert response.status_code == 422
    assert "birth dates" in response.json()["issue"][0]["diagnostics"]
    assert read(http, base, source["id"]) == source
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()), gender="male")
    response = merge(http, base, params(source, target))
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "business-rule"
    assert "sexes" in response.json()["issue"][0]["diagnostics"]
    assert read(http, base, source["id"]) == source
    assert read(http, base, target["id"]) == target


def test_merge_of_unknown_birth_date_or_sex_is_no_contradiction(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()), birth=None, gender="unknown")
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    assert merge(http, base, params(source, target)).status_code == 200


def test_a_contradiction_is_overridden_with_force_and_a_recorded_reason(base, http):
    source = create(http, base, ident(PNR_SYSTEM, make_pnr()), gender="male")
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    no_reason = merge(http, base, params(source, target, force=True))
    assert no_reason.status_code == 400
    assert no_reason.json()["issue"][0]["code"] == "invalid"
    response = merge(http, base, params(source, target, force=True,
                                        reason="Tax agency replaced the number (GN)"))
    assert response.status_code == 200, response.text
    warning = output(response, "outcome")["issue"][1]
    assert warning["severity"] == "warning"
    assert "Personnummer" in warning["diagnostics"]
    provenance = http.get(f"{base}/Provenance", params={
        "target": f"Patient/{source['id']}"}).json()["entry"][0]["resource"]
    assert provenance["reason"][0] == {"coding": [RECORD_MANAGEMENT],
                                       "text": "Tax agency replaced the number (GN)"}
    assert "overridden" in provenance["reason"][1]["text"]


def test_merge_refuses_a_source_already_merged_and_names_its_survivor(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    first = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    second = create(http, base, ident(SNR_SYSTEM, make_pnr(snr=True)))
    assert merge(http, base, params(source, first)).status_code == 200
    again = merge(http, base, params(source, second))
    assert again.status_code == 422
    assert again.json()["issue"][0]["code"] == "business-rule"
    assert f"Patient/{first['id']}" in again.json()["issue"][0]["diagnostics"]
    into_merged = merge(http, base, params(second, source))
    assert into_merged.status_code == 422
    assert f"surviving record is Patient/{first['id']}" in into_merged.json()[
        "issue"][0]["diagnostics"]
    assert read(http, base, second["id"]) == second


def test_merge_refuses_a_cycle(base, http):
    a = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    b = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    assert merge(http, base, params(a, b)).status_code == 200
    merged = {pid: read(http, base, pid) for pid in (a["id"], b["id"])}
    response = merge(http, base, params(b, a))
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "business-rule"
    assert "cycle" in response.json()["issue"][0]["diagnostics"]
    assert {pid: read(http, base, pid) for pid in merged} == merged


def test_merge_refuses_merging_a_record_into_itself(base, http):
    a = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    response = merge(http, base, params(a, a))
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "business-rule"


def test_merge_of_an_unknown_patient_is_404(base, http):
    a = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    response = merge(http, base, params("no-such-patient", a))
    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"
    by_identifier = merge(http, base, params(
        target=a, source_patient_identifier=ident(PNR_SYSTEM, make_pnr())))
    assert by_identifier.status_code == 404


def test_merge_with_bad_parameters_is_400(base, http):
    a = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    cases = [
        params(target=a),                                        # no source
        params(a, a, preview="yes"),                             # wrong type
        {"resourceType": "Parameters", "parameter": [{"name": "nonsense", "valueString": "x"}]},
        {"resourceType": "Patient"},
        params({"id": "x"}, a) | {"parameter": [
            {"name": "source-patient", "valueReference": {"reference": "Observation/1"}},
            {"name": "target-patient", "valueReference": {"reference": f"Patient/{a['id']}"}}]},
    ]
    for body in cases:
        response = merge(http, base, body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["issue"][0]["code"] == "invalid"


def _race(barrier, url: str, body: dict, results) -> None:
    barrier.wait()
    response = requests.post(url, json=body, timeout=60,
                             headers={"Content-Type": "application/fhir+json"})
    results.put(response.status_code)


def test_concurrent_merges_of_one_source_into_two_targets_let_exactly_one_win(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    targets = [create(http, base, ident(PNR_SYSTEM, make_pnr())),
               create(http, base, ident(SNR_SYSTEM, make_pnr(snr=True)))]
    racers = 8
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(racers)
    results = context.Queue()
    processes = [context.Process(target=_race, args=(
        barrier, f"{base}/Patient/$merge", params(source, targets[n % 2]), results))
        for n in range(racers)]
    for process in processes:
        process.start()
    statuses = Counter(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert statuses == {200: 1, 422: racers - 1}, statuses
    survivor = read(http, base, source["id"])["link"][0]["other"]["reference"]
    winners = [t for t in targets if f"Patient/{t['id']}" == survivor]
    assert len(winners) == 1
    assert read(http, base, winners[0]["id"])["meta"]["versionId"] == "2"
    loser = next(t for t in targets if t is not winners[0])
    assert read(http, base, loser["id"]) == loser


def test_the_result_of_a_protected_person_is_masked_for_callers_without_protected_identity(
        base, http):
    label = {"system": "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel",
             "code": "sekretessmarkering"}
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()), meta={"security": [label]},
                    telecom=[{"system": "phone", "value": "070-7654321"}])
    response = merge(http, base, params(source, target))
    assert response.status_code == 200, response.text
    result = output(response, "result")
    assert "telecom" not in result
    assert any(t.get("code") == "SUBSETTED" for t in result["meta"].get("tag", []))
    assert len(result["identifier"]) == 2


def test_the_server_lists_merge_unmerge_and_ihe_pix_in_its_capability_statement(base, http):
    statement = http.get(f"{base}/metadata").json()
    patient_rest = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    operations = {o["name"]: o["definition"] for o in patient_rest.get("operation", [])} or {
        o["name"]: o["definition"] for o in statement["rest"][0].get("operation", [])}
    for code in ("merge", "unmerge"):
        assert operations[code] == f"http://sweid.example/fhir/OperationDefinition/{code}"
    # IHE's canonical (README "IHE PIXm and PDQm").
    assert operations["ihe-pix"] == \
        "https://profiles.ihe.net/ITI/PIXm/OperationDefinition/IHE.PIXm.pix"
