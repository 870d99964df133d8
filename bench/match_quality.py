"""Match quality on FEBRL4: precision, recall and F1 at top-1 for grades certain+probable.

The 5,000 originals go into an in-memory candidate store built with the same blocking keys
and limits as the database adapter (:class:`app.domain.matching.MemoryIndex`); each of the
5,000 duplicates is a ``$match`` query scored by the same engine code. A prediction is the
top-ranked candidate when its grade is certain or probable; it is right when it is the
duplicate's original. ``soc_sec_id`` is not used. Run:
``.venv/bin/python bench/match_quality.py``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain.matching import MemoryIndex, rank, record_from_patient  # noqa: E402
from bench import febrl  # noqa: E402


def evaluate(verbose: bool = False) -> dict[str, float]:
    originals, duplicates = febrl.load()
    index = MemoryIndex()
    for patient in originals:
        index.add(record_from_patient(patient))
    started = time.perf_counter()
    tp = fp = blocked = 0
    missed: list[str] = []
    for patient in duplicates:
        query = record_from_patient(patient)
        candidates = index.candidates(query)
        truth = febrl.true_match(patient["id"])
        blocked += any(c.id == truth for c in candidates)
        results = rank(query, [(c, True) for c in candidates])
        top = results[0] if results else None
        if top is not None and top.grade in ("certain", "probable"):
            if top.candidate_id == truth:
                tp += 1
            else:
                fp += 1
                missed.append(f"FP {patient['id']} -> {top.candidate_id} {top.score}")
        else:
            missed.append(f"FN {patient['id']} top={top and (top.candidate_id, top.score)}")
    elapsed = time.perf_counter() - started
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / len(duplicates)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    if verbose:
        print("\n".join(missed[:60]))
    return {"queries": len(duplicates), "true_positives": tp, "false_positives": fp,
            "blocking_recall": round(blocked / len(duplicates), 4),
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "ms_per_query": round(1000 * elapsed / len(duplicates), 3)}


if __name__ == "__main__":
    print(json.dumps(evaluate(verbose="-v" in sys.argv), indent=2))
