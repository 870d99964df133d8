"""The patient matching engine behind ``Patient/$match`` (no Flask, no SQL).

``record`` reduces a Patient to comparable, Swedish-normalised fields (``normalise``);
``blocking`` says which stored records a query is compared with; ``features`` compares two
records field by field into discrete agreement levels; ``model`` holds the Fellegi–Sunter
m/u probabilities (fitted by ``em`` on FEBRL4, numbers in ``fitted``); ``score`` turns the
evidence into a 0–1 score and a FHIR match grade.
"""

from __future__ import annotations

from app.domain.matching.blocking import MemoryIndex, choose, query_keys, record_keys
from app.domain.matching.record import (
    MatchRecord,
    decode_record,
    encode_record,
    record_from_patient,
)
from app.domain.matching.score import Assessment, assess, rank

__all__ = [
    "Assessment",
    "MatchRecord",
    "MemoryIndex",
    "assess",
    "choose",
    "decode_record",
    "encode_record",
    "query_keys",
    "rank",
    "record_from_patient",
    "record_keys",
]
