"""Scoring labelled ``$match`` queries with the engine's own code, and what to measure.

Shared by ``fit_match_model.py`` (on the training half) and ``match_quality.py`` (on the
held-out half and FEBRL). Stored Patients go into an in-memory index with the same blocking
keys and limits as the database adapter (:class:`app.domain.matching.MemoryIndex`); each
query is ranked by :func:`app.domain.matching.rank` exactly as ``$match`` ranks it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.matching import Assessment, MemoryIndex, Model, rank, record_from_patient

#: Member-query kinds made of the registration errors clerks make (the 97 % target).
TYPICAL_ERRORS = (
    "exact", "diacritics-dropped", "given-order-swapped", "given-one-missing", "hyphen-space",
    "typo-family", "typo-given", "nickname", "family-given-swapped", "day-month-transposed",
    "birth-digit-typo", "address-missing", "only-name-and-birthdate", "moved",
)
SURE = ("certain", "probable")


@dataclass(frozen=True)
class Scored:
    """One query's ranked candidates (every assessed candidate, returned or not)."""

    kind: str
    truth: str | None
    ranked: list[Assessment]

    @property
    def returned(self) -> list[Assessment]:
        return [a for a in self.ranked if a.grade is not None]

    @property
    def top_is_truth_sure(self) -> bool:
        returned = self.returned
        return bool(returned) and returned[0].candidate_id == self.truth and (
            returned[0].grade in SURE)

    @property
    def truth_listed(self) -> bool:
        return any(a.candidate_id == self.truth and a.grade != "certainly-not"
                   for a in self.returned)

    @property
    def other_sure(self) -> bool:
        """Another person than the truth graded certain or probable."""
        return any(a.grade in SURE and a.candidate_id != self.truth for a in self.returned)


def score(stored: Iterable[dict[str, Any]], queries: Iterable[tuple[dict[str, Any], str | None,
                                                                    str]],
          model: Model) -> list[Scored]:
    """Rank each (query Patient, true id or None, kind) against ``stored``."""
    index = MemoryIndex()
    for patient in stored:
        index.add(record_from_patient(patient))
    population = index.size["records"]
    results = []
    for patient, truth, kind in queries:
        query = record_from_patient(patient)
        candidates = index.candidates(query)
        results.append(Scored(kind, truth, rank(query, [(c, True) for c in candidates],
                                                model=model, population=population)))
    return results


def per_kind(results: Sequence[Scored]) -> dict[str, dict[str, float]]:
    """For each kind: queries, and the share found first as certain/probable, listed at any
    grade, with another person certain/probable (members), or with anyone certain/probable
    (non-members)."""
    grouped: dict[str, list[Scored]] = defaultdict(list)
    for result in results:
        grouped[result.kind].append(result)
    table: dict[str, dict[str, float]] = {}
    for kind, group in sorted(grouped.items()):
        n = len(group)
        if group[0].truth is None:
            table[kind] = {"queries": n, "member": 0,
                           "sure": _share(any(a.grade in SURE for a in r.returned)
                                          for r in group)}
        else:
            table[kind] = {"queries": n, "member": 1,
                           "found": _share(r.top_is_truth_sure for r in group),
                           "listed": _share(r.truth_listed for r in group),
                           "other_sure": _share(r.other_sure for r in group)}
    return table


def _share(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def summary(results: Sequence[Scored]) -> dict[str, float]:
    """The issue's targets, measured."""
    members = [r for r in results if r.truth is not None]
    strangers = [r for r in results if r.truth is None]
    typical = [r for r in members if r.kind in TYPICAL_ERRORS]
    married_moved = [r for r in members if r.kind == "married-and-moved"]
    kinds = per_kind(results)
    return {
        "queries": len(results),
        "non_member_sure": _share(any(a.grade in SURE for a in r.returned) for r in strangers),
        "non_member_sure_worst_kind": max((v["sure"] for v in kinds.values()
                                           if not v["member"]), default=0.0),
        "other_person_sure": _share(r.other_sure for r in results),
        "typical_found": _share(r.top_is_truth_sure for r in typical),
        "married_and_moved_listed": _share(r.truth_listed for r in married_moved),
    }


def reliability(results: Sequence[Scored], bins: int = 10) -> list[dict[str, float]]:
    """Per score bin of the returned, non-certain candidates: how many, mean score and the
    share that are the true person (a reliability diagram's points)."""
    counted: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for result in results:
        for a in result.returned:
            if a.grade in ("probable", "possible"):
                counted[min(int(a.score * bins), bins - 1)].append(
                    (a.score, a.candidate_id == result.truth))
    return [{"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "candidates": len(items),
             "mean_score": round(sum(s for s, _ in items) / len(items), 4),
             "true_share": round(sum(t for _, t in items) / len(items), 4)}
            for b, items in sorted(counted.items())]


def f1_top1(results: Sequence[Scored]) -> dict[str, float]:
    """Precision, recall and F1 of the top candidate graded certain or probable (FEBRL)."""
    tp = sum(r.top_is_truth_sure for r in results)
    predicted = sum(bool(r.returned) and r.returned[0].grade in SURE for r in results)
    precision = tp / predicted if predicted else 0.0
    recall = tp / len(results) if results else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"queries": len(results), "precision": round(precision, 4),
            "recall": round(recall, 4), "f1": round(f1, 4)}


def rule_counts(results: Sequence[Scored]) -> Counter[str]:
    """How often each capping rule fired on a returned candidate."""
    return Counter(rule for r in results for a in r.returned for rule in a.rules)
