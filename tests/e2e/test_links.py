"""Patient.link through the REST interactions: seealso kept on both records, merged-away
records still readable, the survivor found by any identifier, ``_include=Patient:link``,
merges visible in history, merge links owned by $merge/$unmerge and seealso refused between
records that contradict each other."""

from __future__ import annotations

import json

from tests.operations.merge_helpers import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    PNR_SYSTEM,
    create,
    ident,
    make_lrid,
    make_nrid,
    make_pnr,
    merge,
    params,
    read,
)


def _seealso(pid: str) -> dict:
    return {"other": {"reference": f"Patient/{pid}"}, "type": "seealso"}


def test_a_seealso_link_written_by_update_is_kept_on_the_other_record_too(base, http):
    lrid_record = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    nrid_record = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    linked = {**nrid_record, "link": [_seealso(lrid_record["id"])]}
    assert http.put(f"{base}/Patient/{nrid_record['id']}", json=linked).status_code == 200
    other = read(http, base, lrid_record["id"])
    assert other["link"] == [_seealso(nrid_record["id"])]
    assert other["meta"]["versionId"] == "2"
    # Writing the reverse side again changes nothing more: no ping-pong.
    assert http.put(f"{base}/Patient/{lrid_record['id']}", json=other).status_code == 200
    assert read(http, base, nrid_record["id"])["meta"]["versionId"] == "2"


def test_removing_a_seealso_link_removes_the_reverse_one(base, http):
    a = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    b = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    linked = http.put(f"{base}/Patient/{a['id']}", json={**a, "link": [_seealso(b["id"])]})
    assert linked.status_code == 200
    unlinked = {k: v for k, v in linked.json().items() if k != "link"}
    assert http.put(f"{base}/Patient/{a['id']}", json=unlinked).status_code == 200
    other = read(http, base, b["id"])
    assert "link" not in other
    assert other["meta"]["versionId"] == "3"


def test_a_seealso_link_to_an_unknown_record_is_refused(base, http):
    a = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    response = http.put(f"{base}/Patient/{a['id']}", json={**a, "link": [_seealso("nobody")]})
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "business-rule"


def test_a_merged_away_record_still_reads_and_the_survivor_is_found_by_its_identifier(
        base, http):
    lrid, pnr = make_lrid(), make_pnr()
    source = create(http, base, ident(LRID_SYSTEM, lrid))
    target = create(http, base, ident(PNR_SYSTEM, pnr))
    assert merge(http, base, params(source, target)).status_code == 200
    merged_away = read(http, base, source["id"])
    assert merged_away["active"] is False
    assert merged_away["link"][0]["type"] == "replaced-by"
    for value in (f"{LRID_SYSTEM}|{lrid}", lrid, f"{PNR_SYSTEM}|{pnr}"):
        found = http.get(f"{base}/Patient", params={"identifier": value,
                                                     "active": "true"}).json()
        assert [e["resource"]["id"] for e in found["entry"]] == [target["id"]], value
    everyone = http.get(f"{base}/Patient", params={"identifier": lrid}).json()
    assert sorted(e["resource"]["id"] for e in everyone["entry"]) == sorted(
        [source["id"], target["id"]])


def test_include_patient_link_returns_the_merged_records(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    pnr = make_pnr()
    target = create(http, base, ident(PNR_SYSTEM, pnr))
    assert merge(http, base, params(source, target)).status_code == 200
    bundle = http.get(f"{base}/Patient", params={"identifier": f"{PNR_SYSTEM}|{pnr}",
                                                 "_include": "Patient:link"}).json()
    modes = {e["resource"]["id"]: e["search"]["mode"] for e in bundle["entry"]}
    assert modes == {target["id"]: "match", source["id"]: "include"}


def test_a_merge_is_visible_in_the_history_of_both_records(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    assert merge(http, base, params(source, target)).status_code == 200
    for record in (source, target):
        history = http.get(f"{base}/Patient/{record['id']}/_history").json()
        assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]


def _merge_link(pid: str, link_type: str) -> dict:
    return {"other": {"reference": f"Patient/{pid}"}, "type": link_type}


def test_merge_links_are_refused_on_create_update_patch_and_in_a_transaction(base, http):
    survivor = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    body = {"resourceType": "Patient", "active": False,
            "identifier": [ident(LRID_SYSTEM, make_lrid())],
            "link": [_merge_link(survivor["id"], "replaced-by")]}
    refusals = [
        http.post(f"{base}/Patient", json=body),
        http.put(f"{base}/Patient/{survivor['id']}", json={
            **survivor, "link": [_merge_link(create(http, base)["id"], "replaces")]}),
        http.patch(f"{base}/Patient/{survivor['id']}", data=json.dumps([
            {"op": "add", "path": "/link", "value": [_merge_link(create(http, base)["id"],
                                                                  "replaces")]}]),
                   headers={"Content-Type": "application/json-patch+json"}),
    ]
    for response in refusals:
        assert response.status_code == 422, response.text
        issue = response.json()["issue"][0]
        assert issue["code"] == "business-rule" and "$merge" in issue["diagnostics"]
        assert issue["expression"] == ["Patient.link"]
    transaction = http.post(base, json={"resourceType": "Bundle", "type": "transaction",
                                        "entry": [{"request": {"method": "POST",
                                                               "url": "Patient"},
                                                   "resource": body}]})
    assert transaction.status_code == 422
    assert read(http, base, survivor["id"]) == survivor


def test_a_merged_record_can_be_edited_but_its_merge_links_only_undone_by_unmerge(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    assert merge(http, base, params(source, target)).status_code == 200
    merged_away = read(http, base, source["id"])
    renamed = {**merged_away, "name": [{"family": "Rättad", "given": ["Stavning"]}]}
    assert http.put(f"{base}/Patient/{source['id']}", json=renamed).status_code == 200
    unlinked = {k: v for k, v in read(http, base, source["id"]).items() if k != "link"}
    response = http.put(f"{base}/Patient/{source['id']}", json=unlinked)
    assert response.status_code == 422
    assert "$unmerge" in response.json()["issue"][0]["diagnostics"]
    assert read(http, base, source["id"])["link"] == merged_away["link"]


def test_a_seealso_link_between_records_that_contradict_each_other_is_refused(base, http):
    pnr_record = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    other_pnr = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    other_birth = create(http, base, ident(LRID_SYSTEM, make_lrid()), birth="1998-02-01")
    for other, why in ((other_pnr, "Personnummer"), (other_birth, "birth dates")):
        response = http.put(f"{base}/Patient/{pnr_record['id']}",
                            json={**pnr_record, "link": [_seealso(other["id"])]})
        assert response.status_code == 422, response.text
        issue = response.json()["issue"][0]
        assert issue["code"] == "business-rule" and why in issue["diagnostics"]
        assert issue["expression"] == ["Patient.link[0].other"]
        assert read(http, base, other["id"]) == other
    same_person = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    linked = http.put(f"{base}/Patient/{pnr_record['id']}",
                      json={**pnr_record, "link": [_seealso(same_person["id"])]})
    assert linked.status_code == 200, linked.text
