"""Command-line jobs that are not HTTP: schema management (more commands join later)."""

from __future__ import annotations

import click

from app.config import Settings


@click.group()
def main() -> None:
    """sweid-fhir: the Swedish patient-identity FHIR server's command-line tool."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Create or upgrade the schema to the newest migration (DATABASE_URL)."""
    from app.adapters.migrate import upgrade_to_head

    settings = Settings.from_env()
    upgrade_to_head(settings.database_url)
    click.echo("schema is up to date")
