"""The match model as data: m/u probabilities per feature level, term frequencies, the
household correction, the calibration of scores and the grade thresholds.

A model is a JSON file (:data:`SHIPPED`, or the file ``MATCH_MODEL_FILE`` names) written by
``python -m app match fit`` (:mod:`app.domain.matching.fit`) on an installation's own records
or by ``bench/fit_match_model.py`` on the training half of the synthetic Swedish population.
Its ``version`` is reported by ``/metadata`` and on every ``$match`` answer.

The evidence of one feature reaching one level is ``log2(m / u)`` bits, where u is

* the term's share of the records for the levels that share a value (a family name, given
  name, postal code or city: "Andersson" is weak evidence, a rare name strong);
* for two records in one household (same street address, telephone or e-mail) the
  probability that two *different members of a household* agree — household members share a
  family name most of the time and twins share a birth date, so within a household these
  say little;
* ``household.others / N`` for the household level itself: a household has only a few
  members, whatever the size N of the population;
* otherwise the level's fitted u.

The prior is the probability that a query's person is one particular stored record:
``in_database / N``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from app.domain.matching.features import FEATURES, TERM_FREQUENCY, Agreement
from app.domain.matching.rules import RULES

#: The model shipped with the server (fitted on the synthetic population's training half).
SHIPPED = Path(__file__).resolve().parent / "model.json"
#: Version of the file layout this code reads.
FORMAT = 1
#: No probability of the model goes below this (a level never seen is not impossible).
FLOOR = 1e-7
#: Below this mean number of records sharing a household, a population has no households.
HOUSEHOLD_MIN = 0.1
#: Term tables of places: a term missing from them is weighed as their typical term
#: (a name missing from the name tables is rare, and weighed so).
AREA_TABLES = frozenset({"postal", "city"})
#: A given name held by at least this share of the records is a name parents give: two
#: different such names (Maja and Maria, Ella and Elsa) are two people, not a nickname or
#: a typing error (app.domain.matching.score).
COMMON_GIVEN_SHARE = 2e-4
#: The term table of given names as typed (before nicknames are mapped).
GIVEN_FORMS = "given_form"


def odds_probability(bits: float) -> float:
    """The probability whose log2 odds are ``bits`` (clamped to ±60)."""
    return 1.0 / (1.0 + math.pow(2.0, -max(min(bits, 60.0), -60.0)))


class ModelError(ValueError):
    """A model file that cannot be used."""


@dataclass(frozen=True)
class Frequencies:
    """How many of ``records`` records hold each term (terms held by one are left out)."""

    records: int
    terms: dict[str, int]

    def share(self, term: str) -> float:
        """The share of records holding ``term`` (an unlisted term counts as held by one)."""
        return max(self.terms.get(term, 1), 1) / max(self.records, 1)

    @cached_property
    def median_share(self) -> float:
        """The share of a typical listed term (one held by one record when none is)."""
        counts = sorted(self.terms.values())
        return (counts[len(counts) // 2] if counts else 1) / max(self.records, 1)


@dataclass(frozen=True)
class Model:
    """Everything scoring needs, read from one model file."""

    version: str
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    frequencies: dict[str, Frequencies]
    #: Probability that two different members of one household agree, per feature level.
    household_u: dict[str, dict[str, float]]
    #: Mean number of other records sharing a record's household.
    household_others: float
    #: Probability that a ``$match`` query's person is in the database at all.
    in_database: float
    #: score = 1 / (1 + 2^-(slope × bits + intercept)), fitted on labelled training data.
    slope: float = 1.0
    intercept: float = 0.0
    probable: float = 0.9
    possible: float = 0.1
    #: A database smaller than this is scored as this many records: the model describes a
    #: regional population, and a test or demo database of a few records is a sample of one
    #: (else with N = 5 a shared telephone would be weak evidence and any namesake certain).
    min_population: int = 10_000
    #: The capping rules in force (app.domain.matching.rules.RULES): a population policy.
    rules: tuple[str, ...] = ()
    description: str = ""
    fitted: dict[str, Any] = field(default_factory=dict)

    def bits(self, feature: str, agreement: Agreement, *, population: int,
             household: bool) -> float:
        """The evidence, in bits, of ``feature`` reaching ``agreement`` (see the module)."""
        population = max(population, self.min_population)
        level = agreement.level
        assert level is not None
        m = self.m[feature][level]
        table = TERM_FREQUENCY.get((feature, level))
        if household and level != "swapped" and level in self.household_u.get(feature, {}):
            u = self.household_u[feature][level]
        elif level == "swapped" and agreement.term is not None:
            # A name in the other name field: as common as it is in either field.
            u = max(self.frequencies["family"].share(agreement.term),
                    self.frequencies["given"].share(agreement.term))
        elif table in AREA_TABLES and agreement.term not in self.frequencies[table].terms:
            # A postal code or city the fit never saw (or saw once): weighed as a typical
            # one, not as unique — the shipped model never saw a real postal code.
            u = self.frequencies[table].median_share
        elif table is not None and agreement.term is not None:
            u = self.frequencies[table].share(agreement.term)
        elif feature == "place" and level == "household":
            u = self.household_others / max(population, 1)
        else:
            u = self.u[feature][level]
        return math.log2(max(m, FLOOR) / min(max(u, FLOOR), 1.0))

    def common_given_name(self, form: str) -> bool:
        """Whether ``form`` (a given name's spelling key, as typed) is a name in its own
        right: held by at least :data:`COMMON_GIVEN_SHARE` of the records."""
        table = self.frequencies.get(GIVEN_FORMS)
        return table is not None and table.terms.get(form, 0) / max(
            table.records, 1) >= COMMON_GIVEN_SHARE

    @property
    def has_households(self) -> bool:
        """Whether the population the model was fitted on shares addresses at all."""
        return self.household_others >= HOUSEHOLD_MIN

    def prior_bits(self, population: int) -> float:
        """log2 odds that the query's person is one given record of ``population``."""
        p = min(self.in_database / max(population, self.min_population), 0.5)
        return math.log2(p / (1 - p))

    def probability(self, bits: float) -> float:
        """The calibrated match probability of total evidence ``bits``."""
        return odds_probability(self.slope * bits + self.intercept)

    @cached_property
    def summary(self) -> dict[str, Any]:
        """What ``/metadata`` and ``match show`` report."""
        return {"version": self.version, "description": self.description,
                "thresholds": {"probable": self.probable, "possible": self.possible},
                "rules": list(self.rules), "fitted": self.fitted}

    def to_dict(self) -> dict[str, Any]:
        """The model as its file holds it."""
        return {
            "format": FORMAT, "version": self.version, "description": self.description,
            "fitted": self.fitted, "in_database": self.in_database,
            "calibration": {"slope": self.slope, "intercept": self.intercept},
            "thresholds": {"probable": self.probable, "possible": self.possible},
            "rules": list(self.rules), "min_population": self.min_population,
            "m": self.m, "u": self.u,
            "household": {"others": self.household_others, "u": self.household_u},
            "frequencies": {name: {"records": f.records, "terms": f.terms}
                            for name, f in self.frequencies.items()},
        }


def model_from_dict(data: dict[str, Any]) -> Model:
    """A model from its file's content; :class:`ModelError` names what is wrong."""
    if data.get("format") != FORMAT:
        raise ModelError(f"model format {data.get('format')!r} is not {FORMAT}")
    try:
        m = {feature: dict(levels) for feature, levels in data["m"].items()}
        u = data["u"]
        _check_probabilities(m, u)
        # Swapped name fields never count more than the same names in their own fields.
        for feature in ("family", "given"):
            m[feature]["swapped"] = min(m[feature]["swapped"], m[feature]["exact"])
        frequencies = {name: Frequencies(int(table["records"]),
                                         {str(k): int(v) for k, v in table["terms"].items()})
                       for name, table in data["frequencies"].items()}
        missing = set(TERM_FREQUENCY.values()) - frequencies.keys()
        if missing:
            raise ModelError(f"no term frequencies for {', '.join(sorted(missing))}")
        _check_ranges(data)
        rules = tuple(str(rule) for rule in data.get("rules", ()))
        if unknown := [rule for rule in rules if rule not in RULES]:
            raise ModelError(f"unknown rules {', '.join(unknown)}")
        return Model(
            version=str(data["version"]), m=m, u=u, frequencies=frequencies,
            household_u=data["household"]["u"],
            household_others=float(data["household"]["others"]),
            in_database=float(data["in_database"]),
            slope=float(data["calibration"]["slope"]),
            intercept=float(data["calibration"]["intercept"]),
            probable=float(data["thresholds"]["probable"]),
            possible=float(data["thresholds"]["possible"]),
            rules=rules, min_population=int(data.get("min_population", 10_000)),
            description=str(data.get("description", "")), fitted=dict(data.get("fitted", {})),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"model file lacks or misshapes {exc}") from exc


def _check_probabilities(m: dict[str, Any], u: dict[str, Any]) -> None:
    """Every level of every feature has an m and a u probability in (0, 1]."""
    for feature, (_, levels) in FEATURES.items():
        for level in levels:
            for name, table in (("m", m), ("u", u)):
                value = table[feature][level]
                if not 0 < value <= 1:
                    raise ModelError(f"{name}[{feature}][{level}] = {value} is not in (0, 1]")


def _check_ranges(data: dict[str, Any]) -> None:
    """The prior, the calibration slope and the thresholds are in their ranges."""
    ranges = {"in_database": (data["in_database"], 0.0, 1.0),
              "calibration.slope": (data["calibration"]["slope"], 0.0, math.inf),
              "thresholds.possible": (data["thresholds"]["possible"], 0.0, 1.0),
              "thresholds.probable": (data["thresholds"]["probable"],
                                      data["thresholds"]["possible"], 1.0)}
    for name, (value, low, high) in ranges.items():
        if not (isinstance(value, int | float) and low < value <= high):
            raise ModelError(f"{name} = {value!r} is not in ({low}, {high}]")
    if int(data.get("min_population", 10_000)) < 1:
        raise ModelError("min_population must be at least 1")


def load_model(path: Path | str) -> Model:
    """Read a model file."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ModelError(f"cannot read match model {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"match model {path} is not a JSON object")
    return model_from_dict(data)


def save_model(model: Model, path: Path | str) -> None:
    """Write a model file (sorted keys, so that refits diff readably) through a temporary
    file renamed into place, so that a server never reads half a file."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(orjson.dumps(model.to_dict(),
                                     option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    partial.replace(target)


class ModelFile:
    """The model of one file, read again when the file changes (``match fit`` rewrote it):
    checked at most every :data:`RECHECK_SECONDS`; a changed file that cannot be used is
    reported through ``on_error`` and the model in use kept."""

    RECHECK_SECONDS = 60.0

    def __init__(self, path: Path | str, on_error: Callable[[ModelError], None]) -> None:
        self.path = Path(path)
        self.on_error = on_error
        self._stamp = self._stat()
        self._model = load_model(self.path)
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def _stat(self) -> tuple[float, int]:
        stat = self.path.stat()
        return stat.st_mtime, stat.st_size

    @property
    def model(self) -> Model:
        """The model in use, reloaded first when the file has changed."""
        now = time.monotonic()
        if now - self._checked >= self.RECHECK_SECONDS and self._lock.acquire(blocking=False):
            try:
                self._checked = now
                stamp = self._stat()
                if stamp != self._stamp:
                    self._model, self._stamp = load_model(self.path), stamp
            except (OSError, ModelError) as exc:
                self.on_error(exc if isinstance(exc, ModelError) else ModelError(str(exc)))
            finally:
                self._lock.release()
        return self._model
