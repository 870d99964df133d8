"""``$match`` on a Swedish population, through the running server: households, twins,
namesakes, swapped names, married names, transposed dates, the explanation, and refitting
the model from the command line. Each test owns its family names (``unique_name``), so no
other test's records can rank among its candidates."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import requests

from tests.operations.test_match import a_birth_date, create, run_match
from tests.support import ROOT, Server, patient, unique_name

EXPLANATION = "http://sweid.example/fhir/StructureDefinition/match-explanation"
MODEL_TAG = "http://sweid.example/fhir/match-model"


def home(street: str = "Storgatan 12 lgh 1102") -> dict[str, Any]:
    return {"address": [{"line": [street], "postalCode": "41255", "city": "Göteborg"}],
            "telecom": [{"system": "phone", "value": "031-123456"}]}


def entries(bundle: dict[str, Any]) -> dict[str, tuple[str, float, str]]:
    """id → (grade, score, explanation) of each returned candidate."""
    found = {}
    for entry in bundle.get("entry", []):
        extensions = {e["url"]: e for e in entry["search"]["extension"]}
        found[entry["resource"]["id"]] = (
            extensions["http://hl7.org/fhir/StructureDefinition/match-grade"]["valueCode"],
            entry["search"]["score"], extensions[EXPLANATION]["valueString"])
    return found


def test_a_twin_at_the_same_address_is_not_graded_probable(base, http):
    family, birth = unique_name("Tvilling"), a_birth_date()
    stored = create(http, base, patient(family, given="Emma", birth=birth, **home()))
    found = entries(run_match(http, base, patient(family, given="Emil", birth=birth,
                                                  gender="male", **home())))
    assert found.get(stored["id"], ("possible",))[0] == "possible"
    if stored["id"] in found:
        assert "capped at possible" in found[stored["id"]][2]
    # The person herself, same data: probable.
    found = entries(run_match(http, base, patient(family, given="Emma", birth=birth, **home())))
    assert found[stored["id"]][0] == "probable"


def test_a_household_member_is_not_graded_probable(base, http):
    family = unique_name("Hushall")
    mother = create(http, base, patient(family, given="Karin", birth="1968-03-14", **home()))
    son = patient(family, given="Oskar", birth="1996-10-02", gender="male", **home())
    junior = patient(family, given="Karin", birth="1993-07-30", **home())
    for query in (son, junior):
        found = entries(run_match(http, base, query))
        assert found.get(mother["id"], ("possible",))[0] == "possible", query


def test_a_namesake_in_a_big_city_is_not_graded_probable(base, http):
    family = unique_name("Namne")
    stockholm = {"address": [{"line": ["Kyrkogatan 3"], "postalCode": "11122",
                              "city": "Stockholm"}]}
    stored = create(http, base, patient(family, given="Lars", gender="male",
                                        birth="1961-08-09", **stockholm))
    namesake = patient(family, given="Lars", gender="male", birth="1979-01-22",
                       address=[{"line": ["Skolgatan 8"], "postalCode": "11635",
                                 "city": "Stockholm"}])
    found = entries(run_match(http, base, namesake))
    assert found.get(stored["id"], ("possible",))[0] == "possible"


def test_swapped_name_fields_never_score_above_the_names_in_place(base, http):
    family, birth = unique_name("Byte"), a_birth_date()
    stored = create(http, base, patient(family, given="Maja", birth=birth))
    exact = entries(run_match(http, base, patient(family, given="Maja", birth=birth)))
    swapped = entries(run_match(http, base, patient("Maja", given=family, birth=birth)))
    assert stored["id"] in swapped
    assert swapped[stored["id"]][1] <= exact[stored["id"]][1]
    assert "given and family name swapped" in swapped[stored["id"]][2]


def test_a_woman_who_married_and_moved_is_still_a_candidate(base, http):
    maiden, married, birth = unique_name("Flicknamn"), unique_name("Gift"), a_birth_date()
    stored = create(http, base, patient(maiden, given="Sara", birth=birth, **home()))
    query = patient(married, given="Sara", birth=birth,
                    address=[{"line": ["Parkvägen 2"], "postalCode": "90330",
                              "city": "Umeå"}])
    found = entries(run_match(http, base, query))
    assert found[stored["id"]][0] in ("possible", "probable")
    assert "family name: different" in found[stored["id"]][2]


def test_a_transposed_birth_date_is_still_probable_and_says_so(base, http):
    family = unique_name("Datum")
    stored = create(http, base, patient(family, given="Elsa", birth="1985-03-07"))
    found = entries(run_match(http, base, patient(family, given="Elsa", birth="1985-07-03")))
    assert found[stored["id"]][0] == "probable"
    assert "birth date: day and month swapped" in found[stored["id"]][2]


def test_every_candidate_carries_an_explanation_and_the_model_is_named(base, http):
    family, birth = unique_name("Forklaring"), a_birth_date()
    stored = create(http, base, patient(family, given="Ebba", birth=birth))
    bundle = run_match(http, base, patient(family, given="Ebba", birth=None))
    grade, _, text = entries(bundle)[stored["id"]]
    assert "family name: same" in text and "birth date: missing" in text
    assert "Ebba" not in text and family not in text  # outcomes, never values
    version = bundle["meta"]["tag"][0]
    assert version["system"] == MODEL_TAG
    metadata = http.get(f"{base}/metadata").json()
    patient_entry = metadata["rest"][0]["resource"][0]
    match = next(op for op in patient_entry["operation"] if op["name"] == "match")
    assert version["code"] in match["documentation"]


def test_the_model_is_refitted_from_the_command_line_and_served(base, http, database,
                                                                 tmp_path):
    family = unique_name("Refit")
    for i, given in enumerate(("Alva", "Bror", "Cilla")):
        create(http, base, patient(family, given=given, birth=f"197{i}-01-0{i + 1}"))
    output = tmp_path / "model.json"
    env = {"DATABASE_URL": database.url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "app", "match", "fit", "--output",
                           str(output), "--version", "refit-test"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    model = json.loads(output.read_text())
    assert model["version"] == "refit-test"
    assert model["fitted"]["records"] >= 3
    assert model["frequencies"]["family"]["records"] > 0
    shown = subprocess.run([sys.executable, "-m", "app", "match", "show"], cwd=ROOT,
                           env={**env, "MATCH_MODEL_FILE": str(output)}, capture_output=True,
                           text=True, timeout=60)
    assert json.loads(shown.stdout)["version"] == "refit-test"
    server = Server(database, env={"MATCH_MODEL_FILE": str(output)}, workers=1).start()
    try:
        bundle = requests.post(f"{server.base}/Patient/$match", json={
            "resourceType": "Parameters",
            "parameter": [{"name": "resource", "resource": patient(family, given="Alva",
                                                                   birth="1970-01-01")}]},
            headers={"Content-Type": "application/fhir+json"}, timeout=30).json()
        assert bundle["meta"]["tag"][0]["code"] == "refit-test"
        assert bundle["entry"][0]["resource"]["name"][0]["given"] == ["Alva"]
    finally:
        server.stop()


def test_a_broken_model_file_stops_the_server_with_a_clear_message(database, tmp_path):
    broken = tmp_path / "model.json"
    broken.write_text('{"format": 1}')
    done = subprocess.run([sys.executable, "-m", "app", "match", "show"], cwd=ROOT,
                          env={"DATABASE_URL": database.url, "MATCH_MODEL_FILE": str(broken),
                               "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "model file lacks" in done.stderr and "Traceback" not in done.stderr
