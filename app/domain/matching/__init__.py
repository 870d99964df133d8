"""The patient matching engine behind ``Patient/$match`` (no Flask, no SQL).

``record`` reduces a Patient to comparable, Swedish-normalised fields (``normalise``);
``blocking`` says which stored records a query is compared with; ``features`` compares two
records field by field into discrete agreement levels; ``model`` is the match model as data
(m/u, term frequencies, the household correction, calibration and thresholds, read from a
JSON file that ``fit`` writes); ``score`` turns the evidence into a calibrated score and a
FHIR match grade, and ``explain`` into a sentence a clerk can read.
"""

from __future__ import annotations

from app.domain.matching.blocking import MemoryIndex, choose, query_keys, record_keys
from app.domain.matching.explain import explanation
from app.domain.matching.model import SHIPPED, Model, ModelError, load_model
from app.domain.matching.record import (
    MatchRecord,
    decode_record,
    encode_record,
    record_from_patient,
)
from app.domain.matching.score import GRADES, Assessment, assess, order_key, rank

__all__ = [
    "GRADES",
    "SHIPPED",
    "Assessment",
    "MatchRecord",
    "MemoryIndex",
    "Model",
    "ModelError",
    "assess",
    "choose",
    "decode_record",
    "encode_record",
    "explanation",
    "load_model",
    "order_key",
    "query_keys",
    "rank",
    "record_from_patient",
    "record_keys",
]
