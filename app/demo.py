"""Demo data (``python -m app demo``, ``make demo``): a small synthetic Swedish population and
the situations of the routines in docs/domain.md §3, so that the README's examples find
something (issue 15).

The population comes from ``bench/swedish_population.py`` (personnummer with the tax
agency's test birth numbers 980–999 only, docs/domain.md §3.9; some samordningsnummer, NRID
and LRID VGR). Beside it: an asylum seeker's LRID VGR record with his LMA number, merged into
the personnummer record he got later (docs/domain.md §3.5), a record with a national reserve
identity, a person with skyddad folkbokföring (§3.6) and a downtime pack (§3.3). Everything
is written through the same services as the REST API, with fixed ids prefixed ``demo-``;
running it again adds only what is missing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from app.adapters.unit_of_work import UnitOfWork
from app.domain.access import Access
from app.services import merges, patients, reserve_ids
from app.services.transactions import run_write

PREFIX = "demo-"
ADMIN = Access(subject="demo", see_protected=True)
PNR = "urn:oid:1.2.752.129.2.1.3.1"
NRID = "urn:oid:1.2.752.74.9.1"
LRID = "urn:oid:1.2.752.113.11.0.2.1.1.1"
LMA = "http://electronichealth.se/identifier/LMA-nummer"
LABELS = "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel"
#: Identifier values the README's walkthrough creates itself: left out of the population.
WALKTHROUGH_VALUES = frozenset({"199801019820", "197503159829", "199803079814",
                                "991975000018"})
BATCH = 200


def _patient(family: str, given: list[str], gender: str, birth: str,
             identifiers: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient",
            "identifier": [{"system": system, "value": value} for system, value in identifiers],
            "name": [{"family": family, "given": given}], "gender": gender,
            "birthDate": birth, **extra}


#: The situations of docs/domain.md §3 beside the population, by id.
SITUATIONS: dict[str, dict[str, Any]] = {
    # Seed 001: an asylum seeker's LRID, found through his LMA number; later he gets a
    # personnummer, which becomes the main record (§3.5).
    f"{PREFIX}lrid-yusuf": _patient(
        "Ahmadi", ["Yusuf"], "male", "1981-08-29", [(LRID, "19810829M071"), (LMA, "1234567")],
        address=[{"line": ["Östra Hamngatan 4"], "postalCode": "41110", "city": "Göteborg"}]),
    f"{PREFIX}pnr-yusuf": _patient(
        "Ahmadi", ["Yusuf"], "male", "1981-08-29", [(PNR, "198108299812")],
        address=[{"line": ["Östra Hamngatan 4"], "postalCode": "41110", "city": "Göteborg"}]),
    # docs/domain.md §2.2's example NRID: a woman born 1995-06-06.
    f"{PREFIX}nrid-okand": _patient("Okänd", ["Kvinna"], "female", "1995-06-06",
                                    [(NRID, "22950606FH20")]),
    # §3.6: skyddad folkbokföring; other callers see identity, name and county only.
    f"{PREFIX}skyddad-sara": _patient(
        "Lindqvist", ["Sara"], "female", "1990-04-12", [(PNR, "199004129848")],
        meta={"security": [{"system": LABELS, "code": "skyddadFolkbokforing"}]},
        telecom=[{"system": "phone", "value": "070-000 00 00"}],
        address=[{"line": ["Hemlig gata 1"], "city": "Göteborg", "state": "Västra Götaland"}]),
}
#: (merged-away record, survivor).
MERGES = ((f"{PREFIX}lrid-yusuf", f"{PREFIX}pnr-yusuf"),)
DOWNTIME_PACK = reserve_ids.ReserveOrder(
    count=10, request_id=f"{PREFIX}downtime-pack",
    patient={"resourceType": "Patient", "gender": "female", "birthDate": "2019-01-01",
             "name": [{"family": "DRIFTSTOPP", "given": ["AKUTEN", "SÄS"]}]})


@dataclass
class DemoResult:
    """What ``load_demo`` added (records already there are left as they are)."""

    added: int = 0
    present: int = 0
    merged: list[str] = field(default_factory=list)
    pack: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the person who ran it."""
        return (f"added {self.added} demo Patients ({self.present} were there already), "
                f"{len(self.merged)} merge(s), a downtime pack of {len(self.pack)} NRIDs")


def population(size: int, seed: int) -> list[dict[str, Any]]:
    """``size`` synthetic Patients (ids ``demo-p000001`` …), without the identifier values
    the README's walkthrough creates."""
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)  # bench/ is part of the repository, not the package
    from bench.swedish_population import generate

    return [{**person, "id": PREFIX + person["id"]}
            for person in generate(size, seed, queries=0).patients
            if not any(i["value"] in WALKTHROUGH_VALUES for i in person.get("identifier", []))]


def load_demo(engine: Engine, *, size: int, seed: int, today: date,
              progress: Callable[[str], None]) -> DemoResult:
    """Write the demo population and situations that are missing."""
    result = DemoResult()
    people = population(size, seed) + [{**r, "id": i} for i, r in SITUATIONS.items()]
    for start in range(0, len(people), BATCH):
        batch = people[start:start + BATCH]
        added = run_write(engine, partial(_write_missing, batch, today))
        result.added += added
        result.present += len(batch) - added
        progress(f"{start + len(batch)} of {len(people)} Patients")
    for source, target in MERGES:
        if run_write(engine, partial(_merge_once, source, target, today)):
            result.merged.append(source)
    pack = reserve_ids.generate(engine, DOWNTIME_PACK, today=today, access=ADMIN,
                                policy=reserve_ids.ReservePolicy())
    result.pack = pack.values
    return result


def _write_missing(batch: list[dict[str, Any]], today: date, uow: UnitOfWork) -> int:
    """Create the Patients of ``batch`` that do not exist; how many it created."""
    missing = [person for person in batch if uow.patients.get(person["id"]) is None]
    for person in missing:
        patients.update(uow, person["id"], person, if_match=None, access=ADMIN, today=today)
    return len(missing)


def _merge_once(source: str, target: str, today: date, uow: UnitOfWork) -> bool:
    """Merge ``source`` into ``target`` unless it was merged before; whether it merged."""
    resource = patients.read(uow, source).resource
    if resource is not None and b'"replaced-by"' in resource:
        return False
    merges.merge(uow, merges.MergeRequest(
        source=merges.PatientRef(reference={"reference": f"Patient/{source}"}),
        target=merges.PatientRef(reference={"reference": f"Patient/{target}"})),
        ADMIN, today)
    return True
