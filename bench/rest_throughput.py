"""REST throughput: read-by-id and search-by-identifier, against a bare Flask baseline.

What it does, in one run:

1. starts the real server (``python -m app db upgrade``, then gunicorn with
   ``--config python:app.gunicorn_conf 'app.http:create_app()'``) on a fresh database —
   an SQLite file, or a new PostgreSQL database when ``DATABASE_URL`` is a PostgreSQL URL;
2. loads N test Patients (personnummer with birth numbers 980–999) through transaction
   Bundles posted to ``/fhir``;
3. starts ``bench/bare_app.py`` under the same gunicorn config, workers and environment:
   a bare Flask app that serves the bytes of one real read and one real search unchanged;
4. runs ``wrk`` against real read, bare read, real search, bare search and prints
   requests/s, latency and the ratios real/bare (targets: read >= 0.7, search >= 0.5).

``--auth jwt`` runs the real server as production does: with ``JWT_PUBLIC_KEY_FILE`` (a
fresh RSA-2048 key, RS256), ``JWT_AUDIENCE`` and ``JWT_ISSUER``, every request carrying a
bearer token that the server verifies (signature, ``exp``, audience, issuer, scopes); wrk
sends the same header to the bare app, which ignores it. ``--auth off`` (the default)
measures the open development mode.

Results go to ``bench/results/rest_throughput-<time>.json``. Needs ``wrk``
(``apt-get install -y wrk``). ``python bench/rest_throughput.py --help`` for the knobs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.identity import luhn  # noqa: E402 — the server's own check-digit implementation
from tests.support import Database, Server  # noqa: E402 — the same servers the tests start

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PNR_SYSTEM = "urn:oid:1.2.752.129.2.1.3.1"
TARGETS = {"read": 0.7, "search": 0.5}
FHIR_JSON = "application/fhir+json"


# --- test identities ------------------------------------------------------------------------
def personnummer_series(count: int, seed: int = 1998) -> list[tuple[str, str, str]]:
    """``count`` distinct valid personnummer with birth numbers 980–999 (test persons).

    Returns (value, birthDate, gender); shuffled deterministically by ``seed``.
    """
    out: list[tuple[str, str, str]] = []
    day = date(1940, 1, 1)
    while len(out) < count:
        for number in range(980, 1000):
            body = f"{day:%y%m%d}{number:03d}"
            value = f"{day:%Y%m%d}{number:03d}{luhn.check_digit([int(c) for c in body])}"
            out.append((value, day.isoformat(), "male" if number % 2 else "female"))
        day += timedelta(days=1)
    out = out[:count]
    random.Random(seed).shuffle(out)
    return out


def bench_patient(pnr: str, birth: str, gender: str, rng: random.Random) -> dict[str, Any]:
    family = "Bench" + "".join(rng.choice("abcdefghjkmnpqrstuvxyz") for _ in range(8))
    return {
        "resourceType": "Patient",
        "identifier": [{"system": PNR_SYSTEM, "value": pnr}],
        "active": True,
        "name": [{"use": "official", "family": family, "given": ["Testa", "Bench"]}],
        "gender": gender,
        "birthDate": birth,
        "telecom": [{"system": "phone", "value": "+46701234567", "use": "mobile"}],
        "address": [{"line": ["Testgatan 1"], "city": "Uppsala", "postalCode": "75320",
                     "country": "SE"}],
    }


# --- HTTP helpers -----------------------------------------------------------------------------
#: Extra request headers of every request of the run (the bearer token with ``--auth jwt``).
AUTH_HEADERS: dict[str, str] = {}


def http(method: str, url: str, body: Any = None, timeout: float = 300) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON,
                                          **AUTH_HEADERS})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# --- authentication ---------------------------------------------------------------------------
def production_auth(tmp: Path) -> tuple[dict[str, str], str]:
    """Server settings for RS256 verification with a fresh key, and a token they accept."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = tmp / "bench-jwt-public.pem"
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    settings = {"JWT_PUBLIC_KEY_FILE": str(public), "JWT_AUDIENCE": "sweid-bench",
                "JWT_ISSUER": "https://idp.bench.invalid"}
    now = int(time.time())
    token = jwt.encode({"sub": "bench", "iss": settings["JWT_ISSUER"],
                        "aud": settings["JWT_AUDIENCE"], "iat": now, "exp": now + 7200,
                        "scope": "system/Patient.cruds"}, key, algorithm="RS256")
    return settings, token


# --- servers --------------------------------------------------------------------------------------
def worker_cpu_seconds(server: Server) -> float:
    """User + system CPU seconds of a gunicorn master's live worker processes (Linux /proc)."""
    if not server.process:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


# --- loading ------------------------------------------------------------------------------------
def load_patients(base: str, count: int, batch: int) -> tuple[list[tuple[str, str]], float]:
    """POST ``count`` Patients in transaction Bundles; returns [(id, pnr)] and seconds."""
    rng = random.Random(42)
    series = personnummer_series(count)
    loaded: list[tuple[str, str]] = []
    started = time.perf_counter()
    for start in range(0, count, batch):
        chunk = series[start:start + batch]
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"fullUrl": f"urn:uuid:{uuid.uuid4()}",
                 "resource": bench_patient(pnr, birth, gender, rng),
                 "request": {"method": "POST", "url": "Patient"}}
                for pnr, birth, gender in chunk
            ],
        }
        status, body = http("POST", base, bundle)
        if status != 200:
            raise RuntimeError(f"transaction of {len(chunk)} Patients failed with {status}: "
                               f"{body[:500]!r}")
        entries = json.loads(body)["entry"]
        for (pnr, _, _), entry in zip(chunk, entries, strict=True):
            location = entry["response"]["location"]  # Patient/<id>/_history/1
            loaded.append((location.split("/")[1], pnr))
        done = len(loaded)
        rate = done / (time.perf_counter() - started)
        print(f"\r  loaded {done}/{count} Patients ({rate:.0f}/s)", end="", flush=True)
    print()
    return loaded, time.perf_counter() - started


def stored_patient(base: str) -> tuple[str, str, int]:
    """The id and personnummer of a Patient of a database already filled, and how many
    Patients it holds."""
    status, body = http("GET", f"{base}/Patient?_summary=count")
    total = json.loads(body)["total"]
    status, body = http("GET", f"{base}/Patient?identifier={quote(PNR_SYSTEM)}|"
                               f"&_count=1&_offset={min(total // 2, 9_000)}")
    entry = json.loads(body)["entry"][0]["resource"]
    pnr = next(i["value"] for i in entry["identifier"] if i["system"] == PNR_SYSTEM)
    return entry["id"], pnr, total


# --- wrk ------------------------------------------------------------------------------------------
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(url: str, *, threads: int, connections: int, duration: int) -> dict[str, Any]:
    """One wrk run; requests/s, latency percentiles (ms) and error counts."""
    headers = [arg for name, value in AUTH_HEADERS.items() for arg in ("-H", f"{name}: {value}")]
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", *headers,
           url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         timeout=duration + 60).stdout
    result: dict[str, Any] = {"url": url, "wrk": " ".join(cmd)}
    if match := re.search(r"Requests/sec:\s+([\d.]+)", out):
        result["rps"] = float(match.group(1))
    else:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    if match := re.search(r"(\d+) requests in", out):
        result["requests"] = int(match.group(1))
    for pct in ("50", "90", "99"):
        if match := re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M):
            result[f"p{pct}_ms"] = _ms(match.group(1))
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["non_2xx"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors:.*", out)
    result["socket_errors"] = match.group(0) if match else ""
    return result


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median figures of several wrk runs of one target."""
    merged = dict(runs[0])
    for key in ("rps", "p50_ms", "p90_ms", "p99_ms", "worker_cpu_us_per_request"):
        values = [r[key] for r in runs if key in r]
        if values:
            merged[key] = statistics.median(values)
    merged["requests"] = sum(r.get("requests", 0) for r in runs)
    merged["non_2xx"] = sum(r["non_2xx"] for r in runs)
    merged["socket_errors"] = "; ".join(r["socket_errors"] for r in runs if r["socket_errors"])
    return merged


# --- the run --------------------------------------------------------------------------------------
def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000, help="Patients to load")
    parser.add_argument("--batch", type=int, default=500, help="Patients per transaction")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "2")),
                        help="gunicorn workers for both servers (default: $WORKERS or 2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of the four wrk runs (real and bare alternate)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target")
    parser.add_argument("--auth", choices=("off", "jwt"), default="off",
                        help="jwt: RS256 bearer-token verification on, as production runs")
    parser.add_argument("--existing", metavar="DATABASE_URL",
                        help="measure against a database already filled (e.g. the 1 M "
                             "population match_latency.py --keep-database loaded through "
                             "`python -m app load`) instead of loading --patients")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a ratio misses its target")
    args = parser.parse_args(argv)

    if not shutil.which("wrk"):
        print("wrk is not installed: install it with `apt-get install -y wrk` "
              "(Debian/Ubuntu) and run again.", file=sys.stderr)
        return 2

    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="sweid-bench-"))
    database = Database(args.existing) if args.existing else Database.fresh(tmp)
    backend = "postgresql" if database.is_postgres else "sqlite"
    env = {"LOG_LEVEL": "warning"}
    bare_env = dict(env)
    if args.auth == "jwt":
        settings, token = production_auth(tmp)
        env.update(settings)
        AUTH_HEADERS["Authorization"] = f"Bearer {token}"
        bare_env["BENCH_AUTHORIZATION"] = AUTH_HEADERS["Authorization"]
    size = "an existing database" if args.existing else f"{args.patients} Patients"
    print(f"rest_throughput: {size}, {backend}, auth {args.auth}, "
          f"WORKERS={args.workers}, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s x {args.rounds} rounds")
    real = bare = None
    try:
        real = Server(database, env, workers=args.workers, upgrade=not args.existing).start()
        if args.existing:
            patient_id, pnr, patients = stored_patient(real.base)
            load_seconds = float("nan")
        else:
            patients = args.patients
            loaded, load_seconds = load_patients(real.base, patients, args.batch)
            patient_id, pnr = loaded[len(loaded) // 2]
        search_query = f"identifier={PNR_SYSTEM}|{pnr}"
        read_path = f"/Patient/{patient_id}"
        search_path = f"/Patient?{quote(search_query, safe='=&')}"

        status, body = http("GET", real.base + search_path)
        found = json.loads(body)
        ids = [e["resource"]["id"] for e in found.get("entry", [])]
        if status != 200 or ids != [patient_id]:
            raise RuntimeError(f"search sanity check failed: {status} {ids}")

        bare = Server(database, {**bare_env, "BENCH_REAL_BASE": real.base,
                                 "BENCH_PATIENT_ID": patient_id,
                                 "BENCH_SEARCH_QUERY": search_query},
                      workers=args.workers, app="bench.bare_app:create_bare_app()").start()
        for path in (read_path, search_path):
            real_status, real_body = http("GET", real.base + path)
            bare_status, bare_body = http("GET", bare.base + path)
            if (real_status, bare_status) != (200, 200) or (
                    path == read_path and real_body != bare_body):
                raise RuntimeError(f"baseline does not mirror the real server for {path}")

        targets = (("real read", real, read_path), ("bare read", bare, read_path),
                   ("real search", real, search_path), ("bare search", bare, search_path))
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in targets}
        for _name, server, path in targets:
            if args.warmup:
                run_wrk(server.base + path, threads=args.threads,
                        connections=args.connections, duration=args.warmup)
        # Real and bare alternate, round after round, so that a change in the machine's
        # background load hits both sides of a ratio alike; the medians are reported.
        for number in range(1, args.rounds + 1):
            print(f"  round {number}/{args.rounds}: ", end="", flush=True)
            for name, server, path in targets:
                cpu_before = worker_cpu_seconds(server)
                run = run_wrk(server.base + path, threads=args.threads,
                              connections=args.connections, duration=args.duration)
                cpu = worker_cpu_seconds(server) - cpu_before
                run["worker_cpu_us_per_request"] = 1e6 * cpu / max(run.get("requests", 1), 1)
                rounds[name].append(run)
                print(f"{name} {run['rps']:.0f}/s  ", end="", flush=True)
            print()
        runs = {name: _median_run(name_runs) for name, name_runs in rounds.items()}
        for name, server, path in targets:
            runs[name]["bytes"] = len(http("GET", server.base + path)[1])
    finally:
        for server in (bare, real):
            if server:
                server.stop()
        if not args.existing:
            database.dispose()
        shutil.rmtree(tmp, ignore_errors=True)

    ratios = {kind: statistics.median(
        r["rps"] / b["rps"] for r, b in zip(rounds[f"real {kind}"], rounds[f"bare {kind}"],
                                            strict=True))
        for kind in TARGETS}
    cpu_ratios = {kind: runs[f"bare {kind}"]["worker_cpu_us_per_request"]
                  / runs[f"real {kind}"]["worker_cpu_us_per_request"] for kind in TARGETS}
    met = {kind: ratios[kind] >= TARGETS[kind] for kind in TARGETS}

    print()
    print(f"{'target':<12} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu us/req':>10} "
          f"{'bytes':>6} {'non-2xx':>7}   (medians of {args.rounds} rounds)")
    for name, run in runs.items():
        print(f"{name:<12} {run['rps']:>8.0f} {run.get('p50_ms', float('nan')):>7.2f} "
              f"{run.get('p99_ms', float('nan')):>7.2f} {run['worker_cpu_us_per_request']:>10.0f} "
              f"{run['bytes']:>6} {run['non_2xx']:>7}")
    print()
    for kind in TARGETS:
        verdict = "ok" if met[kind] else "MISSED"
        print(f"{kind:<7} real/bare = {ratios[kind]:.2f}  (target >= {TARGETS[kind]:.2f})  "
              f"{verdict:<7} worker CPU per request: bare/real = {cpu_ratios[kind]:.2f}")
    if not args.existing:
        print(f"load: {patients} Patients in {load_seconds:.1f} s "
              f"({patients / load_seconds:.0f}/s)")

    errors = [name for name, name_runs in rounds.items()
              if any(r["non_2xx"] or r["socket_errors"] for r in name_runs)]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {
        "benchmark": "rest_throughput",
        "time": stamp,
        "commit": git_commit(),
        "settings": {"patients": patients, "existing_database": bool(args.existing),
                     "batch": args.batch, "workers": args.workers,
                     "database": backend, "auth": args.auth, "wrk_threads": args.threads,
                     "wrk_connections": args.connections, "duration_s": args.duration,
                     "cpus": os.cpu_count()},
        "load_seconds": load_seconds,
        "runs": runs,
        "rounds": rounds,
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "targets": TARGETS,
        "targets_met": met,
        "errors": errors,
    }
    out = RESULTS / f"rest_throughput-{backend}-auth-{args.auth}-{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results: {out.relative_to(ROOT)}")
    if errors:
        print(f"errors during {', '.join(errors)}: see the JSON", file=sys.stderr)
        return 1
    if args.strict and not all(met.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
