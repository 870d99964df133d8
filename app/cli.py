"""Command-line jobs that are not HTTP: schema management, downtime packs, the reserve-id log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.domain.access import Access
from app.domain.text import parse_json
from app.identity import lrid_vgr, nrid
from app.logs import protect_command_line

if TYPE_CHECKING:
    from collections.abc import Sequence
    from mmap import mmap

    from app.domain.matching import Model


class CommandLine(click.Group):
    """The command group: a database that cannot be used is one line saying what to do,
    not a driver's traceback (issue 15)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DBAPIError as error:
            raise click.ClickException(
                database_problem(Settings.from_env().database_url, error)) from None


def database_problem(database_url: str, error: DBAPIError) -> str:
    """Why a command could not use the database, and what to do about it."""
    from sqlalchemy.engine import make_url

    from app.adapters.migrate import current_revision, head_revision

    shown = make_url(database_url).render_as_string(hide_password=True)
    try:
        revision = current_revision(database_url)
    except DBAPIError as unreachable:
        reason = str(unreachable.orig).strip().splitlines()[-1].strip()
        return (f"cannot connect to the database {shown} ({reason}); check DATABASE_URL and "
                "that the database server runs (python -m app db upgrade creates a missing "
                "PostgreSQL database)")
    if revision is None:
        return (f"the database {shown} has no schema yet; run python -m app db upgrade "
                "first")
    if revision != head_revision():
        return (f"the database {shown} has schema revision {revision}, this version needs "
                f"{head_revision()}; run python -m app db upgrade first")
    reason = str(error.orig).strip().splitlines()[0]
    return f"database error on {shown}: {reason}"


@click.group(cls=CommandLine)
def main() -> None:
    """sweid-fhir: the Swedish patient-identity FHIR server's command-line tool."""
    protect_command_line()  # no personal data in its warnings or a crash's traceback


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Create or upgrade the schema to the newest migration (DATABASE_URL); a PostgreSQL
    database that does not exist yet is created first."""
    from app.adapters.migrate import upgrade_to_head

    settings = Settings.from_env()
    click.echo(upgrade_to_head(settings.database_url).describe())


@main.command()
@click.option("--size", type=click.IntRange(1, 100_000), default=2000, show_default=True,
              help="Synthetic Patients in the population.")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Random seed of the population (the same seed, the same people).")
def demo(size: int, seed: int) -> None:
    """Load demo data into DATABASE_URL: a synthetic Swedish population (test personnummer
    only) and the situations of docs/domain.md §3 — reserve numbers, an LRID with an LMA
    number merged into a personnummer record, a protected person, a downtime pack — so the
    README's examples find something. Running it again adds only what is missing."""
    import sys
    from datetime import date

    from app.adapters.db import make_engine
    from app.demo import load_demo

    engine = make_engine(Settings.from_env().database_url)
    try:
        result = load_demo(engine, size=size, seed=seed, today=date.today(),
                           progress=lambda line: click.echo(line, file=sys.stderr))
    finally:
        engine.dispose()
    click.echo(result.describe())


#: The kinds a downtime pack can be generated in, each kind's own system.
PACK_SYSTEMS = {"nrid": nrid.SYSTEM, "lrid": lrid_vgr.SYSTEM}


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
            result = reserve_ids.generate(engine, order, today=date.today(),
                                          access=Access(subject="cli"), policy=policy)
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
    """Write the fhir_profiles/ files derived from the identity registry, the extension
    table and the search parameters.

    The Patient profile, one NamingSystem per identity kind, the server's extensions
    (patient-type, patient-group, snr-status) with their CodeSystems and ValueSets, and the
    SearchParameters of the server's own parameters (patient-type, patient-group);
    hand-written files (OperationDefinitions, the HL7 SearchParameter copies …) are left
    alone.
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


def _read_resources(path: str, *,
                    parse_lines: bool = True) -> tuple[Sequence[Any], bytes | mmap]:
    """The resources of a Bundle (``entry.resource``), one resource, or NDJSON lines; and
    the file's content (for the job's hash). NDJSON lines are read from the file as they
    are wanted: parsed (``parse_lines``: each line checked first), or as bytes (the COPY
    load's workers parse them)."""
    from app.adapters.ndjson_file import NdjsonLines, ParsedLines

    lines = NdjsonLines(path)
    # One JSON document (a Bundle, a resource) unless its first line is one on its own and
    # more lines follow: then the whole could not parse, and the file is NDJSON.
    if lines and lines[0].lstrip().startswith(b"{") and (
            len(lines) == 1 or not _is_json(lines[0])):
        try:
            document = parse_json(lines.content[:])
        except ValueError:
            document = None  # not one document: NDJSON (a broken line is refused)
        if isinstance(document, dict):
            if document.get("resourceType") == "Bundle":
                return [entry["resource"] for entry in document.get("entry", [])
                        if isinstance(entry, dict)
                        and isinstance(entry.get("resource"), dict)], lines.content
            return [document], lines.content
    if not parse_lines:
        return lines, lines.content
    for at, line in enumerate(lines):  # every line before the first is written
        if not _is_json(line):
            raise click.ClickException(f"{path}:{lines.line_number(at)}: not a JSON line")
    return ParsedLines(lines), lines.content


def _is_json(line: bytes) -> bool:
    """Whether ``line`` is a JSON text."""
    try:
        parse_json(line)
    except ValueError:
        return False
    return True


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=None,
              help="Patients written per database transaction (default 2000 on PostgreSQL, "
                   "200 on SQLite).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="PostgreSQL: processes that validate and index the records (default: one "
                   "per CPU).")
@click.option("--job", default=None, metavar="NAME",
              help="Keep the progress under this name instead of the file's content hash: "
                   "for a file that changes between runs (e.g. grows).")
@click.option("--resume/--restart", default=True, show_default=True,
              help="Continue after what this job has done (recorded in the database with "
                   "each batch), or start again at the first resource.")
@click.option("--skip", type=click.IntRange(0), default=0,
              help="Start after this many resources (overrides the recorded progress).")
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="Deprecated: progress is kept in the database. Only read, when this job "
                   "has none yet, to continue a load an earlier version stopped "
                   "(default SOURCE.checkpoint); never written.")
def load(source: str, batch_size: int | None, workers: int | None, job: str | None,
         resume: bool, skip: int, checkpoint: str | None) -> None:
    """Load Patients from a Bundle (JSON) or NDJSON file into DATABASE_URL.

    Each resource goes through the same service as the REST API (validation, identifier
    normalisation, uniqueness): with an id it is an update-or-create of that id, without
    one a create. Unlike the REST API, a load may bring replaced-by/replaces links (records
    merged in the system the file comes from) and links to records later in the file; links
    whose target never arrives are reported. Batches are one transaction each, together with
    the job's progress (a job is the file's content, or --job): a load stopped at any point
    — even killed — resumes after its last committed batch, and nothing is loaded twice. A
    batch that fails is retried one resource at a time and the refused resources are
    reported (position and reason) without stopping the load.

    On PostgreSQL worker processes validate and index the records and COPY writes them
    (app/services/bulk_copy.py: the same checks and rows, one transaction per batch); a
    line that is not JSON is refused there, and stops the load before it starts on SQLite.
    Progress goes to stderr: a bar on a terminal, else a line every 10 seconds.
    """
    import sys
    from datetime import date

    from app.adapters.db import is_sqlite, make_engine
    from app.progress import Progress
    from app.services.bulk_copy import DEFAULT_BATCH, CopyLoad, default_workers
    from app.services.bulk_load import OUTCOMES, BulkLoad, ProgressMoved, job_key
    from app.services.transactions import run_read

    engine = make_engine(Settings.from_env().database_url)
    per_statement = is_sqlite(engine)
    resources, content = _read_resources(source, parse_lines=per_statement)
    try:
        key = job_key(content, job)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--job") from None
    access = Access(subject="cli", see_protected=True)
    loader = (BulkLoad(engine, key, source, resources, access=access, today=date.today())
              if per_statement else
              CopyLoad(engine, key, source, resources, access=access, today=date.today(),
                       workers=workers or default_workers()))
    size = batch_size or (200 if per_statement else DEFAULT_BATCH)
    try:
        start = _load_start(loader.open(), source, resume=resume, skip=skip,
                            checkpoint=checkpoint)
        with Progress(len(resources), "loading", sys.stderr,
                      done=min(start, len(resources))) as bar:
            for covered, refusals in loader.batches(start, size):
                for refusal in refusals:
                    click.echo(f"\nresource {refusal.position}: {refusal.message}", err=True)
                bar.update(covered)
        if loader.deferred:
            click.echo("building the search indexes a first load builds at its end", err=True)
        loader.finish()
        dangling, examples = run_read(engine, lambda uow: uow.patients.dangling_links())
    except ProgressMoved as moved:
        raise click.ClickException(str(moved)) from None
    finally:
        engine.dispose()
    click.echo(", ".join(f"{name} {loader.counts[name]}" for name in OUTCOMES) +
               f" ({loader.done} of {len(resources)} done, job {loader.job})")
    if dangling:
        click.echo(f"{dangling} link(s) point at Patients that are not in the database, e.g. "
                   + ", ".join(f"Patient/{a} → Patient/{b}" for a, b in examples), err=True)
    if loader.counts["refused"] or dangling:
        raise SystemExit(2)


def _load_start(recorded: int, source: str, *, resume: bool, skip: int,
                checkpoint: str | None) -> int:
    """Where a load starts: after ``--skip``, at 0 for ``--restart``, else after what the
    job recorded — or, for a job with nothing recorded, after what the checkpoint file of an
    earlier version says."""
    from pathlib import Path

    if checkpoint:
        click.echo("--checkpoint is deprecated: progress is kept in the database", err=True)
    if skip or not resume:
        return skip
    legacy = Path(checkpoint or f"{source}.checkpoint")
    if recorded == 0 and legacy.is_file():
        start = int(legacy.read_text().strip() or 0)
        click.echo(f"continuing after resource {start}, as {legacy} of an earlier version "
                   "says", err=True)
        return start
    return recorded


@main.group("subscriptions")
def subscriptions_group() -> None:
    """Subscriptions: list them, show their undelivered events, run a deliverer."""


@subscriptions_group.command("list")
def subscriptions_list() -> None:
    """Every Subscription not deleted: topic, status, endpoint host (never its headers),
    events so far, delivered, failures in a row and the last error."""
    from urllib.parse import urlsplit

    from app.adapters.db import make_engine
    from app.services.transactions import run_read

    engine = make_engine(Settings.from_env().database_url)
    try:
        found = run_read(engine, lambda uow: uow.subscriptions.search(
            status=None, topic=None, limit=100_000))
    finally:
        engine.dispose()
    click.echo("id\ttopic\tstatus\tendpoint\tevents\tdelivered\tfailures\tlast error")
    for s in found:
        where = urlsplit(s.endpoint)
        click.echo(f"{s.id}\t{s.topic}\t{s.status}\t{where.scheme}://{where.netloc}\t"
                   f"{s.event_count}\t{s.delivered_through}\t{s.failures}\t"
                   f"{s.last_error or ''}")


@subscriptions_group.command("pending")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="Undelivered events shown per subscription.")
def subscriptions_pending(limit: int) -> None:
    """The events not yet delivered, per Subscription: number, time and focus."""
    from app.adapters.db import make_engine
    from app.services.transactions import run_read

    engine = make_engine(Settings.from_env().database_url)
    try:
        def pending(uow: Any) -> list[tuple[Any, list[Any]]]:
            return [(s, uow.subscriptions.events(s.id, s.delivered_through + 1, None, limit))
                    for s in uow.subscriptions.search(status=None, topic=None, limit=100_000)
                    if s.event_count > s.delivered_through]

        found = run_read(engine, pending)
    finally:
        engine.dispose()
    if not found:
        click.echo("no undelivered events")
    for s, events in found:
        click.echo(f"Subscription/{s.id} ({s.topic}, {s.status}): "
                   f"{s.event_count - s.delivered_through} undelivered")
        for event in events:
            click.echo(f"  {event.number}\t{event.occurred_at:%Y-%m-%dT%H:%M:%S}Z\t{event.focus}")


@subscriptions_group.command("deliver")
def subscriptions_deliver() -> None:
    """Run a deliverer in the foreground until interrupted (the server's workers run one
    each already; this is for SUBSCRIPTION_DELIVERY=off in the web tier)."""
    import threading

    from app.adapters.db import make_engine
    from app.services.delivery import Deliverer

    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    click.echo("delivering; Ctrl-C stops", err=True)
    try:
        Deliverer(engine, settings).run(threading.Event())
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()


@main.group("match")
def match_group() -> None:
    """The $match model: show the one in use, refit it on this database's records."""


def _match_model(settings: Settings) -> Model:
    """The model in use (MATCH_MODEL_FILE, else the shipped one); a bad file is one line."""
    from app.domain.matching import SHIPPED, ModelError, load_model

    try:
        return load_model(settings.match_model_file or SHIPPED)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc


@match_group.command("show")
def match_show() -> None:
    """Print the model in use (MATCH_MODEL_FILE, else the shipped one): version, what it was
    fitted on, thresholds, rules."""
    import json

    click.echo(json.dumps(_match_model(Settings.from_env()).summary, indent=2,
                          ensure_ascii=False))


@match_group.command("fit")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Model file to write; serve it with MATCH_MODEL_FILE=<file>.")
@click.option("--sample", type=click.IntRange(100), default=500_000, show_default=True,
              help="Fit on at most this many records (a uniform random sample).")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--version", "version", default=None,
              help="Version name of the new model (default: local-<date>-<records>).")
def match_fit(output: str, sample: int, seed: int, version: str | None) -> None:
    """Refit the $match model on this database's own records, without labels.

    Term frequencies (family names, given names, postal codes, cities), u from random pairs,
    the household correction and m by EM over blocked pairs (pulled towards the base model's
    m), as app/domain/matching/fit.py describes. The base is the model in use; its
    calibration and thresholds are kept. Run it again when the population has changed (e.g.
    nightly) into the file MATCH_MODEL_FILE names: a running server reads it again within a
    minute.
    """
    from dataclasses import replace
    from datetime import date

    from app.adapters.db import make_engine
    from app.domain.matching.fit import fit_unsupervised
    from app.domain.matching.model import save_model
    from app.services.matching import stored_records

    settings = Settings.from_env()
    base = _match_model(settings)
    engine = make_engine(settings.database_url)
    try:
        records = stored_records(
            engine, sample=sample, seed=seed,
            progress=lambda n: click.echo(f"read {n} Patients", err=True))
    finally:
        engine.dispose()
    if len(records) < 2:
        raise click.ClickException("fewer than 2 Patients in the database: nothing to fit on")
    model = fit_unsupervised(records, base, seed=seed,
                             progress=lambda step: click.echo(step, err=True))
    model = replace(model, version=version or f"local-{date.today():%Y%m%d}-{len(records)}",
                    description=f"refitted on {len(records)} records of this database, "
                                f"base {base.version}",
                    fitted={"on": "this database", "records": len(records), "base": base.version,
                            "date": date.today().isoformat()})
    save_model(model, output)
    click.echo(f"wrote model {model.version} to {output}")


@main.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default="-",
              show_default=True, help="NDJSON file to write ('-' = stdout).")
@click.option("--page-size", type=click.IntRange(1, 10_000), default=500, show_default=True,
              help="Patients read per database query.")
def export(output: str, page_size: int) -> None:
    """Export every current Patient (all versions' latest, unmasked) as NDJSON.

    The stored resources exactly as the server holds them, ordered by id, deleted ones left
    out — the same records and lines as the Bulk Data ``$export`` of a caller with
    ``protected-identity`` (app.services.bulk_export.export_pages); progress goes to stderr
    so stdout can be piped.
    """
    import sys

    from app.adapters.db import make_engine
    from app.domain.fhirdate import utc_now
    from app.progress import Progress
    from app.services.bulk_export import count_exported, export_pages

    engine = make_engine(Settings.from_env().database_url)
    operator = Access(subject="cli-export", see_protected=True)
    until = utc_now()
    try:
        total = count_exported(engine, since=None, until=until)
        target = click.open_file(output, "wb")
        written = 0
        with target as handle, Progress(total, "exporting", sys.stderr) as bar:
            for page in export_pages(engine, operator, since=None, until=until,
                                     page_size=page_size):
                handle.writelines(page.lines)
                bar.update(len(page.lines))
                written += len(page.lines)
    finally:
        engine.dispose()
    click.echo(f"exported {written} Patients", err=True)
