"""Command-line jobs that are not HTTP: schema management, downtime packs, the reserve-id log."""

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


PACK_SYSTEMS = {"nrid": "urn:oid:1.2.752.74.9.1", "lrid": "urn:oid:1.2.752.113.11.0.2.1.1.1"}


@main.command("downtime-pack")
@click.option("--women", type=click.IntRange(0, 50), default=10, show_default=True,
              help="Records for women.")
@click.option("--men", type=click.IntRange(0, 50), default=10, show_default=True,
              help="Records for men.")
@click.option("--birth-date", required=True, help="Birth date of the pack, e.g. 2019-01-01.")
@click.option("--family", default="DRIFTSTOPP", show_default=True, help="Family name.")
@click.option("--given", default="AKUTEN SÄS", show_default=True,
              help="Given name(s), e.g. the unit.")
@click.option("--system", "kind", type=click.Choice(sorted(PACK_SYSTEMS)), default="nrid",
              show_default=True, help="Reserve-id kind.")
@click.option("--request-id", default=None,
              help="Idempotency key: running again with the same key returns the same pack.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, writable=True),
              help="Write the pack as CSV to this file (else to stdout).")
@click.option("--text", "text_file", type=click.Path(dir_okay=False, writable=True),
              help="Write the printable list to this file (else to stdout).")
def downtime_pack(women: int, men: int, birth_date: str, family: str, given: str, kind: str,
                  request_id: str | None, csv_file: str | None, text_file: str | None) -> None:
    """Create a downtime pack of reserve-id Patients (domain.md §3.3) in DATABASE_URL.

    The records are made by the same service as $generate-reserve-id with a patient, so
    they are real, searchable Patients and their ids are logged like any other.
    """
    import csv
    import io
    from datetime import date

    from app.adapters.db import make_engine
    from app.domain.errors import DomainError
    from app.identity import kind_for_system
    from app.services import reserve_ids

    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    policy = reserve_ids.ReservePolicy(settings.unknown_birth_date_policy,
                                       settings.reserve_series_capacity)
    system = PACK_SYSTEMS[kind]
    rows: list[dict[str, str]] = []
    try:
        for gender, count in (("female", women), ("male", men)):
            if count == 0:
                continue
            template = {"resourceType": "Patient", "gender": gender, "birthDate": birth_date,
                        "name": [{"family": family, "given": given.split()}]}
            order = reserve_ids.ReserveOrder(
                system=system, count=count, patient=template,
                request_id=f"{request_id}:{gender}" if request_id else None)
            result = reserve_ids.generate(engine, order, today=date.today(), subject="cli",
                                          policy=policy)
            for value, patient_id in zip(result.values, result.patient_ids, strict=True):
                rows.append({"number": str(len(rows) + 1), "system": result.system,
                             "identifier": value, "gender": gender, "birth_date": birth_date,
                             "family": family, "given": given, "patient_id": patient_id})
    except DomainError as err:
        raise click.ClickException(err.message) from None
    finally:
        engine.dispose()
    kind_module = kind_for_system(system)
    assert kind_module is not None
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(rows[0]) if rows else ["number"],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    label = {"female": "Kvinna", "male": "Man"}
    lines = [f"RESERVNUMMER FÖR DRIFTSTOPP — {kind_module.NAME}",
             f"{family}, {given} — födelsedatum {birth_date} — {len(rows)} st",
             "",
             f"{'Nr':>3}  {'Reservnummer':<14}  {'Kön':<7}  {'Använd av / datum':<30}"]
    lines += [f"{row['number']:>3}  {kind_module.format(row['identifier']):<14}  "
              f"{label[row['gender']]:<7}  {'_' * 30}" for row in rows]
    text = "\n".join(lines) + "\n"
    for content, target in ((text, text_file), (table.getvalue(), csv_file)):
        if target:
            with open(target, "w", encoding="utf-8", newline="") as handle:
                handle.write(content)
        else:
            click.echo(content)


@main.group("reserve-ids")
def reserve_ids_group() -> None:
    """The log of every generated reserve id."""


@reserve_ids_group.command("list")
def list_reserve_ids() -> None:
    """Every generated reserve id as CSV (when, which, by whom, for which Patient)."""
    import csv
    import sys

    from app.adapters.db import make_engine
    from app.adapters.unit_of_work import UnitOfWork
    from app.services.transactions import run_read

    engine = make_engine(Settings.from_env().database_url)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["generated_at", "system", "value", "subject", "patient_id", "request_id"])

    def dump(uow: UnitOfWork) -> None:
        for row in uow.reserve_ids.all():
            writer.writerow([row.generated_at.isoformat(), row.system, row.value,
                             row.subject or "", row.patient_id or "", row.request_id or ""])

    try:
        run_read(engine, dump)
    finally:
        engine.dispose()


@main.command()
@click.option("--check", is_flag=True,
              help="Only report generated files that are missing or stale; exit 1 if any.")
def profiles(check: bool) -> None:
    """Write the fhir_profiles/ files derived from the identity registry.

    The Patient profile, one NamingSystem per identity kind and the SNR status
    terminology; hand-written files (OperationDefinitions …) are left alone.
    """
    from app import conformance

    if check:
        stale = conformance.stale_files()
        for name in stale:
            click.echo(f"stale: {name}")
        if stale:
            raise SystemExit(1)
        click.echo("fhir_profiles/ is up to date")
        return
    for name in conformance.write_generated():
        click.echo(f"wrote fhir_profiles/{name}")
