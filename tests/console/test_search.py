"""Sök person and the person page in Chromium: any identity in any spelling, birth date +
name, every identity of the person with the main one first, merged-away records pointing to
their survivor; keyboard use and axe-core on both pages."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.console import fhir
from tests.console.conftest import assert_accessible, root_of
from tests.support import NRID_SYSTEM, Server

LMA_SYSTEM = "http://electronichealth.se/identifier/LMA-nummer"


@pytest.fixture(scope="module")
def merged(server: Server) -> dict[str, Any]:
    """A person's PNR record and an NRID record of theirs merged into it."""
    resource = fhir.person(birth="1998-03-04", gender="female", given="Sara")
    main_id, pnr = fhir.with_pnr(server.base, resource)
    reserve_id, nrid = fhir.reserve(server.base, resource, NRID_SYSTEM)
    fhir.merge(server.base, reserve_id, main_id)
    return {"main": main_id, "pnr": pnr, "reserve": reserve_id, "nrid": nrid,
            "family": resource["name"][0]["family"]}


def search(page: Page, server: Server, identity: str) -> None:
    page.goto(f"{root_of(server)}/console/")
    page.get_by_label("Personnummer, samordningsnummer eller reservnummer").fill(identity)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


@pytest.mark.parametrize("spelling", ["full", "hyphen", "short"])
def test_search_by_pnr_in_any_spelling(page: Page, server: Server, merged: dict[str, Any],
                                       spelling: str) -> None:
    pnr = merged["pnr"]
    typed = {"full": pnr, "hyphen": f"{pnr[:8]}-{pnr[8:]}",
             "short": f"{pnr[2:8]}-{pnr[8:]}"}[spelling]
    search(page, server, typed)
    expect(page.get_by_role("heading", name="1 träff")).to_be_visible()
    hit = page.locator("article.hit").first
    # Every identity of the person, the PNR (main) first, the taken-over NRID after it.
    rows = hit.locator("ul.ids li")
    expect(rows.nth(0)).to_contain_text(f"PNR {pnr[:8]}-{pnr[8:]}")
    expect(rows.nth(0)).to_contain_text("huvudidentitet")
    expect(hit.locator("ul.ids")).to_contain_text(merged["nrid"][:8])
    expect(hit.locator("ul.linked")).to_contain_text("NRID")


def test_search_by_reserve_number_leads_to_survivor(page: Page, server: Server,
                                                    merged: dict[str, Any]) -> None:
    nrid = merged["nrid"]
    search(page, server, f"{nrid[:8]}-{nrid[8:].lower()}")
    hits = page.locator("article.hit")
    expect(hits).to_have_count(2)
    # The survivor first; the merged-away record points to it.
    expect(hits.nth(0).locator("ul.ids li").first).to_contain_text("PNR")
    pointer = hits.nth(1).locator("p.merged")
    expect(pointer).to_contain_text("ersatt av")
    pointer.get_by_role("link").click()
    expect(page).to_have_url(f"{root_of(server)}/console/patient/{merged['main']}")


def test_search_by_birth_date_and_name(page: Page, server: Server,
                                       merged: dict[str, Any]) -> None:
    page.goto(f"{root_of(server)}/console/")
    page.get_by_label("Födelsedatum (ÅÅÅÅ-MM-DD)").fill("1998-03-04")
    page.get_by_label("Namn", exact=True).fill(merged["family"])
    page.get_by_role("button", name="Sök").click()
    expect(page.locator("article.hit")).to_have_count(2)
    assert_accessible(page)


def test_person_page(page: Page, server: Server, merged: dict[str, Any]) -> None:
    page.goto(f"{root_of(server)}/console/patient/{merged['main']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Sara {merged['family']}")
    table = page.locator("section[aria-labelledby=identiteter] table")
    expect(table.locator("tbody tr").nth(0)).to_contain_text("Huvudidentitet")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("Övertagen vid sammanföring")
    expect(page.locator("section[aria-labelledby=kopplingar]")).to_contain_text(
        f"Ersätter: post {merged['reserve']}")
    # Two versions: created, then changed by the merge; the merge is in the audit trail.
    expect(page.locator("section[aria-labelledby=historik] tbody tr")).to_have_count(2)
    expect(page.locator("section[aria-labelledby=logg]")).to_contain_text("merge")
    assert_accessible(page)
    source = f"{root_of(server)}/console/patient/{merged['reserve']}"
    page.goto(source)
    expect(page.locator("p.merged")).to_contain_text(f"post {merged['main']}")


def test_keyboard_only(page: Page, server: Server, merged: dict[str, Any]) -> None:
    """The skip link comes first, leads into the main content; the search form is usable
    with the keyboard alone."""
    page.goto(f"{root_of(server)}/console/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till innehållet")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Personnummer, samordningsnummer eller reservnummer")).to_be_focused()
    page.keyboard.type(merged["pnr"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="1 träff")).to_be_visible()


def test_landing_page_links_to_console(page: Page, server: Server) -> None:
    page.goto(f"{root_of(server)}/")
    page.get_by_role("link", name="/console/").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sök person")


def test_search_by_lma_shows_the_linked_records_identities(page: Page, server: Server) -> None:
    """An LMA-number record linked seealso to the person's PNR record: found by the LMA
    number, it shows the PNR of the record it is linked to."""
    from uuid import uuid4

    resource = fhir.person(birth="1998-06-07", given="Lina")
    main_id, pnr = fhir.with_pnr(server.base, resource)
    lma = f"LMA-{uuid4().hex[:10]}"
    fhir.create(server.base, {**resource, "identifier": [{"system": LMA_SYSTEM, "value": lma}],
                              "link": [{"other": {"reference": f"Patient/{main_id}"},
                                        "type": "seealso"}]})
    search(page, server, lma)
    hit = page.locator("article.hit")
    expect(hit).to_have_count(1)
    expect(hit.locator("ul.ids li").first).to_contain_text(f"LMA {lma}")
    expect(hit.locator("ul.linked")).to_contain_text(f"PNR {pnr[:8]}-{pnr[8:]}")
    page.goto(f"{root_of(server)}/console/patient/{main_id}")
    expect(page.locator("section[aria-labelledby=kopplingar]")).to_contain_text("Se även")
