"""``python -m app load`` / ``export`` / ``profiles`` against the session database, checked
through the running server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import click
import pytest

from app.cli import main
from tests.operations.merge_helpers import make_lrid, make_nrid, params, without_meta
from tests.support import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    ROOT,
    Database,
    make_pnr,
    patient,
    unique_name,
)


def cli(database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database.url}
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


#: Every command api.md names ("Start and test") and the options each must document.
COMMANDS: dict[tuple[str, ...], set[str]] = {
    ("load",): {"--batch-size", "--job", "--checkpoint", "--resume", "--restart", "--skip",
                "--workers"},
    ("export",): {"-o", "--output", "--page-size"},
    ("downtime-pack",): {"--women", "--men", "--birth-date", "--family", "--given", "--system",
                         "--request-id", "--csv", "--text"},
    ("db", "upgrade"): set(),
    ("demo",): {"--size", "--seed"},
    ("reserve-ids", "list"): set(),
    ("profiles",): {"--check"},
    ("match", "fit"): {"-o", "--output", "--sample", "--seed", "--version"},
    ("match", "show"): set(),
    ("subscriptions", "list"): set(),
    ("subscriptions", "pending"): {"--limit"},
    ("subscriptions", "deliver"): set(),
}
_BRACKETS = re.compile(r"\[[^\]]*\]")


def help_options(text: str) -> dict[str, str]:
    """The Options section of a click --help: each option name → its description (without
    the [default: …] / [required] / range notes)."""
    section = text.split("Options:", 1)[1].split("Commands:", 1)[0]
    entries: list[tuple[list[str], list[str]]] = []
    for line in section.splitlines():
        if re.match(r"^  -", line):
            names, _, description = line.strip().partition("  ")
            flags = [n.rstrip(",") for n in re.split(r"[ /]+", names) if n.startswith("-")]
            entries.append((flags, [description]))
        elif line.strip() and entries:
            entries[-1][1].append(line.strip())
    return {flag: _BRACKETS.sub("", " ".join(words)).strip()
            for flags, words in entries for flag in flags}


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf command of the CLI, as the words that invoke it."""
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += command_paths(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_help_lists_every_command_with_a_description(database):
    done = cli(database, "--help")
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("Commands:", 1)[1]
    for path in COMMANDS:
        assert re.search(rf"^  {re.escape(path[0])}\s+\S", listed, re.MULTILINE), path[0]


@pytest.mark.parametrize("path", sorted(set(COMMANDS) | set(command_paths(main))),
                         ids=" ".join)
def test_each_command_help_documents_what_it_does_and_every_option(database, path):
    assert path in COMMANDS, f"{' '.join(path)} is not known to this test: add its options"
    assert path in command_paths(main), f"{' '.join(path)} is gone from the CLI"
    done = cli(database, *path, "--help")
    assert done.returncode == 0, done.stderr
    usage, _, rest = done.stdout.partition("\n")
    assert usage.startswith(f"Usage: python -m app {' '.join(path)} ")
    summary = rest.split("Options:", 1)[0].strip()
    assert len(summary) > 20, f"{' '.join(path)} has no description"
    documented = help_options(done.stdout)
    assert COMMANDS[path] | {"--help"} == set(documented), documented
    undocumented = [flag for flag, text in documented.items() if not text]
    assert not undocumented, f"{' '.join(path)}: options without a description {undocumented}"


def test_load_a_bundle_then_the_patients_are_searchable(database, server, base, fhir, tmp_path):
    family = unique_name("Laddad")
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": patient(family, pnr=make_pnr(), given=f"N{i}")} for i in range(5)]}
    source = tmp_path / "bundle.json"
    source.write_text(json.dumps(bundle))
    done = cli(database, "load", str(source), "--batch-size", "2")
    assert done.returncode == 0, done.stderr
    assert "created 5" in done.stdout
    found = fhir.get(f"{base}/Patient", params={"family": family, "_total": "accurate"}).json()
    assert found["total"] == 5


def _shaped(shape: str, resources: list[dict]) -> bytes:
    """``resources`` written as a file of ``shape``."""
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": resource} for resource in resources]}
    if shape == "bundle on one line":
        return json.dumps(bundle).encode()
    if shape == "bundle indented":
        return json.dumps(bundle, indent=2, ensure_ascii=False).encode()
    if shape == "one resource indented":
        return json.dumps(resources[0], indent=2).encode()
    lines = [json.dumps(resource, ensure_ascii=False).encode() for resource in resources]
    if shape == "ndjson, CRLF, blank lines, no final break":
        return b"  \r\n" + b"\r\n\r\n".join(lines)
    return b"\n".join(lines) + b"\n"


@pytest.mark.parametrize("shape", ["bundle on one line", "bundle indented",
                                   "one resource indented", "ndjson",
                                   "ndjson, CRLF, blank lines, no final break"])
def test_load_reads_each_shape_of_file(database, server, base, fhir, tmp_path, shape):
    """A Bundle or a resource (on one line or indented) and NDJSON (any line breaks, blank
    lines) load the same Patients."""
    family = unique_name("Formen")
    resources = [patient(family, pnr=make_pnr(), given=f"Åsa{i}") for i in range(3)]
    source = tmp_path / "source"
    source.write_bytes(_shaped(shape, resources))
    done = cli(database, "load", str(source))
    assert done.returncode == 0, done.stderr
    expected = 1 if shape == "one resource indented" else 3
    assert f"created {expected}, updated 0, refused 0" in done.stdout
    found = fhir.get(f"{base}/Patient", params={"family": family, "_total": "accurate"}).json()
    assert found["total"] == expected


@pytest.mark.parametrize("bad", [
    b'{"resourceType":"Patient","name":[{"family":"Str\xf6m"}]}',  # Latin-1, not UTF-8
    b'{"resourceType":"Patient","name":[{"family":"\\ud800"}]}',  # a lone surrogate
    b'{"resourceType":"Patient","multipleBirthInteger":NaN}',  # JSON has no NaN
    b'{"resourceType":"Patient","multipleBirthInteger":Infinity}',
    b'{"resourceType":"Patient","name":[{"family":"Tab\there"}]}',  # a raw control character
], ids=["latin1", "lone-surrogate", "nan", "infinity", "raw-tab"])
def test_a_line_that_is_not_strict_json_is_refused_by_its_number(database, server, tmp_path,
                                                                  bad):
    """A line that is not JSON by RFC 8259 — not UTF-8, a lone surrogate, ``NaN``, a raw
    control character — is refused with its position, as the REST API refuses such a body
    (the COPY load goes on after it; the load one statement at a time stops before it
    starts)."""
    family = unique_name("Kodad")
    lines = [json.dumps(patient(family, pnr=make_pnr(), given=f"N{i}")).encode()
             for i in range(2)]
    source = tmp_path / "bad.ndjson"
    source.write_bytes(lines[0] + b"\n\n" + bad + b"\n" + lines[1] + b"\n")
    done = cli(database, "load", str(source))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    if not database.is_postgres:
        assert f"{source}:3: not a JSON line" in done.stderr
    else:
        assert "resource 2: not a JSON line" in done.stderr
        assert "created 2, updated 0, refused 1" in done.stdout


def test_load_resumes_from_an_earlier_versions_checkpoint_and_reports_refused_lines(
        database, server, base, fhir, tmp_path):
    """A checkpoint file of an earlier version is read once (the job has no progress yet),
    never written; from then on the database's progress counts."""
    family = unique_name("Resume")
    lines = [patient(family, given=f"N{i}", id=f"resume-{family}-{i}") for i in range(6)]
    lines.append(patient(family, identifier=[{"system": "urn:oid:1.2.752.129.2.1.3.1",
                                              "value": "196512073246"}]))  # bad check digit
    source = tmp_path / "patients.ndjson"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    (tmp_path / "patients.ndjson.checkpoint").write_text("4")
    done = cli(database, "load", str(source))
    assert done.returncode == 2
    assert "created 2" in done.stdout and "refused 1" in done.stdout
    assert "7 of 7 done" in done.stdout
    assert "resource 7" in done.stderr and "196512073246" not in done.stderr
    assert (tmp_path / "patients.ndjson.checkpoint").read_text() == "4"
    found = fhir.get(f"{base}/Patient", params={"family": family, "_total": "accurate"}).json()
    assert sorted(e["resource"]["id"][-1] for e in found["entry"]) == ["4", "5"]
    resumed = cli(database, "load", str(source))
    assert resumed.returncode == 0
    assert "created 0, updated 0, refused 0, skipped 0 (7 of 7 done" in resumed.stdout
    again = cli(database, "load", str(source), "--restart")
    assert "created 4, updated 2" in again.stdout


def test_a_named_job_resumes_a_file_that_grew(database, server, base, fhir, tmp_path):
    """--job NAME: the progress belongs to the name, not to the file's content; --skip and
    --checkpoint still work (the latter deprecated)."""
    family = unique_name("Grows")
    source = tmp_path / "patients.ndjson"
    job = f"grows-{family}"
    source.write_text("".join(json.dumps(patient(family, given=f"N{i}")) + "\n"
                              for i in range(3)))
    first = cli(database, "load", str(source), "--job", job, "--checkpoint",
                str(tmp_path / "none"))
    assert first.returncode == 0 and "created 3" in first.stdout, first.stderr
    assert "--checkpoint is deprecated" in first.stderr
    with source.open("a") as grown:
        grown.write("".join(json.dumps(patient(family, given=f"N{i}")) + "\n"
                            for i in range(3, 5)))
    second = cli(database, "load", str(source), "--job", job)
    assert "created 2" in second.stdout and "5 of 5 done" in second.stdout
    skipped = cli(database, "load", str(source), "--job", f"{job}-again", "--skip", "4")
    assert "created 1" in skipped.stdout
    too_long = cli(database, "load", str(source), "--job", "x" * 197)
    assert too_long.returncode == 2 and "at most 196 characters" in too_long.stderr
    found = fhir.get(f"{base}/Patient", params={"family": family, "_total": "accurate"}).json()
    assert sorted(e["resource"]["name"][0]["given"][0] for e in found["entry"]) == [
        "N0", "N1", "N2", "N3", "N4", "N4"]


@pytest.mark.parametrize(("bad", "reason"), [
    # FHIR strings hold no U+0000 (nor can PostgreSQL's text).
    ({"given": ["Bad\u0000"]}, "control characters"),
    # The repeat limits of app/domain/limits.py hold for loads too (issue 14).
    ({"given": [f"Bad{n}" for n in range(21)]},
     "Patient.name[0].given has 21 items; this server accepts at most 20"),
])
def test_load_refuses_a_patient_the_rest_api_refuses(database, server, base, fhir, tmp_path,
                                                     bad, reason):
    """The line is refused and reported, the others are loaded, on both databases."""
    family = unique_name("Refload")
    refused = patient(family)
    refused["name"][0].update(bad)
    source = tmp_path / "patients.ndjson"
    source.write_text(json.dumps(patient(family, given="Ok")) + "\n"
                      + json.dumps(refused) + "\n")
    done = cli(database, "load", str(source))
    assert done.returncode == 2
    assert "created 1" in done.stdout and "refused 1" in done.stdout
    assert reason in done.stderr
    found = fhir.get(f"{base}/Patient", params={"family": family}).json()
    assert [e["resource"]["name"][0]["given"] for e in found["entry"]] == [["Ok"]]


def test_load_refuses_patient_types_of_the_wrong_shape(database, server, base, fhir, tmp_path):
    """Issue 14: a bulk load is held to the extension definitions like every other write;
    each broken patient type is reported with its rule, the good record is loaded."""
    family = unique_name("Typload")
    url = "http://sweid.example/fhir/StructureDefinition/patient-type"
    system = "http://sweid.example/fhir/CodeSystem/patient-type"
    broken = [{"url": url, "valueCodeableConcept": {"coding": [{"system": system,
                                                                "code": "oklar"}]}},
              {"url": url, "valueString": "oklar"},
              {"url": url, "valueCoding": {"system": system, "code": "OKLAR"}},
              {"url": url, "valueCoding": {"system": "http://example.org/types",
                                           "code": "oklar"}}]
    good = {"url": url, "valueCoding": {"system": system, "code": "reservnummer"}}
    source = tmp_path / "patients.ndjson"
    source.write_text("".join(json.dumps(patient(family, extension=[extension])) + "\n"
                              for extension in [good, *broken]))
    done = cli(database, "load", str(source))
    assert done.returncode == 2
    assert "created 1" in done.stdout and "refused 4" in done.stdout
    for position, rule in [(2, "not valueCodeableConcept"), (3, "not valueString"),
                           (4, "codes are case-sensitive"), (5, "valueCoding.system must be")]:
        assert re.search(rf"resource {position}: Patient.extension\[0\]: .*{rule}", done.stderr)
    found = fhir.get(f"{base}/Patient", params={"family": family}).json()
    assert [e["resource"]["extension"] for e in found["entry"]] == [[good]]


def test_export_writes_every_current_patient_as_ndjson(database, server, base, fhir, tmp_path):
    marker = fhir.post(f"{base}/Patient", json=patient(unique_name("Export"))).json()
    target = tmp_path / "out.ndjson"
    done = cli(database, "export", "-o", str(target))
    assert done.returncode == 0, done.stderr
    exported = [json.loads(line) for line in target.read_text().splitlines()]
    assert all(p["resourceType"] == "Patient" for p in exported)
    assert marker["id"] in {p["id"] for p in exported}
    assert len({p["id"] for p in exported}) == len(exported)


def test_profiles_check_reports_the_files_up_to_date(database):
    done = cli(database, "profiles", "--check")
    assert done.returncode == 0, done.stdout


def test_export_then_load_into_a_fresh_database_keeps_merges_and_links(database, server, base,
                                                                       fhir, tmp_path):
    """Linked records reference each other, so whichever comes first in the file names one
    that is not there yet: a load accepts that (and merge links, which REST refuses)."""
    lrid = fhir.post(f"{base}/Patient", json=patient(identifier=[
        {"system": LRID_SYSTEM, "value": make_lrid()}])).json()
    survivor = fhir.post(f"{base}/Patient", json=patient(pnr=make_pnr())).json()
    merged = fhir.post(f"{base}/Patient/$merge", json=params(lrid, survivor))
    assert merged.status_code == 200, merged.text
    nrid = fhir.post(f"{base}/Patient", json=patient(identifier=[
        {"system": NRID_SYSTEM, "value": make_nrid()}], link=[
        {"other": {"reference": f"Patient/{survivor['id']}"}, "type": "seealso"}])).json()
    ids = {lrid["id"], survivor["id"], nrid["id"]}
    exported = tmp_path / "all.ndjson"
    assert cli(database, "export", "-o", str(exported)).returncode == 0
    lines = [line for line in exported.read_text().splitlines() if json.loads(line)["id"] in ids]
    assert len(lines) == 3
    subset = tmp_path / "subset.ndjson"
    subset.write_text("\n".join(sorted(lines)) + "\n")  # an arbitrary order

    fresh = Database.fresh(tmp_path / "fresh")
    try:
        assert cli(fresh, "db", "upgrade").returncode == 0
        done = cli(fresh, "load", str(subset), "--batch-size", "1")
        assert done.returncode == 0, done.stderr
        assert "created 3" in done.stdout
        again = tmp_path / "again.ndjson"
        assert cli(fresh, "export", "-o", str(again)).returncode == 0
        loaded = {r["id"]: r for r in map(json.loads, again.read_text().splitlines())}
    finally:
        fresh.dispose()
    for line in lines:
        original = json.loads(line)
        assert without_meta(loaded[original["id"]]) == without_meta(original)


def test_load_reports_links_whose_target_never_arrives(database, tmp_path):
    source = tmp_path / "dangling.ndjson"
    source.write_text(json.dumps(patient(link=[
        {"other": {"reference": "Patient/never-loaded"}, "type": "seealso"}])) + "\n")
    done = cli(database, "load", str(source))
    assert done.returncode == 2
    assert "created 1" in done.stdout
    assert "1 link(s) point at Patients that are not in the database" in done.stderr
    assert "Patient/never-loaded" in done.stderr
