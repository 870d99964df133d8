"""Reads on a streaming-replication standby (READ_DATABASE_URL, issue 16), for real.

The machine's PostgreSQL accepts no replication connections (its pg_hba.conf has no
``replication`` line, and changing it would change a server others share), so the test
makes its own pair with the machine's PostgreSQL binaries: a primary (initdb) and a standby
of it (pg_basebackup -R), on ports of their own, in a temporary directory. A server
instance writes to the primary and reads from the standby; the test checks that searches
run on the standby, that a read right after a write sees it even when the standby has not
replayed it (the read goes to the primary then), and that the server keeps answering when
the standby stops.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.support import Database, Server, free_port, make_pnr, patient, unique_name

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL streaming replication")


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"no {name} under /usr/lib/postgresql/*/bin"
    return found[-1]


def _as_postgres(*command: str) -> None:
    """Run a PostgreSQL tool as the postgres user (initdb refuses root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{command[0]}: {done.stdout}{done.stderr}"


class Pair:
    """A primary and its hot standby, each on its own port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.primary_dir, self.standby_dir = root / "primary", root / "standby"
        self.primary_port, self.standby_port = free_port(), free_port()

    def start(self) -> Pair:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        _as_postgres(_bin("initdb"), "-D", str(self.primary_dir), "-U", "postgres",
                     "--auth=trust", "--no-sync")
        with open(self.primary_dir / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.root}'\nwal_level = replica\n"
                       "max_wal_senders = 4\nfsync = off\nmax_connections = 60\n")
        self._ctl(self.primary_dir, "start")
        _as_postgres(_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port),
                     "-U", "postgres", "-D", str(self.standby_dir), "-R", "-X", "stream")
        with open(self.standby_dir / "postgresql.auto.conf", "a") as conf:
            conf.write(f"port = {self.standby_port}\nhot_standby = on\n")
        self._ctl(self.standby_dir, "start")
        with psycopg.connect(self.libpq(self.primary_port, "postgres"),
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE fhir")
        return self

    def _ctl(self, data: Path, action: str) -> None:
        _as_postgres(_bin("pg_ctl"), "-D", str(data), "-l", str(data) + ".log", "-w",
                     "-m", "fast", action)

    def stop_standby(self) -> None:
        self._ctl(self.standby_dir, "stop")

    def stop(self) -> None:
        for data in (self.standby_dir, self.primary_dir):
            if (data / "postmaster.pid").exists():
                self._ctl(data, "stop")

    @staticmethod
    def libpq(port: int, database: str = "fhir") -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{database}"

    def url(self, port: int) -> str:
        return self.libpq(port).replace("postgresql://", "postgresql+psycopg://")

    def caught_up(self) -> None:
        """Wait until the standby has replayed everything committed on the primary."""
        with psycopg.connect(self.libpq(self.primary_port)) as primary:
            lsn = primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
        with psycopg.connect(self.libpq(self.standby_port)) as standby:
            for _ in range(200):
                if standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                   (lsn,)).fetchone()[0]:
                    return
                time.sleep(0.05)
        raise AssertionError("the standby did not catch up within 10 s")

    def standby_ran(self, fragment: str) -> bool:
        """Whether a connection of the server to the standby last ran a statement with
        ``fragment`` (pg_stat_activity shows each backend's last statement)."""
        with psycopg.connect(self.libpq(self.standby_port)) as standby:
            rows = standby.execute(
                "SELECT query FROM pg_stat_activity WHERE datname = 'fhir' "
                "AND pid <> pg_backend_pid()").fetchall()
        return any(fragment in query for (query,) in rows)


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    # Not under pytest's tmp_path: its folders are the test user's alone, and the clusters
    # belong to the postgres user.
    root = Path(tempfile.mkdtemp(prefix="sweid-replica-"))
    made = Pair(root)
    try:
        yield made.start()
    finally:
        made.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def base(pair: Pair) -> Iterator[str]:
    server = Server(Database(pair.url(pair.primary_port)), workers=1,
                    env={"READ_DATABASE_URL": pair.url(pair.standby_port),
                         "THREADS": "2"}).start()
    yield server.base
    server.stop()


def test_searches_run_on_the_standby_when_it_is_current(pair, base):
    family = unique_name("Replik")
    assert requests.post(f"{base}/Patient", json=patient(family, pnr=make_pnr()),
                         timeout=30).status_code == 201
    pair.caught_up()
    found = requests.get(f"{base}/Patient", params={"family": family}, timeout=30).json()
    assert [e["resource"]["name"][0]["family"] for e in found["entry"]] == [family]
    assert pair.standby_ran("patient_string")


def test_a_read_right_after_a_write_sees_it_while_the_standby_lags(pair, base):
    """Replay paused: the standby misses the write, so the read goes to the primary."""
    with psycopg.connect(pair.libpq(pair.standby_port), autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            family = unique_name("Nyss")
            created = requests.post(f"{base}/Patient", json=patient(family), timeout=30)
            assert created.status_code == 201
            read = requests.get(f"{base}/Patient/{created.json()['id']}", timeout=30)
            assert read.status_code == 200
            found = requests.get(f"{base}/Patient", params={"family": family},
                                 timeout=30).json()
            assert len(found["entry"]) == 1
            assert standby.execute("SELECT count(*) FROM patient_string WHERE folded = %s",
                                   (family.lower(),)).fetchone()[0] == 0
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")


def test_the_server_keeps_answering_when_the_standby_stops(pair, base):
    family = unique_name("Kvar")
    created = requests.post(f"{base}/Patient", json=patient(family), timeout=30).json()
    pair.caught_up()
    pair.stop_standby()
    for _ in range(3):
        found = requests.get(f"{base}/Patient", params={"family": family}, timeout=30)
        assert found.status_code == 200
        assert [e["resource"]["id"] for e in found.json()["entry"]] == [created["id"]]
    assert requests.get(f"{base}/Patient/{created['id']}", timeout=30).status_code == 200
