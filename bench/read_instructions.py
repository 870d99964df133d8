"""Instructions per request of a read by id, in-process, counted by valgrind's callgrind.

On a shared 2-core machine, requests/s and CPU time per request move by a third between
runs; instruction counts do not (same interpreter, same input, ``PYTHONHASHSEED`` fixed).
This is the figure to watch while changing the read path; ``rest_throughput`` is the one
that the issue's target is stated in.

What one run does: a fresh SQLite database with one test Patient (personnummer with birth
number 980–999); then, each under ``valgrind --tool=callgrind``, a process that builds the
real app (``create_app()``, request log on, as served) and calls it through WSGI for
``GET /fhir/Patient/<id>`` N times, and the same with the bare baseline of
``rest_throughput`` (``bench/bare_app.py``) serving the real read's bytes. A run of 100
calls is subtracted from one of ``--calls`` (600), so that start-up cancels out.

It leaves out what is not the application's own: sockets, HTTP parsing, gunicorn's threads
and their GIL hand-offs (``rest_throughput`` has those). Needs valgrind
(``apt-get install -y valgrind``); ~2 minutes. Results go to
``bench/results/read_instructions-<time>.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BASELINE_CALLS = 100


def wsgi_get(app: Any, path: str) -> tuple[str, bytes]:
    """Call a WSGI app for ``GET path`` as gunicorn would; (status line, body)."""
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8080", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8080", "HTTP_ACCEPT": "*/*", "HTTP_USER_AGENT": "bench",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status: list[str] = []
    body = b"".join(app(environ, lambda line, headers, exc_info=None: status.append(line)))
    return status[0], body


def child(target: str, calls: int, patient_id: str) -> None:
    """Build the app (``real`` or ``bare``) and read the Patient ``calls`` times."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # request log and warnings
    from app.http import create_app

    app: Any = create_app()
    path = f"/fhir/Patient/{patient_id}"
    if target == "bare":
        from bench.bare_app import serving

        real = app.test_client().get(path)
        copied = {h: real.headers[h] for h in ("Content-Type", "ETag", "Last-Modified")}
        app = serving(patient_id, (real.data, copied), (b"", {}))
    for _ in range(calls):
        status, _body = wsgi_get(app, path)
        assert status.startswith("200"), status


def count_instructions(target: str, calls: int, patient_id: str, env: dict[str, str]) -> int:
    """Instructions executed by a child process, as callgrind counts them."""
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--child", target, str(calls), patient_id],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or not found:
        raise RuntimeError(f"{target} x{calls} failed:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def prepare(url: str) -> str:
    """Migrate a fresh database and create one test Patient; its id."""
    from bench.rest_throughput import FHIR_JSON, bench_patient, personnummer_series

    subprocess.run([sys.executable, "-m", "app", "db", "upgrade"], check=True, cwd=ROOT,
                   capture_output=True, env={**os.environ, "DATABASE_URL": url})
    os.environ.update(DATABASE_URL=url, REQUEST_LOG="off")
    from app.http import create_app

    pnr, birth, gender = personnummer_series(1)[0]
    created = create_app().test_client().post(
        "/fhir/Patient", json=bench_patient(pnr, birth, gender, random.Random(1)),
        headers={"Content-Type": FHIR_JSON})
    assert created.status_code == 201, created.data
    return str(created.get_json()["id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=600,
                        help="requests in the measured run (a run of 100 is subtracted)")
    parser.add_argument("--child", nargs=3, metavar=("TARGET", "CALLS", "PATIENT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2])
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed: install it with `apt-get install -y valgrind` "
              "(Debian/Ubuntu) and run again.", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="sweid-instructions-"))
    try:
        url = f"sqlite:///{tmp / 'fhir.db'}"
        patient_id = prepare(url)
        env = {**os.environ, "DATABASE_URL": url, "PYTHONHASHSEED": "0", "REQUEST_LOG": "on"}
        jobs = [(target, calls) for target in ("real", "bare")
                for calls in (BASELINE_CALLS, args.calls)]
        with ThreadPoolExecutor(2) as pool:
            counts = dict(zip(jobs, pool.map(
                lambda job: count_instructions(*job, patient_id, env), jobs), strict=True))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    per_request = {target: (counts[(target, args.calls)] - counts[(target, BASELINE_CALLS)])
                   / (args.calls - BASELINE_CALLS) for target in ("real", "bare")}
    ratio = per_request["bare"] / per_request["real"]
    print(f"instructions per GET /fhir/Patient/<id>, in-process ({args.calls} - "
          f"{BASELINE_CALLS} calls):")
    print(f"  real {per_request['real']:>12,.0f}")
    print(f"  bare {per_request['bare']:>12,.0f}")
    print(f"  bare/real = {ratio:.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"read_instructions-{stamp}.json"
    out.write_text(json.dumps({"calls": args.calls, "per_request": per_request,
                               "bare_over_real": ratio}, indent=2))
    print(f"results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
