"""Patients per second of ``python -m app load`` against the physical limit (issue 16).

For each size: a seeded synthetic Swedish population (``bench/swedish_population.py``:
test personnummer with birth numbers 980–999, samordningsnummer, NRID and LRID reserve
numbers, households; here without ids, as a population register's extract, and about
:data:`PROTECTED_SHARE` of the persons protected by a security label, the share of
Swedes with skyddade personuppgifter) is written as NDJSON, loaded into a fresh
PostgreSQL database with the real command, and then the same file is COPYed raw into a
one-column ``jsonb`` table of the same database in the same run: the rate no loader can
beat on this machine at this moment. The ratio of the two is the figure that means
something on a shared machine; the rates alone move with the other load.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/load_bench.py [--sizes 100000,1000000] [--workers N]

Checks after each load: every Patient stored (none refused), no active identifier twice.
Figures are printed and written to ``bench/results/load_bench-<time>.json``.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.domain.protection import SECURITY_LABEL_SYSTEM  # noqa: E402
from bench.results_file import write_results  # noqa: E402
from bench.swedish_population import generate  # noqa: E402
from tests.support import Database  # noqa: E402

#: About 0.3 % of Sweden's population has protected personal data (sekretessmarkering or
#: skyddad folkbokföring: some 30,000 persons of 10.5 M).
PROTECTED_SHARE = 0.003


def population(size: int, seed: int) -> list[bytes]:
    """The NDJSON lines of the population: no ids, some persons protected."""
    rng = random.Random(seed)
    lines = []
    for person in generate(size, seed, queries=0).patients:
        person = {key: value for key, value in person.items() if key != "id"}
        if rng.random() < PROTECTED_SHARE:
            person["meta"] = {"security": [{"system": SECURITY_LABEL_SYSTEM,
                                            "code": "sekretessmarkering"}]}
        lines.append(orjson.dumps(person))
    return lines


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Memory:
    """Peak memory of the loading process, sampled from ``/proc`` while it runs: its own
    (anonymous) memory, and its file-backed pages — the interpreter's libraries and the
    pages of the source file it has mapped (the kernel's cache, given back when memory is
    wanted elsewhere)."""

    anonymous_kib: int = 0
    file_kib: int = 0

    def sample(self, pid: int) -> None:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return  # it has just ended
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        kib = {key: int(fields.get(key, "0 kB").split()[0]) for key in ("RssAnon", "RssFile")}
        self.anonymous_kib = max(self.anonymous_kib, kib["RssAnon"])
        self.file_kib = max(self.file_kib, kib["RssFile"])


#: What the loader prints when its last batch is in and it builds the deferred indexes.
BUILDING = b"building the search indexes"


def load(url: str, source: Path, extra: list[str]) -> tuple[float, float, str, Memory, float]:
    """Run ``python -m app load``: wall seconds, CPU seconds of the loader and its workers,
    its summary line, the loading process's peak memory, and the seconds from its last
    batch to its end (building the deferred indexes; writes to the Patient tables wait)."""
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "app", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    cpu = children_cpu()
    memory = Memory()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen([sys.executable, "-m", "app", "load", str(source), *extra],
                                   cwd=ROOT, env=env, stdout=out, stderr=err)
        building_at = None
        while process.poll() is None:
            memory.sample(process.pid)
            # pread: the loader writes through the same file offset, which must not move
            if building_at is None and BUILDING in os.pread(
                    err.fileno(), os.fstat(err.fileno()).st_size, 0):
                building_at = time.perf_counter()
            time.sleep(0.2)
        ended = time.perf_counter()
        seconds = ended - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"load failed: {stdout}\n{stderr[-2000:]}")
    return (seconds, children_cpu() - cpu, stdout.strip(), memory,
            ended - (building_at or ended))


def raw_copy(url: str, lines: list[bytes]) -> float:
    """Seconds to COPY the lines into a one-column jsonb table (CSV with a quote and a
    delimiter no JSON text holds, so each line is one value as it is)."""
    with psycopg.connect(_libpq(url)) as conn:
        conn.execute("CREATE TABLE raw_ndjson (doc jsonb)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(
                "COPY raw_ndjson (doc) FROM STDIN WITH (FORMAT csv, QUOTE e'\\x01', "
                "DELIMITER e'\\x02')") as copy:
            for start in range(0, len(lines), 10_000):
                copy.write(b"\n".join(lines[start:start + 10_000]) + b"\n")
        conn.commit()
        return time.perf_counter() - started


def checks(url: str) -> dict[str, int]:
    with psycopg.connect(_libpq(url)) as conn:
        stored = conn.execute("SELECT count(*) FROM patient").fetchone()
        twice = conn.execute("SELECT count(*) FROM (SELECT system, value FROM "
                             "patient_identifier WHERE active GROUP BY system, value "
                             "HAVING count(*) > 1) t").fetchone()
        protected = conn.execute("SELECT count(*) FROM patient WHERE protected").fetchone()
        sizes = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    assert stored and twice and protected and sizes
    return {"stored": stored[0], "identifiers_twice": twice[0], "protected": protected[0],
            "database_bytes": sizes[0]}


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(size: int, seed: int, extra: list[str], *, keep: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        lines = population(size, seed)
        source = Path(tmp) / "population.ndjson"
        source.write_bytes(b"\n".join(lines) + b"\n")
        source_bytes = source.stat().st_size
        database = Database.fresh(Path(tmp))
        if not database.is_postgres:
            raise SystemExit("set DATABASE_URL to a PostgreSQL server")
        try:
            load_average = os.getloadavg()[0]
            seconds, cpu, summary, memory, build = load(database.url, source, extra)
            copy_seconds = raw_copy(database.url, lines)
            found = checks(database.url)
        finally:
            if keep:
                print(f"kept the database: {database.url}", flush=True)
            else:
                database.dispose()
    assert found["stored"] == size and found["identifiers_twice"] == 0, (found, summary)
    return {
        "patients": size, "seed": seed, "load_seconds": round(seconds, 2),
        "patients_per_second": round(size / seconds),
        "index_build_seconds": round(build, 1),
        "raw_copy_seconds": round(copy_seconds, 3),
        "raw_copy_lines_per_second": round(size / copy_seconds),
        "ratio_to_raw_copy": round(copy_seconds / seconds, 4),
        "loader_cpu_ms_per_patient": round(1000 * cpu / size, 3),
        "loader_peak_anonymous_mib": round(memory.anonymous_kib / 1024),
        "loader_peak_file_backed_mib": round(memory.file_kib / 1024),
        "source_mib": round(source_bytes / 2**20),
        "load_average_before": round(load_average, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(), "summary": summary, **found,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--keep-database", action="store_true",
                        help="leave the loaded database for EXPLAIN (bench/README.md)")
    args = parser.parse_args(argv)
    extra = [*(["--workers", str(args.workers)] if args.workers else []),
             *(["--batch-size", str(args.batch_size)] if args.batch_size else [])]
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        result = run(size, args.seed, extra, keep=args.keep_database)
        results.append(result)
        print(f"{size:>9,} Patients: load {result['patients_per_second']:,}/s "
              f"({result['load_seconds']} s, of which {result['index_build_seconds']} s "
              f"building the indexes; {result['loader_cpu_ms_per_patient']} ms loader "
              f"CPU each; loading process {result['loader_peak_anonymous_mib']} MiB + "
              f"{result['loader_peak_file_backed_mib']} MiB file-backed (libraries, the "
              f"{result['source_mib']} MiB source)), raw COPY "
              f"{result['raw_copy_lines_per_second']:,}/s, ratio "
              f"{result['ratio_to_raw_copy']}, load average {result['load_average_before']}"
              f"→{result['load_average_after']}", flush=True)
    write_results("load_bench", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
