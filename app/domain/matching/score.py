"""Scoring and grading one candidate against the query (FHIR R4 ``$match`` grades).

* ``certain`` only through an identifier of a known kind held by both, with no
  contradicting birth date or sex (and no contradicting person number).
* A different PNR/SNR where both records have one (and neither holds the other's) means two
  people (domain.md §2.1: one number per person): ``certainly-not`` whatever else agrees.
  Such a look-alike — twins share name parts, birth date and address — is graded and
  returned only when the rest of the evidence would have made it at least ``possible``;
  otherwise it is not worth returning (grade None). Its score is 0.
* Otherwise the evidence of every feature (:class:`~app.domain.matching.model.Model.bits`,
  with term frequencies and the household correction) plus the prior gives a calibrated
  probability, which is the score; the model's thresholds turn it into ``probable`` /
  ``possible``.
* Rules that no sum of independent weights can express cap the grade at ``possible``
  unless an identifier of a known kind is shared (:data:`RULES`, those the model lists):
  in a Swedish population a given name or a birth date that differs beyond a typing error
  belongs to another person — a twin, a sibling, a parent of the same name, a namesake —
  far more often than to the same person written wrongly. Which rules hold is a property of
  the population, so the model file lists them. Two given names one letter apart that are
  both names parents give (:func:`other_given_name`) differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.matching.features import Agreement, compare
from app.domain.matching.model import Model
from app.domain.matching.record import MatchRecord
from app.domain.matching.rules import RULES

#: Evidence (bits) of a shared identifier: known kinds exactly equal, opaque systems equal.
KNOWN_IDENTIFIER_BITS = 20.0
OPAQUE_IDENTIFIER_BITS = 10.0
#: Grades returned, best first: ``certainly-not`` marks a look-alike that holds a different
#: personnummer or samordningsnummer, after the rest.
GRADES = ("certain", "probable", "possible", "certainly-not")
#: The score of a candidate a rule caps at ``possible`` is at most this.
CAPPED_SCORE = 0.5


@dataclass(frozen=True)
class Evidence:
    """One feature's part in a score."""

    feature: str
    level: str | None  # None: missing on a side, or not used
    bits: float
    #: "agrees", "partly", "differs", "missing" or "not used" (withheld fields).
    outcome: str
    #: Whether the level was weighed as between members of one household (:func:`relatives`).
    household: bool = False


@dataclass(frozen=True)
class Assessment:
    """One candidate's result."""

    candidate_id: str | None
    score: float
    grade: str | None  # None: below ``possible``, not worth returning
    bits: float
    evidence: tuple[Evidence, ...]
    identifier: str | None  # "known", "opaque", "contradiction" or None
    #: The rules that capped the grade at ``possible`` (app.domain.matching.rules).
    rules: tuple[str, ...] = ()


_AGREES = frozenset({"exact", "household"})
_PARTLY = frozenset({"token", "typo", "transposed", "near", "swapped", "street", "postal",
                     "city", "county"})


def _outcome(level: str | None, used: bool) -> str:
    if not used:
        return "not used"
    if level is None:
        return "missing"
    if level in _AGREES:
        return "agrees"
    return "partly" if level in _PARTLY else "differs"


#: Levels at which given name and birth date say "the same person, maybe mistyped".
_SAME_GIVEN = frozenset({"exact", "token", "typo", "swapped"})
_SAME_BIRTH = frozenset({"exact", "transposed", "typo", "near"})


def other_given_name(query: MatchRecord, candidate: MatchRecord,
                     levels: dict[str, Agreement], model: Model) -> bool:
    """Whether first given names one letter apart (Ella and Elsa, Alva and Alma, Saga and
    Sara) are two names parents give in their own right: then they are two people — twins
    and sisters are named so — not one person written with a typing error. A typing error
    that makes no name (Anan for Anna) stays one. Nicknames of the table (Lena for Helena)
    stay one name: parents do not give twins two forms of one name."""
    if levels["given"].level != "typo" or not query.given_forms or not candidate.given_forms:
        return False
    typed, stored = query.given_forms[0], candidate.given_forms[0]
    return typed != stored and model.common_given_name(typed) and (
        model.common_given_name(stored))


def relatives(levels: dict[str, Agreement], model: Model) -> bool:
    """Whether the pair looks like two members of one household: they share a street
    address, telephone or e-mail, but their given names or birth dates differ (a sibling, a
    twin, a parent, a partner). Their shared family name and address are then what
    households share — weighed within a household, the address not at all — and say little
    about identity. Never in a population without households (the model's fit found almost
    no shared addresses: FEBRL's), where a shared address can only be the same person."""
    if levels["place"].level != "household" or not model.has_households:
        return False
    given, birth = levels["given"].level, levels["birth"].level
    return (given is not None and given not in _SAME_GIVEN) or (
        birth is not None and birth not in _SAME_BIRTH)


def weigh(levels: dict[str, Agreement], model: Model, population: int, *,
          use_contact: bool = True) -> tuple[Evidence, ...]:
    """Each feature's evidence for a compared pair (the prior not included)."""
    household = relatives(levels, model)
    return tuple(
        Evidence(name, agreement.level, _bits(model, name, agreement, population, household),
                 _outcome(agreement.level, use_contact or name != "place"),
                 household and agreement.level is not None)
        for name, agreement in levels.items())


def _bits(model: Model, feature: str, agreement: Agreement, population: int,
          household: bool) -> float:
    if agreement.level is None or (household and feature == "place"):
        return 0.0
    return model.bits(feature, agreement, population=population, household=household)


def assess(query: MatchRecord, candidate: MatchRecord, *, model: Model, population: int,
           use_contact: bool = True) -> Assessment:
    """Score ``candidate`` against ``query`` in a database of ``population`` records.
    ``use_contact=False`` ignores address and telecom (a protected candidate seen by a caller
    without access)."""
    levels = compare(query, candidate, use_contact=use_contact)
    if other_given_name(query, candidate, levels, model):
        levels["given"] = Agreement("similar")
    evidence = weigh(levels, model, population, use_contact=use_contact)
    identifier, identifier_bits = _shared_identifiers(query, candidate)
    bits = model.prior_bits(population) + sum(e.bits for e in evidence) + identifier_bits
    # Rules cap a candidate unless a shared number already decided it (known or contradicted).
    rules = () if identifier in ("known", "contradiction") else tuple(
        name for name in model.rules if RULES[name][1](levels))
    demographic_conflict = levels["birth"].level not in (None, "exact") or (
        levels["sex"].level == "else")
    probability, grade = _grade(model, model.probability(bits), identifier, rules,
                                demographic_conflict)
    return Assessment(candidate.id, round(probability, 4), grade, bits, evidence, identifier,
                      rules)


def _shared_identifiers(query: MatchRecord, candidate: MatchRecord) -> tuple[str | None, float]:
    """What the two records' identifiers say — ``contradiction`` (different numbers of one
    person-number kind), ``known`` (a shared number of a known kind), ``opaque`` (a shared
    number of another system) or None — and the bits that adds."""
    if any(kind in candidate.person_numbers and not (values & candidate.person_numbers[kind])
           for kind, values in query.person_numbers.items()):
        return "contradiction", 0.0
    if query.known_identifiers & candidate.known_identifiers:
        return "known", KNOWN_IDENTIFIER_BITS
    if query.identifiers & candidate.identifiers:
        return "opaque", OPAQUE_IDENTIFIER_BITS
    return None, 0.0


def _grade(model: Model, probability: float, identifier: str | None, rules: tuple[str, ...],
           demographic_conflict: bool) -> tuple[float, str | None]:
    """The reported probability and the grade (None: not returned)."""
    if identifier == "contradiction":
        # The rest of the evidence alone decides whether the look-alike is worth showing;
        # known not to be the person, however much else agrees.
        return 0.0, "certainly-not" if probability >= model.possible else None
    if identifier == "known":
        if not demographic_conflict:
            return probability, "certain"
        # The same number of a known kind, other demographics: never hidden from the clerk
        # (creating the person would fail on that number).
        return probability, "probable" if probability >= model.probable else "possible"
    if rules:
        probability = min(probability, CAPPED_SCORE)
        return probability, "possible" if probability >= model.possible else None
    if probability >= model.probable:
        return probability, "probable"
    return probability, "possible" if probability >= model.possible else None


def rank(query: MatchRecord, candidates: list[tuple[MatchRecord, bool]], *, model: Model,
         population: int) -> list[Assessment]:
    """Assess (candidate, use_contact) pairs, best first (ties by id for stable output)."""
    results = [assess(query, candidate, model=model, population=population,
                      use_contact=use_contact)
               for candidate, use_contact in candidates]
    results.sort(key=order_key)
    return results


def order_key(result: Assessment) -> tuple[int, float, float, str]:
    """Best first: by grade (unreturned last), then score, then evidence."""
    grade = GRADES.index(result.grade) if result.grade in GRADES else len(GRADES)
    return (grade, -result.score, -result.bits, result.candidate_id or "")
