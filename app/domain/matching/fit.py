"""Fitting a match model from records (pure Python, no database).

``python -m app match fit`` runs :func:`fit_unsupervised` on an installation's own records,
as Splink does, without labels:

* term frequencies of family names, given names, postal codes and cities, blended with the
  base model's (national) frequencies so that a small database still has a sensible prior;
* u of every level from random record pairs (nearly all non-matches);
* the household correction: how often two records sharing a street address, telephone or
  e-mail agree on family name, given name and birth date, and how many records share one;
* m by expectation–maximisation over the pairs the blocking keys produce, each m pulled
  towards the base model's by a Dirichlet prior of :data:`M_PRIOR_PAIRS` pairs — a
  deduplicated register holds few true duplicates, and EM must not take its households for
  them.

``bench/fit_match_model.py`` also uses :func:`fit_supervised_m` and :func:`calibrate` on the
labelled training half of the synthetic population to make the shipped model.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from app.domain.matching.blocking import MemoryIndex
from app.domain.matching.features import FEATURES, TERM_FREQUENCY, Agreement, compare
from app.domain.matching.model import (
    FLOOR,
    GIVEN_FORMS,
    Frequencies,
    Model,
    odds_probability,
)
from app.domain.matching.record import MatchRecord
from app.domain.matching.score import weigh

#: Expert starting values of m (how often the same person reaches each level).
DEFAULT_M: dict[str, dict[str, float]] = {
    "family": {"exact": 0.86, "token": 0.03, "typo": 0.05, "similar": 0.02, "swapped": 0.01,
               "else": 0.03},
    "given": {"exact": 0.85, "token": 0.08, "typo": 0.04, "similar": 0.01, "swapped": 0.01,
              "else": 0.01},
    "birth": {"exact": 0.93, "transposed": 0.015, "typo": 0.03, "near": 0.01, "year": 0.005,
              "else": 0.01},
    "sex": {"exact": 0.99, "else": 0.01},
    "place": {"household": 0.6, "street": 0.03, "postal": 0.05, "city": 0.1, "county": 0.02,
              "else": 0.2},
}
#: Expert values of the household correction: how often two members of one household agree.
DEFAULT_HOUSEHOLD_U: dict[str, dict[str, float]] = {
    "family": {"exact": 0.75, "token": 0.05, "typo": 0.01, "similar": 0.01, "swapped": 0.001,
               "else": 0.179},
    "given": {"exact": 0.02, "token": 0.03, "typo": 0.02, "similar": 0.05, "swapped": 0.001,
              "else": 0.879},
    "birth": {"exact": 0.03, "transposed": 0.001, "typo": 0.01, "near": 0.001, "year": 0.05,
              "else": 0.908},
}
#: Expert u of the place levels, for data that lacks a field (no county: a county agreement
#: must not then count as rare as a shared household).
DEFAULT_U: dict[str, dict[str, float]] = {
    "place": {"household": 1e-5, "street": 2e-4, "postal": 2e-3, "city": 0.03, "county": 0.1,
              "else": 0.8678},
}
#: Weight, in random pairs, of :data:`DEFAULT_U`.
U_PRIOR_PAIRS = 1000.0
#: Weight, in pairs, of :data:`DEFAULT_HOUSEHOLD_U` in the household estimate.
HOUSEHOLD_PRIOR_PAIRS = 100.0
#: Weight, in pairs, of the base model's m in the EM estimate (a Dirichlet prior). Heavy: a
#: deduplicated register holds few true duplicates, and with a light prior EM takes its
#: namesakes and juniors for them (on 100,000 synthetic records a weight of 200 let m(birth
#: date differs) grow from 0.001 to 0.51).
M_PRIOR_PAIRS = 5000.0
#: Weight, in records, of the base model's term frequencies in a refit.
FREQUENCY_PRIOR_RECORDS = 5000
#: Terms held by fewer records are left out of the model file (they count as rare).
MIN_TERM_COUNT = 2
RANDOM_PAIRS = 100_000
#: Members of one household compared with each other, at most (a care home is not a home).
MAX_HOUSEHOLD = 12
#: Features whose levels are weighed differently within a household.
HOUSEHOLD_FEATURES = ("family", "given", "birth")


def term_frequencies(records: Iterable[MatchRecord]) -> dict[str, Frequencies]:
    """How many records hold each family name, given name, postal code and city."""
    tables = set(TERM_FREQUENCY.values()) | {GIVEN_FORMS}
    counts: dict[str, Counter[str]] = {name: Counter() for name in tables}
    totals: Counter[str] = Counter()
    for record in records:
        for table, terms in (("family", set(record.family) | record.family_tokens),
                             ("given", set(record.given)), ("postal", record.postal),
                             ("city", record.cities), (GIVEN_FORMS, set(record.given_forms))):
            if terms:
                totals[table] += 1
                counts[table].update(terms)
    return {table: Frequencies(totals[table], {t: n for t, n in counted.items()
                                               if n >= MIN_TERM_COUNT})
            for table, counted in counts.items()}


def blend(local: Frequencies, prior: Frequencies, weight: int) -> Frequencies:
    """``local`` counts with ``weight`` records' worth of ``prior`` shares added."""
    scale = weight / max(prior.records, 1)
    terms = {t: local.terms.get(t, 0) + prior.terms.get(t, 0) * scale
             for t in local.terms.keys() | prior.terms.keys()}
    return Frequencies(local.records + weight,
                       {t: round(n) for t, n in terms.items() if n >= MIN_TERM_COUNT})


def dwellings(record: MatchRecord) -> set[str]:
    """Keys of the households a record belongs to: each street address (within its postal
    code or city), telephone and e-mail."""
    area = sorted(record.postal or record.cities)
    keys = {f"a:{line}|{area[0] if area else ''}" for line in record.lines}
    keys.update(f"t:{phone}" for phone in record.phones)
    keys.update(f"e:{email}" for email in record.emails)
    return keys


def household_statistics(records: Sequence[MatchRecord]
                         ) -> tuple[float, dict[str, dict[str, float]]]:
    """(mean number of other records sharing a household, level frequencies of
    :data:`HOUSEHOLD_FEATURES` among pairs of household members)."""
    members: dict[str, list[int]] = defaultdict(list)
    for position, record in enumerate(records):
        for key in dwellings(record):
            members[key].append(position)
    pairs: set[tuple[int, int]] = set()
    for group in members.values():
        group = group[:MAX_HOUSEHOLD]
        pairs.update((a, b) for i, a in enumerate(group) for b in group[i + 1:])
    with_place = sum(1 for r in records if dwellings(r)) or 1
    others = max(2 * len(pairs) / with_place, 0.01)
    counted = {feature: Counter[str]() for feature in HOUSEHOLD_FEATURES}
    for a, b in pairs:
        levels = compare(records[a], records[b])
        for feature in HOUSEHOLD_FEATURES:
            if (level := levels[feature].level) is not None:
                counted[feature][level] += 1
    return others, {feature: _shares(counts, FEATURES[feature][1],
                                     prior=DEFAULT_HOUSEHOLD_U[feature],
                                     weight=HOUSEHOLD_PRIOR_PAIRS)
                    for feature, counts in counted.items()}


def estimate_u(records: Sequence[MatchRecord], rng: random.Random,
               pairs: int = RANDOM_PAIRS) -> dict[str, dict[str, float]]:
    """u of every level from random pairs of records."""
    counted = {feature: Counter[str]() for feature in FEATURES}
    for _ in range(pairs if len(records) > 1 else 0):
        a, b = rng.sample(range(len(records)), 2)
        for feature, agreement in compare(records[a], records[b]).items():
            if agreement.level is not None:
                counted[feature][agreement.level] += 1
    return {feature: _shares(counts, FEATURES[feature][1], prior=DEFAULT_U.get(feature),
                             weight=U_PRIOR_PAIRS if feature in DEFAULT_U else 0.0)
            for feature, counts in counted.items()}


def _shares(counts: Counter[str], levels: Sequence[str], *,
            prior: dict[str, float] | None = None, weight: float = 0.0) -> dict[str, float]:
    """Level frequencies with ``weight`` observations' worth of ``prior`` (or one count per
    level when there is no prior). A level the data never reached keeps its prior value:
    data without a field (no county anywhere) cannot say how often it agrees."""
    pseudo = prior or dict.fromkeys(levels, 1.0 / len(levels))
    weight = weight or float(len(levels))
    total = sum(counts.values()) + weight
    return {level: max(pseudo[level] if prior and not counts[level]
                       else (counts[level] + weight * pseudo[level]) / total, FLOOR)
            for level in levels}


LevelPairs = list[dict[str, Agreement]]


def fit_supervised_m(matches: LevelPairs, prior_m: dict[str, dict[str, float]],
                     weight: float = M_PRIOR_PAIRS) -> dict[str, dict[str, float]]:
    """m from the levels of known true pairs, with ``weight`` pairs' worth of ``prior_m``."""
    return _weighted_m([(levels, 1.0) for levels in matches], prior_m, weight)


def _weighted_m(pairs: Iterable[tuple[dict[str, Agreement], float]],
                prior_m: dict[str, dict[str, float]], weight: float
                ) -> dict[str, dict[str, float]]:
    sums = {feature: dict.fromkeys(levels, 0.0) for feature, (_, levels) in FEATURES.items()}
    totals = dict.fromkeys(FEATURES, 0.0)
    for levels, gamma in pairs:
        for feature, agreement in levels.items():
            if agreement.level is not None:
                sums[feature][agreement.level] += gamma
                totals[feature] += gamma
    return {feature: {level: max((sums[feature][level] + weight * prior_m[feature][level])
                                 / (totals[feature] + weight), FLOOR)
                      for level in levels}
            for feature, levels in sums.items()}


def fit_m_em(pairs: LevelPairs, model: Model, population: int, *, iterations: int = 10,
             weight: float = M_PRIOR_PAIRS) -> dict[str, dict[str, float]]:
    """m by EM over blocked pairs (u, term frequencies and the prior held fixed), each m
    pulled towards ``model.m`` by ``weight`` pairs."""
    prior_m = model.m
    current = model
    for _ in range(iterations):
        gammas = [(levels, _match_probability(current, levels, population)) for levels in pairs]
        current = replace(current, m=_weighted_m(gammas, prior_m, weight))
    return current.m


def _match_probability(model: Model, levels: dict[str, Agreement], population: int) -> float:
    """Uncalibrated: EM weighs the model's own evidence."""
    return odds_probability(model.prior_bits(population)
                            + sum(e.bits for e in weigh(levels, model, population)))


def blocked_pairs(records: Sequence[MatchRecord], limit: int, rng: random.Random
                  ) -> LevelPairs:
    """Levels of up to ``limit`` record pairs the blocking keys bring together (each record
    as a query against the others)."""
    index = MemoryIndex()
    for record in records:
        index.add(record)
    order = list(range(len(records)))
    rng.shuffle(order)
    pairs: LevelPairs = []
    for position in order:
        query = records[position]
        for candidate in index.candidates(query):
            if candidate.id != query.id:
                pairs.append(compare(query, candidate))
        if len(pairs) >= limit:
            break
    return pairs[:limit]


def calibrate(scored: Iterable[tuple[float, bool]], iterations: int = 100,
              ridge: float = 1.0) -> tuple[float, float]:
    """(slope, intercept) of a logistic fit of labels on bits (Platt scaling, in base 2),
    with a ridge pulling towards (1, 0) — the uncalibrated model — so that separable data
    cannot send it to infinity. Gradient descent with step halving on the penalised
    log-likelihood."""
    data = [(bits, 1.0 if label else 0.0) for bits, label in scored]
    if not data:
        return 1.0, 0.0

    def loss(slope: float, intercept: float) -> float:
        total = ridge * ((slope - 1) ** 2 + intercept ** 2)
        for bits, y in data:
            x = (slope * bits + intercept) * math.log(2)
            # log(1 + e^-x) for y = 1, log(1 + e^x) for y = 0, computed stably.
            z = -x if y else x
            total += max(z, 0.0) + math.log1p(math.exp(-abs(z)))
        return total

    slope, intercept, step = 1.0, 0.0, 1e-3
    current = loss(slope, intercept)
    for _ in range(iterations):
        g_slope = 2 * ridge * (slope - 1)
        g_intercept = 2 * ridge * intercept
        for bits, y in data:
            x = max(min((slope * bits + intercept) * math.log(2), 40.0), -40.0)
            error = (1.0 / (1.0 + math.exp(-x)) - y) * math.log(2)
            g_slope += error * bits
            g_intercept += error
        while step > 1e-12:
            trial = (slope - step * g_slope, intercept - step * g_intercept)
            if (value := loss(*trial)) < current:
                slope, intercept, current = trial[0], trial[1], value
                step *= 2
                break
            step /= 2
        else:
            break
    return slope, intercept


def fit_unsupervised(records: Sequence[MatchRecord], base: Model, *, seed: int = 1,
                     em_pairs: int = 50_000,
                     progress: Callable[[str], None] = lambda _: None) -> Model:
    """A model for ``records`` (see the module): ``base`` supplies the prior frequencies,
    the prior m, the calibration and the thresholds."""
    rng = random.Random(seed)
    progress(f"term frequencies of {len(records)} records")
    local = term_frequencies(records)
    frequencies = {name: blend(local[name], base.frequencies[name], FREQUENCY_PRIOR_RECORDS)
                   for name in base.frequencies}
    progress("u from random pairs")
    u = estimate_u(records, rng)
    progress("households")
    others, household_u = household_statistics(records)
    model = replace(base, u=u, frequencies=frequencies, household_u=household_u,
                    household_others=others)
    progress("m by EM over blocked pairs")
    pairs = blocked_pairs(records, em_pairs, rng)
    m = fit_m_em(pairs, model, max(len(records), 1))
    return replace(model, m=m)
