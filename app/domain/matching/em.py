"""Estimating the model from data (Splink's recipe): u from random record pairs (nearly all
non-matches), then m and the prior by expectation–maximisation over blocked pairs with u
held fixed. Pure Python over counted agreement patterns, so it runs in seconds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from app.domain.matching.features import FEATURES, Level
from app.domain.matching.model import DEFAULTS, Model

Pattern = tuple[Level, ...]
#: Pseudo-count pulling each estimate towards its default (levels the data never shows).
PSEUDO = 1.0
FLOOR = 1e-6


def patterns(levels: Iterable[Mapping[str, Level]]) -> Counter[Pattern]:
    """Count the agreement patterns of many compared pairs."""
    names = list(FEATURES)
    return Counter(tuple(levels_of[name] for name in names) for levels_of in levels)


def estimate_u(counted: Counter[Pattern]) -> dict[str, dict[str, float]]:
    """u per level from (random) non-matching pairs."""
    return _frequencies(counted, {name: 1.0 for name in FEATURES}, use="u")


def fit_m(counted: Counter[Pattern], u: dict[str, dict[str, float]], *, prior: float,
          iterations: int = 40) -> Model:
    """EM for m and the prior over blocked pairs, u fixed."""
    names = list(FEATURES)
    m = {f: {level: mu[0] for level, mu in DEFAULTS[f].items()} for f in names}
    total = sum(counted.values())
    for _ in range(iterations):
        responsibilities: dict[Pattern, float] = {}
        for pattern in counted:
            pm, pu = prior, 1 - prior
            for name, level in zip(names, pattern, strict=True):
                if level is not None:
                    pm *= m[name][level]
                    pu *= u[name][level]
            responsibilities[pattern] = pm / (pm + pu)
        weighted = Counter({p: counted[p] * g for p, g in responsibilities.items()})
        m = _frequencies(weighted, {name: 1.0 for name in names}, use="m")
        prior = min(max(sum(weighted.values()) / total, FLOOR), 0.99)
    return Model(prior, m, u)


def _frequencies(counted: Counter[Pattern] | Mapping[Pattern, float],
                 pseudo_scale: dict[str, float], *, use: str) -> dict[str, dict[str, float]]:
    names = list(FEATURES)
    index = 0 if use == "m" else 1
    result: dict[str, dict[str, float]] = {}
    for position, name in enumerate(names):
        sums = dict.fromkeys(FEATURES[name][1], 0.0)
        for pattern, weight in counted.items():
            level = pattern[position]
            if level is not None:
                sums[level] += weight
        observed = sum(sums.values())
        pseudo = PSEUDO * pseudo_scale[name]
        result[name] = {
            level: max((sums[level] + pseudo * DEFAULTS[name][level][index])
                       / (observed + pseudo), FLOOR)
            for level in sums
        }
    return result
