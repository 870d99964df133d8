"""The console's routines in Chromium against the module's server (open development mode):
register a reserve identity after the find-before-create check, the patient card, LRID → NRID,
merge with preview and reason, the refusal of a contradictory merge, unmerge, and the
emergency desk's downtime pack with its print styles."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import Page, expect

from tests.console import fhir
from tests.console.conftest import assert_accessible, root_of
from tests.support import NRID_SYSTEM, Server, unique_name


def fill_person(page: Page, given: str, family: str, birth: str, gender: str) -> None:
    page.get_by_label("Förnamn").fill(given)
    page.get_by_label("Efternamn").fill(family)
    page.get_by_label("Födelsedatum (ÅÅÅÅ-MM-DD, lämna tomt om okänt)").fill(birth)
    page.get_by_label("Kön").select_option(gender)


def test_register_shows_candidates_before_creating(page: Page, server: Server) -> None:
    existing = fhir.person(given="Anna", birth="1998-07-08")
    existing_id, _ = fhir.with_pnr(server.base, existing)
    family = existing["name"][0]["family"]
    page.goto(f"{root_of(server)}/console/registrera")
    assert_accessible(page)
    fill_person(page, "Anna", family, "1998-07-08", "female")
    page.get_by_role("button", name="Sök befintliga poster").click()
    candidate = page.locator("article.hit", has_text=family)
    expect(candidate).to_have_count(1)
    expect(candidate.locator(".grade")).to_have_text(re.compile("Säker|Trolig|Möjlig"))
    expect(candidate.locator(".explain")).not_to_be_empty()
    expect(candidate.get_by_role("link")).to_have_attribute(
        "href", f"/console/patient/{existing_id}")
    assert_accessible(page)
    # The clerk decides it is someone else: a new NRID and its card.
    page.get_by_role("button", name="Ingen träff stämmer – skapa ny NRID").click()
    expect(page.get_by_role("status")).to_have_text("Reservidentiteten är skapad.")
    number = page.locator(".card .value").first.inner_text()
    assert re.fullmatch(r"\d{8}-[0-9A-Z]{4}", number), number
    found = requests.get(f"{server.base}/Patient", params={"identifier": number},
                         headers=fhir.FHIR_JSON, timeout=30).json()
    assert found["total"] == 1
    assert found["entry"][0]["resource"]["name"][0]["family"] == family
    # Print styles: the card alone.
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator(".card")).to_be_visible()


def test_lrid_then_transition_to_nrid(page: Page, server: Server) -> None:
    family = unique_name("Lokal")
    page.goto(f"{root_of(server)}/console/registrera")
    fill_person(page, "Lars", family, "1998-02-03", "male")
    page.get_by_label("LRID (VGR lokalt)").check()
    page.get_by_role("button", name="Sök befintliga poster").click()
    expect(page.get_by_text("Ingen befintlig post liknar personen.")).to_be_visible()
    page.get_by_role("button", name="Ingen träff stämmer – skapa ny LRID").click()
    expect(page.locator(".card")).to_contain_text("LRID")
    page.get_by_role("link", name="Till personsidan").click()
    page.get_by_role("link", name="Skapa NRID (övergång LRID → NRID)").click()
    assert_accessible(page)
    page.get_by_role("button", name="Skapa NRID").click()
    card = page.locator(".card")
    expect(card.locator("li")).to_have_count(2)
    expect(card).to_contain_text("LRID")
    expect(card).to_contain_text("NRID")


def test_merge_with_preview_and_reason_then_unmerge(page: Page, server: Server) -> None:
    resource = fhir.person(given="Maja", birth="1998-09-10")
    main_id, pnr = fhir.with_pnr(server.base, resource)
    reserve_id, nrid = fhir.reserve(server.base, resource, NRID_SYSTEM)
    page.goto(f"{root_of(server)}/console/sammanfor")
    # One record by its post-id, the other by its personnummer (short form with hyphen).
    page.get_by_label("Post som förs in (källa): post-id eller identitet").fill(reserve_id)
    page.get_by_label("Post som behålls (mål): post-id eller identitet").fill(
        f"{pnr[2:8]}-{pnr[8:]}")
    page.get_by_role("button", name="Förhandsgranska").click()
    preview = page.locator("section[aria-labelledby=resultat]")
    expect(preview.locator("p.rule")).to_contain_text("huvudidentiteten PNR")
    expect(preview).to_contain_text("would be merged")
    expect(preview).to_contain_text("Preview only")
    assert_accessible(page)
    # Nothing changed by the preview.
    assert "link" not in fhir.read(server.base, reserve_id)
    page.get_by_label("Orsak (sparas i Provenance)").fill("Samma person enligt ID-kort")
    page.get_by_role("button", name="Bekräfta sammanföring").click()
    expect(page.get_by_role("status")).to_contain_text(f"Posten {reserve_id} har sammanförts")
    expect(page.locator("tbody tr", has_text=nrid[:8])).to_contain_text("Övertagen")
    source = fhir.read(server.base, reserve_id)
    assert source["active"] is False
    # Unmerge from the merged-away record's page.
    page.goto(f"{root_of(server)}/console/patient/{reserve_id}")
    page.get_by_label("Orsak till isärtagning").fill("Felaktig sammanföring")
    page.get_by_role("button", name="Ta isär sammanföringen").click()
    expect(page.locator("p.merged")).to_have_count(0)
    assert fhir.read(server.base, reserve_id).get("active", True) is True
    assert not any(i.get("use") == "old" for i in fhir.read(server.base, main_id)["identifier"])


def test_contradictory_merge_is_refused(page: Page, server: Server) -> None:
    main_id, _ = fhir.with_pnr(server.base, fhir.person(given="Olle", birth="1998-01-01",
                                                        gender="male"))
    other_id, _ = fhir.reserve(server.base, fhir.person(given="Olle", birth="1999-09-09",
                                                        gender="male"), NRID_SYSTEM)
    page.goto(f"{root_of(server)}/console/sammanfor?kalla={other_id}&mal={main_id}")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Servern vägrar sammanföra")
    expect(alert).to_contain_text("different birth dates")
    expect(page.get_by_role("button", name="Bekräfta sammanföring")).to_have_count(0)
    assert_accessible(page)
    # Posting the confirmation anyway (a stale form) is refused by the server too.
    page.goto(f"{root_of(server)}/console/sammanfor?kalla={main_id}&mal={other_id}")
    expect(page.get_by_role("alert")).to_contain_text("Servern vägrar")
    assert "link" not in fhir.read(server.base, other_id)


def test_forms_need_the_csrf_token(page: Page, server: Server) -> None:
    page.goto(f"{root_of(server)}/console/driftstopp")
    response = page.request.post(f"{root_of(server)}/console/driftstopp",
                                 form={"antal": "2"})
    assert response.status == 400
    assert "CSRF" in response.text()


def test_downtime_pack_printed_and_linked_later(page: Page, server: Server) -> None:
    real_id, _ = fhir.with_pnr(server.base, fhir.person(given="Riktig", birth="1998-11-12"))
    page.goto(f"{root_of(server)}/console/driftstopp")
    assert_accessible(page)
    page.get_by_label("Antal poster (1–50)").fill("3")
    page.get_by_role("button", name="Skapa paket").click()
    labels = page.locator("li.label")
    expect(labels).to_have_count(3)
    numbers = [labels.nth(i).locator(".value").inner_text() for i in range(3)]
    assert len(set(numbers)) == 3
    assert_accessible(page)
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(labels.first.get_by_role("link")).to_be_hidden()
    expect(labels.first).to_be_visible()
    page.emulate_media(media="screen")
    # After the downtime: the first pack record is linked to the real person.
    labels.first.get_by_role("link", name="Koppla till riktig person").click()
    page.get_by_label("Post som behålls (mål): post-id eller identitet").fill(real_id)
    page.get_by_role("button", name="Förhandsgranska").click()
    page.get_by_label("Orsak (sparas i Provenance)").fill("Driftstopp 3 jan, samma patient")
    page.get_by_role("button", name="Bekräfta sammanföring").click()
    expect(page.locator("section[aria-labelledby=identiteter]")).to_contain_text(numbers[0])
