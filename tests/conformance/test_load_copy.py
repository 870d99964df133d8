"""``python -m app load`` stores exactly what the REST API stores and refuses what it refuses
(issue 16): on PostgreSQL the load prepares records in worker processes and COPYs them
(app/services/bulk_copy.py), on SQLite it writes each through the service; the same tests
hold for both.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import orjson
import pytest
from sqlalchemy import bindparam, create_engine, text

from app.domain.protection import SECURITY_LABEL_SYSTEM
from tests.conformance.test_cli import cli
from tests.operations.merge_helpers import make_lrid
from tests.support import LRID_SYSTEM, PNR_SYSTEM, SNR_SYSTEM, make_pnr, patient, unique_name

HELD = ("with this value is already held by another active Patient (Patient/{holder}); use "
        "conditional create to get or create")
LABEL = {"system": SECURITY_LABEL_SYSTEM, "code": "sekretessmarkering"}
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")


def ndjson(path, lines: list[Any]) -> str:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                            for line in lines))
    return str(path)


def loaded_cleanly(done) -> None:
    """The load refused nothing and failed on nothing. It may exit 2 for links that other
    tests left dangling in the session's database (reported for the whole database)."""
    assert "\nresource " not in done.stderr, done.stderr
    assert done.returncode == 0 or (
        done.returncode == 2
        and "link(s) point at Patients that are not in the database" in done.stderr), (
        done.stderr)


def varied(family: str) -> list[dict[str, Any]]:
    """Patients with what the index rows come from: every identity kind, names with
    diacritics, addresses (with the characters COPY escapes, together and alone), telecom,
    a protected person, an inactive one, one without a birth date, one with an id of its
    own."""
    return [
        patient(family, given="Åsa", pnr=make_pnr(female=True),
                telecom=[{"system": "phone", "value": "070-123 45 67", "use": "mobile"},
                         {"system": "email", "value": "Asa.X@Example.org"}],
                address=[{"line": ["Storgatan 1 lgh 1102"], "postalCode": "41301",
                          "city": "Göteborg",
                          # what COPY's text format escapes: backslash, tab, line breaks
                          "text": "Storgatan 1\\B\tlgh 1102\r\n41301 Göteborg"}]),
        # each alone with the rest plain: a backslash, a carriage return
        patient(family, given="Erik Olof", gender="male",
                identifier=[{"system": SNR_SYSTEM, "value": make_pnr(snr=True)}],
                address=[{"line": ["c/o Berg\\Lund"]}]),
        patient(family, given="Lisa", identifier=[{"system": LRID_SYSTEM,
                                                   "value": make_lrid()}],
                address=[{"city": "Norra\rsidan"}]),
        patient(family, given="Sara", pnr=make_pnr(), meta={"security": [LABEL]}),
        patient(family, given="Inaktiv", pnr=make_pnr(), active=False),
        patient(family, given="Okänd", birth=None, gender="unknown"),
        patient(family, given="Egen", id=f"own-{family.lower()}", pnr=make_pnr()),
    ]


def stored_rows(database, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Everything stored about each Patient but its id and times, by its given name."""
    engine = create_engine(database.url)
    rows: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for patient_id in ids:
            row = conn.execute(text(
                "SELECT version_id, deleted, active, protected, gender, birth_lo, birth_hi, "
                "sort_family, sort_given, resource, match_record FROM patient WHERE id = :id"),
                {"id": patient_id}).mappings().one()
            resource = orjson.loads(row["resource"])
            name = resource["name"][0]["given"][0]
            resource["meta"].pop("lastUpdated")
            resource.pop("id")
            history = conn.execute(text(
                "SELECT version_id, method, deleted, protected, resource FROM patient_history "
                "WHERE id = :id"), {"id": patient_id}).all()
            rows[name] = {
                **{key: row[key] for key in row if key != "resource"},
                "resource": resource,
                "history": [(v, m, d, p, orjson.loads(r)["meta"]["versionId"])
                            for v, m, d, p, r in history],
                **{table: Counter(tuple(r) for r in conn.execute(text(
                    f"SELECT {columns} FROM {table} WHERE patient_id = :id"),
                    {"id": patient_id}).all())
                   for table, columns in (
                       ("patient_identifier", "system, value, active"),
                       ("patient_string", "param, folded, exact"),
                       ("patient_token", "param, system, code"),
                       ("patient_link", "target_id, type"))},
            }
    engine.dispose()
    return rows


def family_ids(database, family: str) -> list[str]:
    engine = create_engine(database.url)
    with engine.connect() as conn:
        ids = conn.execute(text(
            "SELECT DISTINCT patient_id FROM patient_string WHERE param = 'family' "
            "AND folded = :f"), {"f": family.lower()}).scalars().all()
    engine.dispose()
    return sorted(ids)


def test_a_load_stores_the_rows_the_rest_api_stores(database, server, base, fhir, tmp_path):
    """The same resources created through REST and loaded from a file: the same current
    row, resource, $match record, history row and index rows."""
    family = unique_name("Lika")
    resources = varied(family)
    made = []
    for resource in resources:
        if "id" in resource:
            answer = fhir.put(f"{base}/Patient/{resource['id']}", json=resource)
        else:
            answer = fhir.post(f"{base}/Patient", json=resource)
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["id"])
    by_rest = stored_rows(database, made)
    engine = create_engine(database.url)
    with engine.begin() as conn:  # gone without a trace: the identifiers and the id free
        for table, column in (("patient_identifier", "patient_id"),
                              ("patient_string", "patient_id"), ("patient_token", "patient_id"),
                              ("patient_link", "patient_id"), ("patient_history", "id"),
                              ("patient", "id")):
            conn.execute(text(f"DELETE FROM {table} WHERE {column} IN :ids")
                         .bindparams(bindparam("ids", expanding=True)), {"ids": made})
    engine.dispose()
    done = cli(database, "load", ndjson(tmp_path / "same.ndjson", resources))
    loaded_cleanly(done)
    assert "created 7, updated 0, refused 0" in done.stdout
    loaded = family_ids(database, family)
    assert len(loaded) == 7 and set(loaded) & set(made) == {made[-1]}
    assert stored_rows(database, loaded) == by_rest


def test_a_load_refuses_what_the_rest_api_refuses(database, server, base, fhir, tmp_path):
    """Identifiers held by a stored Patient or an earlier line are refused with the REST
    API's 409 text (the first line keeps its number; an inactive Patient holds none),
    invalid Patients with its 400/422 text; other resource types are skipped."""
    family = unique_name("Neka")
    taken, twice, reused = make_pnr(), make_pnr(), make_pnr()
    holder = fhir.post(f"{base}/Patient", json=patient(family, given="Rest", pnr=taken))
    assert holder.status_code == 201
    lines = [
        patient(family, given="Forst", pnr=twice),
        patient(family, given="Tagen", pnr=taken),
        patient(family, given="Andra", pnr=twice),
        patient(family, given="Slutad", pnr=reused, active=False),
        patient(family, given="Aktiv", pnr=reused),
        patient(family, given="Fel", identifier=[{"system": PNR_SYSTEM,
                                                  "value": "196512073246"}]),
        {"resourceType": "Observation", "status": "final"},
        patient(family, given="Sist"),
    ]
    done = cli(database, "load", ndjson(tmp_path / "refused.ndjson", lines))
    assert done.returncode == 2
    assert "created 4, updated 0, refused 3, skipped 1 (8 of 8 done" in done.stdout
    found = fhir.get(f"{base}/Patient", params={"family": family, "_count": "50"}).json()
    by_given = {e["resource"]["name"][0]["given"][0]: e["resource"]["id"]
                for e in found["entry"]}
    assert sorted(by_given) == ["Aktiv", "Forst", "Rest", "Sist", "Slutad"]
    assert (f"resource 2: Identifier {PNR_SYSTEM} "
            + HELD.format(holder=holder.json()["id"])) in done.stderr
    assert (f"resource 3: Identifier {PNR_SYSTEM} "
            + HELD.format(holder=by_given["Forst"])) in done.stderr
    assert "resource 6: " in done.stderr and "196512073246" not in done.stderr
    rest = fhir.post(f"{base}/Patient", json=patient(family, identifier=[
        {"system": PNR_SYSTEM, "value": "196512073246"}]))
    assert rest.json()["issue"][0]["diagnostics"] in done.stderr


def test_links_updates_and_protection_through_a_later_line(database, server, fhir, base,
                                                          tmp_path):
    """A line linking to a record later in the file, a protected record arriving after the
    link to it, an id that exists (an update) and one that comes twice: as written one by
    one, in file order."""
    family = unique_name("Lank")
    first, protected = f"first-{family.lower()}", f"skyddad-{family.lower()}"
    existing = f"finns-{family.lower()}"
    assert fhir.put(f"{base}/Patient/{existing}",
                    json=patient(family, given="Gammal", id=existing)).status_code == 201
    lines = [
        patient(family, given="Lankar", id=first,
                link=[{"other": {"reference": f"Patient/{protected}"}, "type": "seealso"}]),
        patient(family, given="Skyddad", id=protected, meta={"security": [LABEL]}),
        patient(family, given="Ny", id=existing),
        patient(family, given="Igen", id=existing),
    ]
    done = cli(database, "load", ndjson(tmp_path / "links.ndjson", lines))
    loaded_cleanly(done)
    assert "created 2, updated 2, refused 0" in done.stdout
    engine = create_engine(database.url)
    with engine.connect() as conn:
        flags = dict(conn.execute(text(
            "SELECT id, protected FROM patient WHERE id IN (:a, :b)"),
            {"a": first, "b": protected}).all())
        version = conn.execute(text("SELECT version_id FROM patient WHERE id = :id"),
                               {"id": existing}).scalar()
    engine.dispose()
    assert flags == {first: True, protected: True}
    assert version == 3
    assert fhir.get(f"{base}/Patient/{existing}").json()["name"][0]["given"] == ["Igen"]


@pytest.mark.skipif(not ON_POSTGRES, reason="the COPY load (on SQLite a line that is not "
                    "JSON stops the load before it starts: test_cli_errors)")
def test_the_copy_load_refuses_a_line_that_is_not_json_and_goes_on(database, server, tmp_path):
    family = unique_name("Trasig")
    source = ndjson(tmp_path / "broken.ndjson",
                    [patient(family), '{"resourceType": "Patient", ', patient(family)])
    done = cli(database, "load", source, "--workers", "2", "--batch-size", "1")
    assert done.returncode == 2
    assert "created 2, updated 0, refused 1, skipped 0 (3 of 3 done" in done.stdout
    assert "resource 2: not a JSON line" in done.stderr


def test_a_load_not_on_a_terminal_prints_progress_lines(database, server, tmp_path):
    """Output to a pipe: no bar of carriage returns, progress lines with count, rate and
    the time left (issue 15)."""
    family = unique_name("Rader")
    source = ndjson(tmp_path / "progress.ndjson", [patient(family) for _ in range(5)])
    done = cli(database, "load", source, "--batch-size", "2")
    loaded_cleanly(done)
    assert "\r" not in done.stderr
    last = [line for line in done.stderr.splitlines() if line.startswith("loading: ")][-1]
    assert last.startswith("loading: 5 of 5 (100.0 %), ") and "/s, " in last
    assert "ETA 0:00:00" in last
