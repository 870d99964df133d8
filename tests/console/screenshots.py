"""Screenshots of the console's main pages for the README (docs/console-*.png), taken in
Debian's chromium against a real server on a fresh database of invented people.

    make screenshots          # or: .venv/bin/python -m tests.console.screenshots [OUT_DIR]

tests/console/test_screenshots.py runs the same code, so the script keeps working."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from tests.console import fhir
from tests.console.conftest import CHROMIUM, root_of
from tests.support import NRID_SYSTEM, ROOT, Database, Server, migrate

VIEWPORT = {"width": 1100, "height": 900}
SECURITY_LABELS = "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel"


def seed(base: str) -> dict[str, str]:
    """Invented people: a PNR record with an NRID record merged into it, a protected person,
    a look-alike for the find-before-create check, and a pair that contradicts."""
    sara = fhir.person("Lindqvist", given="Sara", birth="1998-03-04")
    main_id, pnr = fhir.with_pnr(base, sara)
    reserve_id, _ = fhir.reserve(base, sara, NRID_SYSTEM)
    fhir.merge(base, reserve_id, main_id)
    protected_id, _ = fhir.with_pnr(base, fhir.person(
        "Hemberg", given="Hedda", birth="1998-05-06",
        meta={"security": [{"system": SECURITY_LABELS, "code": "sekretessmarkering"}]},
        telecom=[{"system": "phone", "value": "070-0000000"}]))
    maja = fhir.person("Berglund", given="Maja", birth="1998-09-10")
    maja_id, _ = fhir.with_pnr(base, maja)
    maja_reserve, _ = fhir.reserve(base, maja, NRID_SYSTEM)
    return {"main": main_id, "pnr": pnr, "protected": protected_id, "maja": maja_id,
            "maja_reserve": maja_reserve}


def take(browser: Browser, root: str, base: str, out: Path) -> list[Path]:
    """Seed the server and save one PNG per main page into ``out``."""
    people = seed(base)
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="sv-SE", viewport=VIEWPORT)
    page = context.new_page()
    saved: list[Path] = []

    def shot(name: str, full: bool = True) -> None:
        path = out / f"console-{name}.png"
        page.screenshot(path=str(path), full_page=full)
        saved.append(path)

    page.goto(f"{root}/console/?identitet={people['pnr'][2:8]}-{people['pnr'][8:]}")
    shot("search")
    page.goto(f"{root}/console/patient/{people['main']}")
    shot("person")
    page.goto(f"{root}/console/patient/{people['protected']}")
    shot("protected", full=False)
    _register(page, root)
    shot("register")
    page.goto(f"{root}/console/sammanfor?kalla={people['maja_reserve']}&mal={people['maja']}")
    shot("merge")
    page.goto(f"{root}/console/driftstopp")
    page.get_by_label("Antal poster (1–50)").fill("6")
    page.get_by_role("button", name="Skapa paket").click()
    page.emulate_media(media="print")
    shot("downtime-print")
    context.close()
    return saved


def _register(page: Page, root: str) -> None:
    page.goto(f"{root}/console/registrera")
    page.get_by_label("Förnamn").fill("Sara")
    page.get_by_label("Efternamn").fill("Lindqvist")
    page.get_by_label("Födelsedatum (ÅÅÅÅ-MM-DD, lämna tomt om okänt)").fill("1998-03-04")
    page.get_by_label("Kön").select_option("female")
    page.get_by_role("button", name="Sök befintliga poster").click()


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'fhir.db'}")
        migrate(database, "head")
        server = Server(database, upgrade=False).start()
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=str(CHROMIUM),
                                                 args=["--no-sandbox"])
                for path in take(browser, root_of(server), server.base, out):
                    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs")
