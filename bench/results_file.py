"""Where a benchmark writes its figures: ``bench/results/<name>-<UTC time>.json``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, figures: Any) -> Path:
    """Write ``figures`` as indented JSON to a new results file of ``name``; print and
    return its path."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out.relative_to(RESULTS.parent.parent)}", flush=True)
    return out
