"""The registry: systems, aliases, canonical values, bare-value search, priority (§2, §3.5)."""

from __future__ import annotations

from datetime import date

import pytest

import app.identity as identity
from app.identity import (
    KINDS,
    InvalidChecksum,
    InvalidLength,
    candidate_values,
    canonical_system,
    is_main_identity_candidate,
    kind_for_code,
    kind_for_system,
    lma,
    normalise_identifier,
    nrid,
    personnummer,
    priority,
    samordningsnummer,
)

TODAY = date(2024, 1, 17)

SYSTEMS = {
    "pnr": ("urn:oid:1.2.752.129.2.1.3.1", "http://electronichealth.se/identifier/personnummer"),
    "snr": (
        "urn:oid:1.2.752.129.2.1.3.3",
        "http://electronichealth.se/identifier/samordningsnummer",
    ),
    "nrid": (
        "urn:oid:1.2.752.74.9.1",
        "http://electronichealth.se/identifier/nationelltReservnummer",
    ),
    "lrid-vgr": ("urn:oid:1.2.752.113.11.0.2.1.1.1",),
    "grid-vgr": ("urn:oid:1.2.752.113.11.0.2.1.1.4",),
    "stockholm": ("urn:oid:1.2.752.97.3.1.3",),
    "carelink": ("urn:oid:1.2.752.129.2.1.3.2",),
    "halland": ("urn:oid:1.2.752.74.9.6",),
    "varmland": ("urn:oid:1.2.752.74.9.2",),
    "orebro": ("urn:oid:1.2.752.74.9.3",),
    "skane": ("urn:oid:1.2.752.219.1.10.10.1",),
    "blekinge": ("urn:oid:1.2.752.74.9.5",),
    "vasternorrland": ("urn:oid:1.2.752.269.1.1",),
    "vasterbotten": ("urn:oid:1.2.752.74.9.7",),
    "dalarna": ("urn:oid:1.2.752.74.9.8",),
    "gavleborg": ("urn:oid:1.2.752.74.9.9",),
    "lma": ("http://electronichealth.se/identifier/LMA-nummer",),
}


def test_every_kind_of_domain_md_is_registered_once_with_its_oid_system() -> None:
    assert sorted(kind.CODE for kind in KINDS) == sorted(SYSTEMS)
    for kind in KINDS:
        assert SYSTEMS[kind.CODE][0] == kind.SYSTEM
        assert (f"urn:oid:{kind.OID}" if kind.OID else kind.SYSTEM) == kind.SYSTEM
        assert kind.NAME


@pytest.mark.parametrize("code", sorted(SYSTEMS))
def test_kind_for_system_accepts_the_urn_oid_and_every_hl7_sweden_alias(code: str) -> None:
    for system in SYSTEMS[code]:
        found = kind_for_system(system)
        assert found is not None and code == found.CODE
        assert canonical_system(system) == SYSTEMS[code][0]


def test_bare_oids_and_unknown_systems_are_not_kinds() -> None:
    assert kind_for_system("1.2.752.129.2.1.3.1") is None
    assert kind_for_system("urn:oid:1.2.752.129.2.1.3") is None
    assert kind_for_system(None) is None
    assert canonical_system("urn:oid:1.2.3.4") == "urn:oid:1.2.3.4"
    assert canonical_system("http://example.org/mrn") == "http://example.org/mrn"


def test_the_urn_oid_prefix_is_matched_case_insensitively_and_surrounding_spaces_ignored() -> None:
    assert kind_for_system(" URN:OID:1.2.752.129.2.1.3.1 ") is personnummer


def test_kind_for_code_finds_each_kind_and_nothing_else() -> None:
    assert kind_for_code("snr") is samordningsnummer
    assert kind_for_code("unknown") is None


def test_normalise_identifier_canonicalises_known_kinds_and_validates_them() -> None:
    assert normalise_identifier(
        "http://electronichealth.se/identifier/personnummer", "651207-3245", TODAY
    ) == ("urn:oid:1.2.752.129.2.1.3.1", "196512073245")
    assert normalise_identifier(lma.SYSTEM, " 12-345 ", TODAY) == (lma.SYSTEM, "12-345")
    with pytest.raises(InvalidChecksum):
        normalise_identifier("urn:oid:1.2.752.113.11.0.2.1.1.1", "19651207-K245", TODAY)


def test_normalise_identifier_keeps_unknown_systems_and_values_verbatim_but_stripped() -> None:
    assert normalise_identifier("urn:oid:1.2.3", " a-B c ", TODAY) == ("urn:oid:1.2.3", "a-B c")
    assert normalise_identifier(None, "19651207-3245", TODAY) == (None, "19651207-3245")
    with pytest.raises(InvalidLength):
        normalise_identifier("urn:oid:1.2.3", "   ", TODAY)


def test_candidate_values_cover_every_canonical_form_a_bare_value_may_stand_for() -> None:
    assert candidate_values("651207-3245", TODAY) == {"651207-3245", "196512073245"}
    assert candidate_values("22950606-fh20", TODAY) == {"22950606-fh20", "22950606FH20"}
    assert candidate_values(" 19651207c123 ", TODAY) == {
        " 19651207c123 ",
        "19651207c123",
        "19651207C123",
    }
    assert candidate_values("19612121201M7", TODAY) == {"19612121201M7"}
    assert candidate_values("19651267-3245", TODAY) == {"19651267-3245"}


def test_priority_follows_the_main_record_rule_of_domain_md_3_5() -> None:
    order = ["pnr", "snr", "nrid", "lrid-vgr", "stockholm", "grid-vgr"]
    ranks = [priority(SYSTEMS[code][0]) for code in order]
    assert ranks == sorted(ranks) == [10, 20, 30, 40, 50, 60]
    assert priority("urn:oid:1.2.3") == priority(None) == 70
    assert priority(lma.SYSTEM) == 90
    assert priority(nrid.ALIASES[0]) == 30
    assert all(priority(kind.SYSTEM) == 50 for kind in KINDS if kind.PRIORITY == 50)


def test_lma_is_never_a_main_identity_candidate_but_everything_else_may_be() -> None:
    assert not is_main_identity_candidate(lma.SYSTEM)
    assert is_main_identity_candidate(personnummer.SYSTEM)
    assert is_main_identity_candidate("urn:oid:1.2.3")


def test_only_nrid_and_lrid_vgr_are_generatable() -> None:
    assert sorted(kind.CODE for kind in KINDS if kind.GENERATABLE) == ["lrid-vgr", "nrid"]


def test_the_package_re_exports_the_registry_api() -> None:
    for name in identity.__all__:
        assert hasattr(identity, name)
