"""``make bench``: run every benchmark in ``BENCHMARKS`` and summarise.

Each benchmark is a script in ``bench/`` run as its own process from the repository root
(so it can start servers, time itself and write ``bench/results/<name>-….json``); add
new ones to the list. ``BENCH=name[,name]`` picks some; extra arguments are passed to
every chosen benchmark, so use them with one, e.g.
``BENCH=rest_throughput python bench/run_all.py --patients 2000``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (name, script relative to the repository root, default arguments)
BENCHMARKS: list[tuple[str, str, list[str]]] = [
    ("rest_throughput", "bench/rest_throughput.py", []),
    ("rest_throughput_jwt", "bench/rest_throughput.py", ["--auth", "jwt"]),
    ("reserve_id_throughput", "bench/reserve_id_throughput.py", []),
    ("match_quality", "bench/match_quality.py", []),
    ("match_latency", "bench/match_latency.py", ["--sizes", "10000,100000"]),
    ("read_instructions", "bench/read_instructions.py", []),
    ("load_bench", "bench/load_bench.py", ["--sizes", "100000"]),
    ("notification_latency", "bench/notification_latency.py", []),
    ("export_bench", "bench/export_bench.py", ["--size", "100000"]),
]


def main(argv: list[str]) -> int:
    chosen = {n.strip() for n in os.environ.get("BENCH", "").split(",") if n.strip()}
    unknown = chosen - {name for name, _, _ in BENCHMARKS}
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    outcomes: list[tuple[str, int, float]] = []
    for name, script, defaults in BENCHMARKS:
        if chosen and name not in chosen:
            continue
        print(f"=== bench: {name}", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, script, *defaults, *argv], cwd=ROOT).returncode
        outcomes.append((name, code, time.perf_counter() - started))
    print("\n=== bench summary")
    for name, code, seconds in outcomes:
        print(f"{name:<24} {'ok' if code == 0 else f'exit {code}':<8} {seconds:6.0f} s")
    return 0 if all(code == 0 for _, code, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
