"""Index extraction: duplicates are dropped in time linear in the size of the Patient
(issue 14: a membership test per entry made 40,000 telecom entries take minutes)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.domain.patient_index import index_patient

LARGE = 20_000


class CountingStr(str):
    """A string that counts how often it is compared for equality."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountingStr.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_identifiers_are_deduplicated_without_comparing_each_with_the_others() -> None:
    values = [CountingStr(f"{n:012d}") for n in range(LARGE)]
    resource = {"identifier": [{"system": "urn:oid:1.2.3", "value": v} for v in values * 2]}
    CountingStr.comparisons = 0
    index = index_patient(resource)
    assert list(index.identifiers) == [("urn:oid:1.2.3", v) for v in values]
    # Sorting (the $match record keeps them sorted) compares n log n times, a set or dict
    # only on equal hashes; a list membership test per entry makes some 4 × 10^8 comparisons.
    assert CountingStr.comparisons <= 2 * LARGE * LARGE.bit_length()


def _telecom(n: int) -> dict[str, Any]:
    return {"telecom": [{"system": "phone", "value": f"070{i:07d}"} for i in range(n)]}


def _names(n: int) -> dict[str, Any]:
    return {"name": [{"family": f"Family{i}", "given": [f"Given{i}"]} for i in range(n)]}


def _addresses(n: int) -> dict[str, Any]:
    return {"address": [{"line": [f"Gata {i}"], "city": f"Stad{i}"} for i in range(n)]}


@pytest.mark.parametrize("make", [_telecom, _names, _addresses])
def test_indexing_grows_linearly_with_distinct_entries(make) -> None:
    """Twenty times the entries take about twenty times as long (quadratic would be 400
    times); the bound leaves a factor of ten for a busy machine."""
    def seconds(n: int) -> float:
        resource = make(n)
        started = time.perf_counter()
        index_patient(resource)
        return time.perf_counter() - started

    small = min(seconds(LARGE // 20) for _ in range(3))
    large = seconds(LARGE)
    assert large < 20 * 10 * small + 0.5, (small, large)


def test_duplicates_keep_their_first_occurrence_in_order() -> None:
    resource = {
        "name": [{"family": "Åström", "given": ["Kalle", "Kalle"]}, {"family": "Åström"}],
        "telecom": [{"system": "phone", "value": "070-1"}, {"system": "phone", "value": "0701"},
                    {"system": "email", "value": "A@x.se"}],
        "link": [{"other": {"reference": "Patient/a"}, "type": "seealso"}] * 2,
    }
    index = index_patient(resource)
    assert [s for s in index.strings if s[0] == "family"] == [("family", "astrom", "Åström")]
    assert [s for s in index.strings if s[0] == "given"] == [("given", "kalle", "Kalle")]
    assert [t for t in index.tokens if t[0] == "phone"] == [("phone", "phone", "0701")]
    assert list(index.links) == [("a", "seealso")]


@pytest.mark.parametrize("reference", [
    "Patient/7", "Patient/7/_history/2", "Patient/7/_history/v2",
    "http://host/fhir/Patient/7/_history/2", " Patient/7 ",
])
def test_the_index_records_every_link_the_merge_rules_follow(reference: str) -> None:
    """The search index (and through it the protection graph) and the merge rules read a
    link's target with one rule: a link the rules follow is never missing from the index."""
    from app.domain.merge import linked_ids

    resource = {"resourceType": "Patient", "link": [{"other": {"reference": reference},
                                                     "type": "seealso"}]}
    assert linked_ids(resource) == ["7"]
    assert index_patient(resource).links == [("7", "seealso")]
