"""Fellegi–Sunter model: m/u probabilities per feature level, the prior, and the weights.

The fitted numbers live in :mod:`app.domain.matching.fitted`, written by
``bench/fit_match_weights.py`` (u from random pairs, m and the prior by EM over blocked
pairs — Splink's recipe) on FEBRL4. :data:`DEFAULTS` are the starting values of the fit and
the values kept for features that data set cannot inform (sex, phone, e-mail, and levels
that never occur in it, such as Swedish nickname and double-name agreement).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

from app.domain.matching.features import FEATURES

#: Starting m/u per level (expert guesses; the fit replaces the ones the data informs).
DEFAULTS: dict[str, dict[str, tuple[float, float]]] = {
    "family": {"exact": (0.85, 0.003), "token": (0.04, 0.0005), "jw92": (0.05, 0.002),
               "jw80": (0.03, 0.02), "swapped": (0.005, 0.00001), "else": (0.025, 0.975)},
    "given": {"exact": (0.85, 0.01), "token": (0.04, 0.001), "jw92": (0.05, 0.004),
              "jw80": (0.03, 0.03), "swapped": (0.005, 0.00001), "else": (0.025, 0.955)},
    "birth": {"exact": (0.9, 0.0001), "transposed": (0.01, 0.00001), "typo": (0.05, 0.002),
              "near": (0.01, 0.0004), "year": (0.015, 0.03), "else": (0.015, 0.97)},
    "sex": {"exact": (0.98, 0.5), "else": (0.02, 0.5)},
    "postal": {"exact": (0.85, 0.002), "typo": (0.08, 0.01), "else": (0.07, 0.988)},
    "line": {"exact": (0.7, 0.0001), "close": (0.15, 0.001), "partial": (0.1, 0.02),
             "else": (0.05, 0.979)},
    "city": {"exact": (0.85, 0.005), "close": (0.1, 0.005), "else": (0.05, 0.99)},
    "county": {"exact": (0.9, 0.3), "else": (0.1, 0.7)},
    "phone": {"exact": (0.7, 0.0001), "else": (0.3, 0.9999)},
    "email": {"exact": (0.7, 0.0001), "else": (0.3, 0.9999)},
}
DEFAULT_PRIOR = 0.01


@dataclass(frozen=True)
class Model:
    """m/u per feature level and the prior probability that a blocked pair matches."""

    prior: float = DEFAULT_PRIOR
    m: dict[str, dict[str, float]] = field(default_factory=dict)
    u: dict[str, dict[str, float]] = field(default_factory=dict)

    def level_weight(self, feature: str, level: str) -> float:
        """log2(m/u): the evidence (in bits) of one feature reaching one level."""
        return self.weights[feature][level]

    @cached_property
    def weights(self) -> dict[str, dict[str, float]]:
        """:meth:`level_weight` of every feature and level (computed once per model)."""
        return {feature: {level: math.log2(m / self.u[feature][level])
                          for level, m in levels.items()}
                for feature, levels in self.m.items()}

    @cached_property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def to_dict(self) -> dict[str, object]:
        return {"prior": self.prior, "m": self.m, "u": self.u}


def default_model() -> Model:
    return Model(
        DEFAULT_PRIOR,
        {f: {level: mu[0] for level, mu in levels.items()} for f, levels in DEFAULTS.items()},
        {f: {level: mu[1] for level, mu in levels.items()} for f, levels in DEFAULTS.items()},
    )


def model_from_dict(data: dict[str, object]) -> Model:
    """A model from fitted numbers, completed with :data:`DEFAULTS` where they are silent."""
    base = default_model()
    m_fit = data.get("m") or {}
    u_fit = data.get("u") or {}
    assert isinstance(m_fit, dict) and isinstance(u_fit, dict)
    m = {f: {**base.m[f], **m_fit.get(f, {})} for f in FEATURES}
    u = {f: {**base.u[f], **u_fit.get(f, {})} for f in FEATURES}
    prior = data.get("prior", DEFAULT_PRIOR)
    assert isinstance(prior, float)
    return Model(prior, m, u)
