"""Test helpers: safe test identities and a running server.

Personnummer fixtures use birth numbers 980–999 (the tax agency's test-person range,
domain.md §3.9); nothing real-looking is ever created.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import requests
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.adapters.db import ensure_sqlite_directory
from app.adapters.migrate import alembic_config
from app.adapters.patient_repository import PatientRepository
from app.domain.fhirdate import instant, utc_now
from app.domain.patient_index import index_patient
from app.identity import luhn

PNR_SYSTEM = "urn:oid:1.2.752.129.2.1.3.1"
SNR_SYSTEM = "urn:oid:1.2.752.129.2.1.3.3"
NRID_SYSTEM = "urn:oid:1.2.752.74.9.1"
LRID_SYSTEM = "urn:oid:1.2.752.113.11.0.2.1.1.1"
ROOT = Path(__file__).resolve().parent.parent
_issued: set[str] = set()


def make_pnr(birth: date | None = None, *, female: bool | None = None, snr: bool = False) -> str:
    """A fresh valid personnummer (or samordningsnummer) with birth number 980–999."""
    rng = random.Random()
    while True:
        day = birth or date(1940, 1, 1) + timedelta(days=rng.randrange(0, 80 * 365))
        number = rng.randrange(980, 1000)
        if female is not None and (number % 2 == 0) != female:
            continue
        dd = day.day + (60 if snr else 0)
        body = f"{day:%y%m}{dd:02d}{number:03d}"
        value = f"{day:%Y%m}{dd:02d}{number:03d}{luhn.check_digit([int(c) for c in body])}"
        if value not in _issued:
            _issued.add(value)
            return value


def unique_name(prefix: str = "Test") -> str:
    """A family name no other test uses (letters only, so it folds predictably)."""
    letters = "".join(random.choice("abcdefghjkmnpqrstuvxyz") for _ in range(10))
    return f"{prefix}{letters}"


def patient(family: str | None = None, *, pnr: str | None = None, given: str = "Testa",
            birth: str | None = "1998-01-01", gender: str = "female",
            **extra: Any) -> dict[str, Any]:
    """A Patient resource for tests."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"family": family or unique_name(), "given": [given]}],
        "gender": gender,
    }
    if birth:
        resource["birthDate"] = birth
    if pnr:
        resource["identifier"] = [{"system": PNR_SYSTEM, "value": pnr}]
    resource.update(extra)
    return resource


def free_port() -> int:
    """A TCP port nobody listens on right now, below Linux's ephemeral range (32768–60999),
    so that no client connection of the test run takes it as its local port before the
    server binds it."""
    rng = random.Random()
    while True:
        port = rng.randrange(20000, 32768)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@dataclass
class Database:
    """A fresh database for one test session: SQLite file or a new PostgreSQL database."""

    url: str
    drop: list[str] = field(default_factory=list)
    admin_url: str | None = None

    @classmethod
    def fresh(cls, tmp: Path) -> Database:
        configured = os.environ.get("DATABASE_URL")
        if not configured or configured.startswith("sqlite"):
            return cls(f"sqlite:///{tmp / 'fhir.db'}")
        name = f"sweid_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(configured, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(configured).set(database=name).render_as_string(hide_password=False)
        return cls(url, [name], configured)

    def clone(self, tmp: Path) -> Database:
        """A new database with this one's schema and rows (a migrated template copied in a
        fraction of a second: a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on
        PostgreSQL, which needs this one to have no open connections)."""
        if not self.is_postgres:
            source = Path(make_url(self.url).database or "")
            target = tmp / "fhir.db"
            shutil.copyfile(source, target)
            return Database(f"sqlite:///{target}")
        assert self.admin_url is not None
        name = f"sweid_test_{uuid.uuid4().hex[:12]}"
        template = make_url(self.url).database
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        admin.dispose()
        url = make_url(self.url).set(database=name).render_as_string(hide_password=False)
        return Database(url, [name], self.admin_url)

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def dispose(self) -> None:
        if not self.admin_url:
            return
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.drop:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(database: Database, revision: str) -> None:
    """Bring the database's schema to an Alembic revision (``"head"`` or an id)."""
    ensure_sqlite_directory(database.url)
    command.upgrade(alembic_config(database.url), revision)


def store_as_before_issue_14(database: Database, resources: list[dict[str, Any]]) -> None:
    """Store each Patient (its ``id`` given) as the next version of its record the way the
    server did before issue 14 read a malformed patient type as no type at all: indexed as
    today, but with the protected flag off. For a database at revision 0003; bypasses every
    check of today's write path."""
    engine = create_engine(database.url)
    with engine.begin() as conn:
        repository = PatientRepository(conn)
        for resource in resources:
            current = repository.get(resource["id"])
            version = 1 if current is None else current.version_id + 1
            now = utc_now()
            stored = {**resource, "meta": {**resource.get("meta", {}), "versionId": str(version),
                                           "lastUpdated": instant(now)}}
            index = index_patient(stored)
            index.protected = False
            repository.save(stored["id"], version, orjson.dumps(stored), index, now,
                            "POST" if version == 1 else "PUT")
    engine.dispose()


@dataclass
class Server:
    """A real gunicorn process serving the app (or, for benchmarks, another WSGI ``app``
    target) with the project's gunicorn config on a free port."""

    database: Database
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    app: str = "app.http:create_app()"
    #: Upgrade the schema before starting (False: serve the database as it is).
    upgrade: bool = True

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    @property
    def log_path(self) -> Path:
        """Where the server's stdout and stderr go."""
        return Path(os.environ.get("TMPDIR", "/tmp")) / f"sweid-{self.port}.log"

    def start(self) -> Server:
        # Test servers allow Subscription endpoints on this machine (the receivers of the
        # tests and examples): every server on a database delivers its subscriptions.
        env = {**os.environ, "DATABASE_URL": self.database.url, "WORKERS": str(self.workers),
               "SUBSCRIPTION_ENDPOINT_PREFIXES": "http://127.0.0.1:", **self.env}
        if self.upgrade:
            subprocess.run([sys.executable, "-m", "app", "db", "upgrade"], env=env,
                           check=True, cwd=ROOT, capture_output=True)
        for _ in range(3):  # another process may take the port between free_port() and bind
            if self._launch(env):
                return self
            self.port = free_port()
        raise RuntimeError("server found no free port in 3 tries")

    def _launch(self, env: dict[str, str]) -> bool:
        """Start gunicorn on ``self.port``; False when the port was taken meanwhile."""
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "python:app.gunicorn_conf",
                 self.app],
                env={**env, "PORT": str(self.port)}, cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            log_text = self.log_path.read_text(errors="replace")
            if "Connection in use" in log_text:
                self.stop()
                return False
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; log:\n"
                                   f"{log_text[-3000:]}")
            try:
                if requests.get(self.base + "/metadata", timeout=5).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def kill_9(self) -> None:
        """SIGKILL the gunicorn master and its workers, by process id (a crash, not a stop)."""
        assert self.process is not None
        master = self.process.pid
        workers = subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                                 text=True).stdout.split()
        for pid in [master, *map(int, workers)]:
            os.kill(int(pid), signal.SIGKILL)
        self.process.wait(timeout=10)
