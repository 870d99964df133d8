"""``$unmerge`` end to end: an exact round trip, chains undone in reverse order, other
merges untouched, and one test per refusal."""

from __future__ import annotations

from tests.operations.merge_helpers import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    PNR_SYSTEM,
    RECORD_MANAGEMENT,
    create,
    ident,
    make_lrid,
    make_nrid,
    make_pnr,
    merge,
    output,
    params,
    read,
    unmerge,
    without_meta,
)


def test_merge_then_unmerge_gives_back_both_records_byte_for_byte(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()), ident(
        "urn:oid:1.2.3.4", "local-7"), birth=None)
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()), active=True,
                    telecom=[{"system": "phone", "value": "070-1234567"}])
    before = {pid: http.get(f"{base}/Patient/{pid}").content
              for pid in (source["id"], target["id"])}
    assert merge(http, base, params(source, target)).status_code == 200
    response = unmerge(http, base, params(source, target, reason="Wrong person"))
    assert response.status_code == 200, response.text
    assert output(response, "result")["meta"]["versionId"] == "3"
    for pid, original in before.items():
        now = http.get(f"{base}/Patient/{pid}")
        assert now.json()["meta"]["versionId"] == "3"
        # Same bytes apart from meta: compare the serialisations with meta cut out.
        assert _cut_meta(now.content) == _cut_meta(original)
        assert without_meta(now.json()) == without_meta(read_json(original))


def test_unmerge_also_undoes_what_result_patient_changed(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()), ident("urn:oid:1.2.3.4", "t-1"))
    wanted = {**target, "name": [{"family": "Sammanslagen", "given": ["Ny"]}],
              "telecom": [{"system": "phone", "value": "070-7654321"}],
              "identifier": [target["identifier"][0], {**target["identifier"][1],
                                                       "use": "secondary"},
                             ident("urn:oid:1.2.3.5", "added-in-merge")]}
    assert merge(http, base, params(source, target, result_patient=wanted)).status_code == 200
    assert read(http, base, target["id"])["telecom"] == wanted["telecom"]
    assert unmerge(http, base, params(source, target)).status_code == 200
    assert without_meta(read(http, base, target["id"])) == without_meta(target)
    assert without_meta(read(http, base, source["id"])) == without_meta(source)


def test_unmerge_keeps_an_edit_made_after_the_merge(base, http):
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    wanted = {**target, "name": [{"family": "Sammanslagen", "given": ["Ny"]}],
              "telecom": [{"system": "phone", "value": "070-7654321"}]}
    assert merge(http, base, params(source, target, result_patient=wanted)).status_code == 200
    later = {**read(http, base, target["id"]), "name": [{"family": "Senare", "given": ["Ändrad"]}]}
    assert http.put(f"{base}/Patient/{target['id']}", json=later).status_code == 200
    assert unmerge(http, base, params(source, target)).status_code == 200
    restored = read(http, base, target["id"])
    assert restored["name"] == later["name"]  # edited since the merge: the edit stays
    assert "telecom" not in restored  # written by the merge and untouched: undone
    assert restored["identifier"] == target["identifier"]


def _cut_meta(raw: bytes) -> bytes:
    start = raw.index(b'"meta":')
    end = raw.index(b"}", start) + 1
    return raw[:start] + raw[end:]


def read_json(raw: bytes) -> dict:
    import json

    loaded: dict = json.loads(raw)
    return loaded


def test_after_unmerge_each_identifier_finds_its_own_record_again(base, http):
    lrid = make_lrid()
    source = create(http, base, ident(LRID_SYSTEM, lrid))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    assert merge(http, base, params(source, target)).status_code == 200
    found = http.get(f"{base}/Patient", params={"identifier": f"{LRID_SYSTEM}|{lrid}",
                                                 "active": "true"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [target["id"]]
    assert unmerge(http, base, params(source, target)).status_code == 200
    found = http.get(f"{base}/Patient", params={"identifier": f"{LRID_SYSTEM}|{lrid}",
                                                 "active": "true"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [source["id"]]


def test_unmerge_records_a_provenance_pointing_at_the_merge(base, http):
    source = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    target = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    assert merge(http, base, params(source, target)).status_code == 200
    assert unmerge(http, base, params(source, target, reason="Mixed up")).status_code == 200
    found = http.get(f"{base}/Provenance", params={"target": f"Patient/{source['id']}"}).json()
    assert found["total"] == 2
    undo, done = (e["resource"] for e in found["entry"])
    assert undo["activity"]["text"] == "UNMERGE"
    assert undo["entity"] == [{"role": "source", "what": {"reference": f"Provenance/{done['id']}"}}]
    assert undo["reason"] == [{"coding": [RECORD_MANAGEMENT], "text": "Mixed up"}]
    assert undo["target"] == [{"reference": f"Patient/{target['id']}/_history/3"},
                              {"reference": f"Patient/{source['id']}/_history/3"}]


def test_chained_merges_are_undone_in_reverse_order(base, http):
    a = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    b = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    c = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    originals = {r["id"]: without_meta(r) for r in (a, b, c)}
    assert merge(http, base, params(a, b)).status_code == 200
    assert merge(http, base, params(b, c)).status_code == 200
    survivor = read(http, base, c["id"])
    assert {i["value"] for i in survivor["identifier"]} == {
        i["value"] for r in (a, b, c) for i in r["identifier"]}
    out_of_order = unmerge(http, base, params(a, b))
    assert out_of_order.status_code == 422
    assert out_of_order.json()["issue"][0]["code"] == "business-rule"
    assert f"Patient/{c['id']}" in out_of_order.json()["issue"][0]["diagnostics"]
    assert unmerge(http, base, params(b, c)).status_code == 200
    assert unmerge(http, base, params(a, b)).status_code == 200
    for pid, original in originals.items():
        assert without_meta(read(http, base, pid)) == original


def test_unmerge_leaves_other_merges_into_the_same_target_alone(base, http):
    a = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    b = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    c = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    assert merge(http, base, params(a, c)).status_code == 200
    assert merge(http, base, params(b, c)).status_code == 200
    assert unmerge(http, base, params(a, c)).status_code == 200
    survivor = read(http, base, c["id"])
    assert survivor["link"] == [{"other": {"reference": f"Patient/{b['id']}"},
                                 "type": "replaces"}]
    assert survivor["identifier"] == [*c["identifier"], {**b["identifier"][0], "use": "old"}]
    assert read(http, base, b["id"])["active"] is False
    assert without_meta(read(http, base, a["id"])) == without_meta(a)


def test_unmerge_of_a_merge_that_was_not_made_is_refused(base, http):
    a = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    b = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    response = unmerge(http, base, params(a, b))
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "business-rule"
    assert merge(http, base, params(a, b)).status_code == 200
    assert unmerge(http, base, params(a, b)).status_code == 200
    twice = unmerge(http, base, params(a, b))
    assert twice.status_code == 422
    assert twice.json()["issue"][0]["code"] == "business-rule"


def test_unmerge_in_the_wrong_direction_is_refused(base, http):
    a = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    b = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    assert merge(http, base, params(a, b)).status_code == 200
    response = unmerge(http, base, params(b, a))
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "business-rule"


def test_unmerge_preview_changes_nothing(base, http):
    a = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    b = create(http, base, ident(PNR_SYSTEM, make_pnr()))
    merged = output(merge(http, base, params(a, b)), "result")
    response = unmerge(http, base, params(a, b, preview=True))
    assert response.status_code == 200
    assert without_meta(output(response, "result")) == without_meta(b)
    assert read(http, base, b["id"]) == merged


def test_unmerge_errors_for_unknown_records_and_bad_parameters(base, http):
    a = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    assert unmerge(http, base, params("nobody-here", a)).status_code == 404
    bad = unmerge(http, base, params(a, a, force=True))
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["code"] == "invalid"
