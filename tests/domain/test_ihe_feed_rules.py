"""The pure rules behind IHE PIXm's feed: what a Resolve Duplicate Patient message asks for
(app.domain.merge.resolve_duplicate), merge links by identifier, and which identity domains
a Source may change (app.domain.source_domains)."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain import merge as rules
from app.domain import source_domains
from app.domain.scopes import parse_scopes

RED = "urn:oid:1.3.6.1.4.1.21367.13.20.1000"
BLUE = "urn:oid:1.3.6.1.4.1.21367.13.20.3000"


def record(*identifiers: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p",
            "identifier": [{"system": s, "value": v} for s, v in identifiers], **extra}


BY_IDENTIFIER = {"other": {"identifier": {"system": RED, "value": "IHERED-994"}},
                 "type": "replaced-by"}


def test_a_new_replaced_by_link_is_a_resolve_duplicate() -> None:
    before = record((RED, "IHERED-m94"), active=True)
    message = record((RED, "IHERED-m94"), active=False, link=[BY_IDENTIFIER])
    plan = rules.resolve_duplicate(before, message)
    assert plan is not None
    assert plan.survivor == BY_IDENTIFIER["other"]
    # The update written first: no link, active as it was (the merge sets it false).
    assert "link" not in plan.resource and plan.resource["active"] is True


def test_no_new_link_is_no_resolve_duplicate() -> None:
    assert rules.resolve_duplicate(None, record((RED, "x"))) is None


@pytest.mark.parametrize("message", [
    record((RED, "m"), active=True, link=[BY_IDENTIFIER]),
    record((RED, "m"), link=[BY_IDENTIFIER]),
    record((RED, "m"), active=False, link=[BY_IDENTIFIER, {
        "other": {"reference": "Patient/q"}, "type": "replaced-by"}]),
    record((RED, "m"), active=False, link=[{"other": {"display": "x"}, "type": "replaced-by"}]),
    record((RED, "m"), active=False, link=[BY_IDENTIFIER, {
        "other": {"reference": "Patient/q"}, "type": "replaces"}]),
])
def test_invalid_resolve_duplicates_are_refused(message: dict[str, Any]) -> None:
    with pytest.raises(rules.MergeRefused):
        rules.resolve_duplicate(record((RED, "m")), message)


def test_merge_links_by_identifier_are_merge_links() -> None:
    with pytest.raises(rules.MergeRefused):
        rules.check_merge_links_kept(record((RED, "m")),
                                     record((RED, "m"), link=[BY_IDENTIFIER]))
    rules.check_merge_links_kept(record((RED, "m"), link=[BY_IDENTIFIER]),
                                 record((RED, "m"), link=[BY_IDENTIFIER]))


def test_source_domain_scopes() -> None:
    scopes = parse_scopes(f"system/Patient.cruds source-domain:{RED} "
                          "source-domain:1.3.6.1.4.1.21367.13.20.3000")
    assert scopes.source_domains == {RED, BLUE}
    assert parse_scopes("system/Patient.cruds").source_domains == frozenset()


def test_a_source_writes_its_own_domain_only() -> None:
    red = frozenset({RED})
    source_domains.check_write(red, None, record((RED, "a")))
    source_domains.check_write(red, record((RED, "a"), (BLUE, "b")),
                               record((RED, "a"), (BLUE, "b"), gender="female"))
    source_domains.check_write(frozenset(), None, record((BLUE, "b")))  # not restricted
    for before, after in [(None, record((BLUE, "b"))),
                          (record((RED, "a")), record((RED, "a"), (BLUE, "b"))),
                          (record((BLUE, "b")), record((BLUE, "b"), gender="male")),
                          (record((RED, "a"), (BLUE, "b")), None)]:
        with pytest.raises(source_domains.OutsideSourceDomain):
            source_domains.check_write(red, before, after)


def test_a_source_merges_within_its_domain_only() -> None:
    red = frozenset({RED})
    source_domains.check_merge(red, record((RED, "m")), record((RED, "a"), (BLUE, "b")))
    with pytest.raises(source_domains.OutsideSourceDomain):
        source_domains.check_merge(red, record((RED, "m"), (BLUE, "c")), record((RED, "a")))
    with pytest.raises(source_domains.OutsideSourceDomain):
        source_domains.check_merge(red, record((RED, "m")), record((BLUE, "b")))
