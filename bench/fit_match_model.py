"""Fit the shipped ``$match`` model on the TRAINING half of the synthetic Swedish population
and write ``app/domain/matching/model.json``.

Never on the held-out half: ``match_quality.py`` reports on another seed
(:data:`bench.match_quality.HELD_OUT_SEED`). Steps:

1. term frequencies, u (random pairs) and the household correction from the stored records —
   the same unsupervised steps ``python -m app match fit`` runs on an installation;
2. m from the training queries' known true pairs (labels, training half only), pulled towards
   the expert values of :data:`app.domain.matching.fit.DEFAULT_M`;
3. the calibration (Platt scaling of bits → probability) on every blocked pair of the
   training queries;
4. the thresholds: ``probable`` the lowest score at which, on the training half, fewer than
   :data:`MAX_FALSE_SURE` of the non-member queries and of the other persons get it.

Run: ``.venv/bin/python bench/fit_match_model.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain.matching import SHIPPED, record_from_patient  # noqa: E402
from app.domain.matching.features import compare  # noqa: E402
from app.domain.matching.fit import (  # noqa: E402
    DEFAULT_M,
    calibrate,
    estimate_u,
    fit_supervised_m,
    household_statistics,
    term_frequencies,
)
from app.domain.matching.model import Model, save_model  # noqa: E402
from app.domain.matching.rules import RULES  # noqa: E402
from bench import match_evaluation  # noqa: E402
from bench.swedish_population import generate  # noqa: E402

TRAINING_SEED = 1
TRAINING_SIZE = 100_000
TRAINING_QUERIES = 4_000
#: The probable threshold leaves at most this share of false certain/probable on training.
MAX_FALSE_SURE = 0.004
POSSIBLE = 0.005


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=TRAINING_SIZE)
    parser.add_argument("--queries", type=int, default=TRAINING_QUERIES)
    parser.add_argument("--output", default=str(SHIPPED))
    args = parser.parse_args()
    import random

    data = generate(args.size, TRAINING_SEED, queries=args.queries)
    records = [record_from_patient(p) for p in data.patients]
    by_id = {r.id: r for r in records}
    others, household_u = household_statistics(records)
    u = estimate_u(records, random.Random(TRAINING_SEED))
    members = [q for q in data.queries if q.truth is not None]
    model = Model(
        version=f"sweden-synthetic-{date.today():%Y%m%d}",
        description=(f"fitted on the synthetic Swedish population's training half (seed "
                     f"{TRAINING_SEED}, {len(records)} records, {len(data.queries)} queries)"),
        m=DEFAULT_M, u=u, frequencies=term_frequencies(records), household_u=household_u,
        household_others=others,
        in_database=round(len(members) / len(data.queries), 3), possible=POSSIBLE,
        rules=tuple(RULES),
        fitted={"on": "synthetic Swedish population, training seed", "seed": TRAINING_SEED,
                "records": len(records), "queries": len(data.queries),
                "date": date.today().isoformat()})
    true_pairs = [compare(record_from_patient(q.patient), by_id[q.truth]) for q in members]
    model = replace(model, m=fit_supervised_m(true_pairs, DEFAULT_M))
    queries = [(q.patient, q.truth, q.kind) for q in data.queries]
    scored = match_evaluation.score(data.patients, queries, model)
    slope, intercept = calibrate(
        (a.bits, a.candidate_id == s.truth) for s in scored for a in s.ranked
        if a.identifier is None)
    model = replace(model, slope=round(slope, 4), intercept=round(intercept, 4))
    scored = match_evaluation.score(data.patients, queries, model)
    model = replace(model, probable=_probable_threshold(scored))
    save_model(model, args.output)
    print(f"slope {slope:.3f} intercept {intercept:.3f} probable {model.probable} "
          f"household others {others:.2f}")
    for feature, levels in model.m.items():
        print(feature, {k: round(v, 4) for k, v in levels.items()})
    final = match_evaluation.score(data.patients, queries, model)
    print(match_evaluation.summary(final))
    print(f"wrote {args.output}")


def _probable_threshold(scored: list[match_evaluation.Scored]) -> float:
    """The lowest threshold (in steps of 0.01 from 0.80) at which false certain/probable
    stay within :data:`MAX_FALSE_SURE` of the queries."""
    false_scores = sorted(
        (max((a.score for a in s.returned
              if a.grade in ("probable", "possible") and a.candidate_id != s.truth),
             default=0.0) for s in scored), reverse=True)
    allowed = int(MAX_FALSE_SURE * len(scored))
    worst = false_scores[allowed] if allowed < len(false_scores) else 0.0
    threshold = 0.80
    while threshold < worst and threshold < 0.99:
        threshold = round(threshold + 0.01, 2)
    return threshold if threshold > worst else round(min(worst + 0.005, 0.995), 3)


if __name__ == "__main__":
    main()
