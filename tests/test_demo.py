"""``python -m app demo`` loads a synthetic population and the situations the README's
examples look for, and adds nothing twice (issue 15)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
from sqlalchemy import Engine

from app.adapters.db import make_engine
from app.demo import PREFIX, SITUATIONS, WALKTHROUGH_VALUES, load_demo, population
from app.domain.access import Access
from app.domain.search import parse_search
from app.services import patients
from app.services.transactions import run_read
from tests.support import Database, migrate

ADMIN = Access(subject="test", see_protected=True)


def holders(engine: Engine, system: str, value: str) -> list[dict[str, object]]:
    query = parse_search([("identifier", f"{system}|{value}")], default_count=20,
                         max_count=100, strict=False)
    page = run_read(engine, lambda uow: patients.search(uow, query, ADMIN, date.today()))
    return [orjson.loads(stored.resource) for stored in page.matches]


def test_the_demo_loads_once_and_holds_the_situations(tmp_path: Path) -> None:
    database = Database.fresh(tmp_path)
    migrate(database, "head")
    engine = make_engine(database.url)
    try:
        first = load_demo(engine, size=40, seed=3, today=date.today(), progress=print)
        again = load_demo(engine, size=40, seed=3, today=date.today(), progress=print)
        assert first.added == len(population(40, 3)) + len(SITUATIONS) == again.present
        assert (again.added, again.merged, again.pack) == (0, [], first.pack)
        assert len(first.merged) == 1 and len(first.pack) == 10

        lrid = holders(engine, "urn:oid:1.2.752.113.11.0.2.1.1.1", "19810829M071")
        assert lrid[0]["id"] == f"{PREFIX}lrid-yusuf"
        assert lrid[0]["link"][0]["type"] == "replaced-by"  # merged into the PNR record
        lma = holders(engine, "http://electronichealth.se/identifier/LMA-nummer", "1234567")
        # The survivor holds the merged-away record's identifiers with use=old.
        assert sorted(p["id"] for p in lma) == [f"{PREFIX}lrid-yusuf", f"{PREFIX}pnr-yusuf"]
        protected = run_read(engine, lambda uow: patients.read(uow, f"{PREFIX}skyddad-sara"))
        assert protected.protected
    finally:
        engine.dispose()
        database.dispose()


def test_the_population_leaves_out_the_walkthroughs_own_identifiers() -> None:
    for person in population(3000, 7):
        assert person["id"].startswith(PREFIX)
        assert not {i["value"] for i in person.get("identifier", [])} & WALKTHROUGH_VALUES
