"""The pure merge rules of ``app.domain.merge`` (no database, no HTTP)."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest

from app.domain import merge as rules
from app.domain.references import patient_reference_id
from tests.support import LRID_SYSTEM, NRID_SYSTEM, PNR_SYSTEM, SNR_SYSTEM

GRID_SYSTEM = "urn:oid:1.2.752.113.11.0.2.1.1.4"
STOCKHOLM_SYSTEM = "urn:oid:1.2.752.97.3.1.3"
LMA_SYSTEM = "http://electronichealth.se/identifier/LMA-nummer"


def person(pid: str, *idents: tuple[str, str], **extra: object) -> dict:
    resource: dict = {"resourceType": "Patient", "id": pid,
                      "identifier": [{"system": s, "value": v} for s, v in idents]}
    resource.update(extra)
    return resource


def record(resource: dict, created: int | None = None) -> rules.Record:
    return rules.Record(resource, None if created is None else datetime(2024, 1, created))


@pytest.mark.parametrize(("system", "expected"), [
    (PNR_SYSTEM, 10), (SNR_SYSTEM, 20), (NRID_SYSTEM, 30), (LRID_SYSTEM, 40),
    (STOCKHOLM_SYSTEM, 50), (GRID_SYSTEM, 60), ("urn:oid:1.2.3", 70), (LMA_SYSTEM, 90)])
def test_rank_is_the_priority_of_the_best_identifier(system, expected):
    resource = person("a", (system, "x"), (GRID_SYSTEM, "y"))
    assert rules.rank(resource) == min(expected, 60)


def test_rank_ignores_identifiers_taken_over_in_a_merge():
    resource = person("a", (NRID_SYSTEM, "n"))
    resource["identifier"].append({"system": PNR_SYSTEM, "value": "p", "use": "old"})
    assert rules.rank(resource) == 30
    assert rules.rank({"id": "x"}) == rules.NO_IDENTITY


def test_direction_allows_merging_a_weaker_record_into_a_stronger_one():
    source = record(person("s", (LRID_SYSTEM, "l")))
    target = record(person("t", (PNR_SYSTEM, "p")))
    rules.check_direction(source, target)


def test_direction_refuses_a_target_ranking_below_the_source_and_names_the_way():
    source = record(person("s", (PNR_SYSTEM, "p")))
    target = record(person("t", (NRID_SYSTEM, "n")))
    with pytest.raises(rules.MergeRefused) as refused:
        rules.check_direction(source, target)
    assert refused.value.code == "business-rule"
    assert "source-patient Patient/t into target-patient Patient/s" in refused.value.message


def test_among_lrid_records_the_earliest_created_is_the_main_record():
    early = record(person("early", (LRID_SYSTEM, "a")), created=1)
    late = record(person("late", (LRID_SYSTEM, "b")), created=2)
    rules.check_direction(late, early)
    with pytest.raises(rules.MergeRefused, match="earliest created"):
        rules.check_direction(early, late)


def test_equal_ranks_other_than_lrid_may_merge_either_way():
    a = record(person("a", (NRID_SYSTEM, "x")), created=1)
    b = record(person("b", (NRID_SYSTEM, "y")), created=2)
    rules.check_direction(a, b)
    rules.check_direction(b, a)


def test_two_different_personnummer_contradict():
    source = person("s", (PNR_SYSTEM, "1"))
    target = person("t", (PNR_SYSTEM, "2"))
    assert rules.contradictions(source, target) == [
        "the records hold different Personnummer values"]


def test_a_samordningsnummer_beside_a_personnummer_is_no_contradiction():
    source, target = person("s", (SNR_SYSTEM, "1")), person("t", (PNR_SYSTEM, "2"))
    assert rules.contradictions(source, target) == []


def test_known_birth_dates_and_sexes_must_agree_unknown_ones_never_contradict():
    assert rules.contradictions(person("s", birthDate="1998-01-01"),
                                person("t", birthDate="1998-01-02"))
    assert not rules.contradictions(person("s", birthDate="1998"),
                                    person("t", birthDate="1998-01-02"))
    assert not rules.contradictions(person("s"), person("t", birthDate="1998-01-02"))
    assert rules.contradictions(person("s", gender="male"), person("t", gender="female"))
    assert not rules.contradictions(person("s", gender="unknown"), person("t", gender="female"))


def test_a_contradiction_is_overridden_only_with_force_and_a_reason():
    source, target = person("s", gender="male"), person("t", gender="female")
    with pytest.raises(rules.ContradictionRefused):
        rules.check_contradictions(source, target, force=True, reason=None)
    with pytest.raises(rules.ContradictionRefused):
        rules.check_contradictions(source, target, force=False, reason="checked")
    assert rules.check_contradictions(source, target, force=True, reason="checked") == [
        "the records have different sexes"]


def test_merge_deactivates_the_source_links_both_and_copies_identifiers_as_old():
    source = person("s", (LRID_SYSTEM, "l"), (NRID_SYSTEM, "n"))
    target = person("t", (PNR_SYSTEM, "p"), (NRID_SYSTEM, "n"))
    originals = copy.deepcopy((source, target))
    result = rules.merge(source, target)
    assert (source, target) == originals  # inputs untouched
    assert result.source["active"] is False
    assert result.source["link"] == [{"other": {"reference": "Patient/t"}, "type": "replaced-by"}]
    assert result.target["link"] == [{"other": {"reference": "Patient/s"}, "type": "replaces"}]
    assert result.target["identifier"] == [
        {"system": PNR_SYSTEM, "value": "p"}, {"system": NRID_SYSTEM, "value": "n"},
        {"system": LRID_SYSTEM, "value": "l", "use": "old"}]
    assert result.copied == [{"system": LRID_SYSTEM, "value": "l", "use": "old"}]


def test_merging_an_already_merged_pair_again_changes_nothing():
    first = rules.merge(person("s", (LRID_SYSTEM, "l")), person("t", (PNR_SYSTEM, "p")))
    again = rules.merge(first.source, first.target)
    assert (again.source, again.target, again.copied) == (first.source, first.target, [])


def test_result_patient_replaces_the_target_content_and_still_gets_links_and_copies():
    result = rules.merge(person("s", (LRID_SYSTEM, "l")), person("t", (PNR_SYSTEM, "p")),
                         person("t", (PNR_SYSTEM, "p"), name=[{"family": "Ny"}]))
    assert result.target["name"] == [{"family": "Ny"}]
    assert {"system": LRID_SYSTEM, "value": "l", "use": "old"} in result.target["identifier"]


def test_unmerge_gives_back_both_records_exactly():
    source = person("s", (LRID_SYSTEM, "l"))
    target = person("t", (PNR_SYSTEM, "p"), link=[
        {"other": {"reference": "Patient/x"}, "type": "seealso"}])
    merged = rules.merge(source, target)
    undone = rules.unmerge(merged.source, merged.target, source_before=source,
                           target_before=target, target_merged=merged.target)
    assert undone.source == source
    assert undone.target == target
    assert undone.removed == [{"system": LRID_SYSTEM, "value": "l", "use": "old"}]


def test_unmerge_restores_an_explicit_active_and_leaves_other_merges_alone():
    a = person("a", (LRID_SYSTEM, "la"), active=True)
    b = person("b", (LRID_SYSTEM, "lb"))
    c = person("c", (PNR_SYSTEM, "p"))
    first = rules.merge(a, c)
    second = rules.merge(b, first.target)
    undone = rules.unmerge(first.source, second.target, source_before=a,
                           target_before=c, target_merged=first.target)
    assert undone.source == a
    assert undone.target == rules.merge(b, c).target


def test_unmerge_refuses_a_merge_that_was_not_made():
    a, b = person("a"), person("b")
    with pytest.raises(rules.MergeRefused, match="no such merge"):
        rules.unmerge(a, b, source_before=a, target_before=b, target_merged=b)


def test_cycles_and_already_merged_records_are_refused():
    a = record(person("a"))
    with pytest.raises(rules.MergeRefused, match="cycle"):
        rules.check_cycle(a, ["b", "a"])
    rules.check_cycle(a, ["b", "c"])
    merged = record(rules.merge(person("m"), person("s")).source)
    with pytest.raises(rules.MergeRefused, match="Patient/z"):
        rules.check_not_merged(merged, "source-patient", "z")
    rules.check_not_merged(a, "source-patient", "a")


def test_reference_ids_and_links_are_read_from_any_reference_form():
    assert patient_reference_id("http://x/fhir/Patient/12/_history/3") == "12"
    assert patient_reference_id("Observation/1") is None
    assert patient_reference_id(None) is None
    resource = {"link": [{"other": {"reference": "Patient/1"}, "type": "seealso"},
                         {"other": {"reference": "Patient/2"}, "type": "replaced-by"}]}
    assert rules.linked_ids(resource) == ["1", "2"]
    assert rules.replaced_by(resource) == "2"


def test_the_reverse_seealso_link_is_added_once_and_removed_alone():
    other = person("b")
    other["link"] = [{"other": {"reference": "Patient/c"}, "type": "replaces"}]
    added = rules.with_reverse_seealso(other, "a", linked=True)
    assert added is not None
    assert added["link"][-1] == {"other": {"reference": "Patient/a"}, "type": "seealso"}
    assert other["link"] == [{"other": {"reference": "Patient/c"}, "type": "replaces"}]
    assert rules.with_reverse_seealso(added, "a", linked=True) is None
    history_form = {**added, "link": [*added["link"][:1],
                                      {"other": {"reference": "Patient/a/_history/3"},
                                       "type": "seealso"}]}
    removed = rules.with_reverse_seealso(history_form, "a", linked=False)
    assert removed is not None and removed["link"] == other["link"]
    only = rules.with_reverse_seealso(person("d"), "a", linked=True)
    assert only is not None
    assert "link" not in rules.with_reverse_seealso(only, "a", linked=False)
    assert rules.with_reverse_seealso(person("d"), "a", linked=False) is None
