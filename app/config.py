"""Settings, read from the environment once in ``create_app`` (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Every knob the server has; each maps to the environment variable in upper case."""

    database_url: str
    base_url: str | None = None
    max_body_bytes: int = 5 * 1024 * 1024
    default_page_size: int = 20
    max_page_size: int = 1000

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from ``os.environ`` (or the mapping given, for tests)."""
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("DATABASE_URL") or default_database_url(),
            base_url=(env.get("BASE_URL") or "").rstrip("/") or None,
            max_body_bytes=int(env.get("MAX_BODY_BYTES", cls.max_body_bytes)),
            default_page_size=int(env.get("DEFAULT_PAGE_SIZE", cls.default_page_size)),
            max_page_size=int(env.get("MAX_PAGE_SIZE", cls.max_page_size)),
        )


def default_database_url() -> str:
    """The embedded default: an SQLite file under ``./var/`` of the working directory."""
    Path("var").mkdir(exist_ok=True)
    return "sqlite:///" + str(Path("var/fhir.db").resolve())
