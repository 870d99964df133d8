"""Scoring and grading one candidate against the query (FHIR R4 ``$match`` grades).

* ``certain`` only through an identifier of a known kind held by both, with no
  contradicting birth date or sex (and no contradicting person number).
* A different PNR/SNR where both records have one (and neither holds the other's) means two
  people (domain.md §2.1: one number per person): ``certainly-not`` whatever else agrees.
  Such a look-alike — twins share name parts, birth date and address — is graded and
  returned only when the rest of the evidence would have made it at least ``possible``;
  otherwise it is not worth returning (grade None). Its score is 0.
* Otherwise the Fellegi–Sunter weight (prior + Σ log2 m/u) gives the match probability,
  which is the score; thresholds turn it into ``probable`` / ``possible``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from app.domain.matching.features import Level, compare
from app.domain.matching.fitted import FITTED
from app.domain.matching.model import Model, model_from_dict
from app.domain.matching.record import MatchRecord

#: Evidence (bits) of a shared identifier: known kinds exactly equal, opaque systems equal.
KNOWN_IDENTIFIER_BITS = 20.0
OPAQUE_IDENTIFIER_BITS = 10.0
#: Evidence against of a different PNR/SNR on both sides (domain.md §2.1).
CONTRADICTION_BITS = -25.0
#: Probability thresholds of the grades (chosen on FEBRL4, see bench/match_quality.py).
PROBABLE = 0.9
POSSIBLE = 0.2
GRADES = ("certain", "probable", "possible", "certainly-not")


@dataclass(frozen=True)
class Assessment:
    """One candidate's result."""

    candidate_id: str | None
    score: float
    grade: str | None  # None: below ``possible``, not worth returning
    weight: float
    levels: dict[str, Level]
    identifier: str | None  # "known", "opaque", "contradiction" or None


@cache
def fitted_model() -> Model:
    """The model in use: the fitted numbers completed with the defaults."""
    return model_from_dict(dict(FITTED))


def assess(query: MatchRecord, candidate: MatchRecord, *, model: Model | None = None,
           use_contact: bool = True) -> Assessment:
    """Score ``candidate`` against ``query``. ``use_contact=False`` ignores address and
    telecom (a protected candidate seen by a caller without access)."""
    model = model or fitted_model()
    levels = compare(query, candidate, use_contact=use_contact)
    weights = model.weights
    weight = model.prior_weight + sum(
        weights[name][level] for name, level in levels.items() if level is not None)
    contradiction = any(
        kind in candidate.person_numbers and not (values & candidate.person_numbers[kind])
        for kind, values in query.person_numbers.items())
    shared_known = bool(query.known_identifiers & candidate.known_identifiers)
    shared_any = bool(query.identifiers & candidate.identifiers)
    identifier: str | None = None
    looks_alike = False
    if contradiction:
        identifier = "contradiction"
        looks_alike = _probability(weight) >= POSSIBLE  # the rest of the evidence alone
        weight += CONTRADICTION_BITS
    elif shared_known:
        identifier = "known"
        weight += KNOWN_IDENTIFIER_BITS
    elif shared_any:
        identifier = "opaque"
        weight += OPAQUE_IDENTIFIER_BITS
    probability = _probability(weight)
    grade: str | None
    demographic_conflict = levels["birth"] not in (None, "exact") or levels["sex"] == "else"
    if identifier == "contradiction":
        grade = "certainly-not" if looks_alike else None
        probability = 0.0  # known not to be the person, however much else agrees
    elif identifier == "known" and not demographic_conflict:
        grade = "certain"
    elif probability >= PROBABLE:
        grade = "probable"
    elif probability >= POSSIBLE:
        grade = "possible"
    else:
        grade = None
    return Assessment(candidate.id, round(probability, 4), grade, weight, levels, identifier)


def _probability(weight: float) -> float:
    return 1.0 / (1.0 + math.pow(2.0, -max(min(weight, 60.0), -60.0)))


def rank(query: MatchRecord, candidates: list[tuple[MatchRecord, bool]], *,
         model: Model | None = None) -> list[Assessment]:
    """Assess (candidate, use_contact) pairs, best first (ties by id for stable output)."""
    results = [assess(query, candidate, model=model, use_contact=use_contact)
               for candidate, use_contact in candidates]
    results.sort(key=lambda a: (a.grade != "certain", -a.weight, a.candidate_id or ""))
    return results
