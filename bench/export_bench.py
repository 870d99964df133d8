"""Bulk Data ``$export`` of a loaded population: Patients/s and the server's memory while
it exports (issue 17: memory must stay flat).

What one run does:

1. Writes the seeded synthetic population of ``bench/load_bench.py`` (no ids, 0.3 %
   protected) as NDJSON and loads it into a fresh database with the real command
   (``python -m app load``), as ``load_bench.py`` does.
2. Starts the real server (gunicorn, the project's config, ``WORKERS`` workers, each with
   its exporter thread) on that database in open mode, files under a temporary directory.
3. Samples the resident memory (VmRSS) of the gunicorn master and workers every 0.2 s
   from before the kick-off to the end; kicks off ``GET /fhir/Patient/$export`` with
   ``Prefer: respond-async`` and polls the status URL until the manifest arrives;
   Patients/s = Patients in the manifest / seconds from kick-off to manifest.
4. Downloads every file (streamed to disk) and checks that it holds every Patient once.
5. Prints the rate, the RSS before the kick-off, its peak during the export and during the
   downloads, and writes ``bench/results/export_bench-<time>.json``.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/export_bench.py [--size 100000]

Without ``DATABASE_URL`` (or with an SQLite URL) it runs on a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_bench import load, population  # noqa: E402
from bench.results_file import write_results  # noqa: E402
from tests.support import Database, Server  # noqa: E402


def rss_kib(pids: list[int]) -> int:
    """The summed VmRSS (KiB) of the processes (those gone count 0)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def server_pids(server: Server) -> list[int]:
    """The gunicorn master and its workers."""
    assert server.process is not None
    master = server.process.pid
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                              text=True).stdout.split()
    return [master, *map(int, children)]


class Sampler:
    """Samples the server's RSS every ``interval`` seconds in a thread, each sample tagged
    with the phase the benchmark is in."""

    def __init__(self, server: Server, interval: float = 0.2) -> None:
        self.server = server
        self.interval = interval
        self.phase = "idle"
        self.samples: list[tuple[float, str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        started = time.perf_counter()
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - started, self.phase,
                                 rss_kib(server_pids(self.server))))
            self._stop.wait(self.interval)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, phase: str) -> int:
        return max((kib for _t, p, kib in self.samples if p == phase), default=0)

    def series(self, phase: str) -> list[int]:
        return [kib for _t, p, kib in self.samples if p == phase]


def export(base: str, sampler: Sampler, target: Path) -> dict[str, Any]:
    """Kick off, poll, download; timings and the manifest."""
    session = requests.Session()
    sampler.phase = "export"
    started = time.perf_counter()
    kick = session.get(f"{base}/Patient/$export", headers={"Prefer": "respond-async",
                                                           "Accept": "application/fhir+json"})
    kick.raise_for_status()
    status_url = kick.headers["Content-Location"]
    while True:
        answer = session.get(status_url)
        if answer.status_code == 200:
            break
        if answer.status_code != 202:
            raise SystemExit(f"status answered {answer.status_code}: {answer.text[:500]}")
        time.sleep(0.5)
    export_seconds = time.perf_counter() - started
    manifest = answer.json()
    sampler.phase = "download"
    started = time.perf_counter()
    downloaded = 0
    ids: set[str] = set()
    lines = 0
    for output in manifest["output"]:
        path = target / output["url"].rsplit("/", 1)[1]
        with session.get(output["url"], stream=True) as response, path.open("wb") as handle:
            response.raise_for_status()
            for chunk in response.iter_content(1 << 16):
                handle.write(chunk)
                downloaded += len(chunk)
        with path.open("rb") as handle:
            for line in handle:
                ids.add(orjson.loads(line)["id"])
                lines += 1
    download_seconds = time.perf_counter() - started
    sampler.phase = "after"
    return {"manifest": manifest, "export_seconds": export_seconds,
            "download_seconds": download_seconds, "downloaded_bytes": downloaded,
            "lines": lines, "distinct_ids": len(ids)}


def run(size: int, seed: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "population.ndjson"
        source.write_bytes(b"\n".join(population(size, seed)) + b"\n")
        database = Database.fresh(Path(tmp))
        files = Path(tmp) / "export"
        downloads = Path(tmp) / "downloads"
        downloads.mkdir()
        try:
            load_seconds, _cpu, summary = load(database.url, source, [])
            print(f"loaded {size:,} Patients in {load_seconds:.0f} s ({summary})", flush=True)
            server = Server(database, workers=workers, upgrade=False,
                            env={"EXPORT_DIRECTORY": str(files), "REQUEST_LOG": "off"}).start()
            try:
                time.sleep(2)  # the workers settle
                with Sampler(server) as sampler:
                    time.sleep(1)
                    result = export(server.base, sampler, downloads)
                    time.sleep(1)
            finally:
                server.stop()
        finally:
            database.dispose()
    manifest = result["manifest"]
    exported = sum(o["count"] for o in manifest["output"])
    assert exported == size == result["lines"] == result["distinct_ids"], (exported, result)
    export_series = sampler.series("export")
    return {
        "patients": size, "seed": seed, "workers": workers,
        "database": "postgresql" if database.is_postgres else "sqlite",
        "export_seconds": round(result["export_seconds"], 2),
        "patients_per_second": round(size / result["export_seconds"]),
        "files": len(manifest["output"]),
        "download_seconds": round(result["download_seconds"], 2),
        "download_mib_per_second": round(result["downloaded_bytes"] / 2**20
                                         / result["download_seconds"], 1),
        "rss_idle_kib": sampler.peak("idle"),
        "rss_peak_export_kib": sampler.peak("export"),
        "rss_first_quarter_export_kib": max(export_series[:max(1, len(export_series) // 4)]),
        "rss_last_quarter_export_kib": max(export_series[-max(1, len(export_series) // 4):]),
        "rss_peak_download_kib": sampler.peak("download"),
        "rss_samples": [(round(t, 1), phase, kib) for t, phase, kib in sampler.samples],
        "load_seconds": round(load_seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    result = run(args.size, args.seed, args.workers)
    print(f"{result['patients']:,} Patients ({result['database']}): export "
          f"{result['patients_per_second']:,} Patients/s ({result['export_seconds']} s, "
          f"{result['files']} files); download {result['download_mib_per_second']} MiB/s; "
          f"server RSS (master + {result['workers']} workers) idle "
          f"{result['rss_idle_kib'] // 1024} MiB, peak while exporting "
          f"{result['rss_peak_export_kib'] // 1024} MiB (first quarter "
          f"{result['rss_first_quarter_export_kib'] // 1024}, last quarter "
          f"{result['rss_last_quarter_export_kib'] // 1024}), peak while downloading "
          f"{result['rss_peak_download_kib'] // 1024} MiB", flush=True)
    write_results("export_bench", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
