"""The database schema (SQLAlchemy Core). Alembic migrations in ``app/migrations`` create it.

One row per Patient holds the current version as canonical JSON bytes plus the columns
searches filter and sort on; ``patient_history`` keeps every version; the index tables hold
the multi-valued search keys. ``patient_identifier`` carries the rule that one system|value
belongs to at most one active Patient, as a partial unique index on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    text,
)

metadata = MetaData()

patient = Table(
    "patient",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version_id", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_updated", DateTime, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("protected", Boolean, nullable=False, default=False),
    Column("gender", String(16)),
    Column("birth_lo", Date),
    Column("birth_hi", Date),
    Column("sort_family", String(200)),
    Column("sort_given", String(200)),
    Column("resource", LargeBinary, nullable=False),
    # The normalised fields $match scores (app.domain.matching.encode_record); NULL on rows
    # written before it existed, which are matched from ``resource`` instead.
    Column("match_record", LargeBinary),
    Index("ix_patient_last_updated", "last_updated"),
    Index("ix_patient_birth_lo", "birth_lo"),
    Index("ix_patient_sort_family", "sort_family"),
)

patient_history = Table(
    "patient_history",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version_id", Integer, primary_key=True),
    Column("last_updated", DateTime, nullable=False),
    Column("method", String(8), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("protected", Boolean, nullable=False, default=False),
    Column("resource", LargeBinary),
    Index("ix_patient_history_last_updated", "last_updated"),
)

patient_identifier = Table(
    "patient_identifier",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "patient_id", String(64), ForeignKey("patient.id", ondelete="CASCADE"), nullable=False
    ),
    Column("system", String(255), nullable=False),
    Column("value", String(255), nullable=False),
    Column("active", Boolean, nullable=False),
    Index(
        "uq_patient_identifier_active",
        "system",
        "value",
        unique=True,
        sqlite_where=text("active"),
        postgresql_where=text("active"),
    ),
    Index("ix_patient_identifier_value", "value"),
    Index("ix_patient_identifier_patient", "patient_id"),
)

patient_string = Table(
    "patient_string",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "patient_id", String(64), ForeignKey("patient.id", ondelete="CASCADE"), nullable=False
    ),
    Column("param", String(32), nullable=False),
    Column("folded", String(255), nullable=False),
    Column("exact", String(255), nullable=False),
    Index(
        "ix_patient_string_param_folded",
        "param",
        "folded",
        postgresql_ops={"folded": "text_pattern_ops"},
    ),
    Index("ix_patient_string_patient", "patient_id"),
)

patient_token = Table(
    "patient_token",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "patient_id", String(64), ForeignKey("patient.id", ondelete="CASCADE"), nullable=False
    ),
    Column("param", String(32), nullable=False),
    Column("system", String(255), nullable=False),
    Column("code", String(255), nullable=False),
    Index("ix_patient_token_param_code", "param", "code"),
    Index("ix_patient_token_patient", "patient_id"),
)

patient_link = Table(
    "patient_link",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "patient_id", String(64), ForeignKey("patient.id", ondelete="CASCADE"), nullable=False
    ),
    Column("target_id", String(64), nullable=False),
    Column("type", String(16), nullable=False),
    Index("ix_patient_link_target", "target_id"),
    Index("ix_patient_link_patient", "patient_id"),
)

# --- $generate-reserve-id (domain.md §3.2): allocation counters and the log of every id ---
# One row per (kind, key) — e.g. ("nrid", "2019-01-01|female") — holding the current NRID
# series and the next running number in it. Writers lock the row (SELECT … FOR UPDATE on
# PostgreSQL; SQLite write transactions are BEGIN IMMEDIATE), so processes and server
# instances sharing the database never hand out the same number.
reserve_counter = Table(
    "reserve_counter",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("series", Integer, nullable=False),
    Column("next_value", BigInteger, nullable=False),
)

# Every generated id, committed before anything else happens with it: "used once generated".
reserve_id = Table(
    "reserve_id",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("system", String(255), nullable=False),
    Column("value", String(64), nullable=False),
    Column("generated_at", DateTime, nullable=False),
    Column("subject", String(255)),
    Column("patient_id", String(64)),
    Column("request_id", String(200)),
    Index("uq_reserve_id_system_value", "system", "value", unique=True),
    Index("ix_reserve_id_request", "request_id"),
    Index("ix_reserve_id_patient", "patient_id"),
)

# Idempotency: one row per client requestId with a fingerprint of the request's parameters.
reserve_request = Table(
    "reserve_request",
    metadata,
    Column("request_id", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("subject", String(255)),
    Column("created_at", DateTime, nullable=False),
)

# Bulk loads (python -m app load): how many resources of each job's source are done (loaded
# or refused), advanced in the same transaction as each batch (app.services.bulk_load).
load_progress = Table(
    "load_progress",
    metadata,
    Column("job", String(200), primary_key=True),
    Column("source", String(1000), nullable=False),
    Column("done", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# Resources the server writes about Patients (Provenance, AuditEvent): append-only,
# searched through ``audit_resource_index`` (one row per searchable value).
audit_resource = Table(
    "audit_resource",
    metadata,
    Column("resource_type", String(40), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("recorded", DateTime, nullable=False),
    Column("resource", LargeBinary, nullable=False),
    Index("ix_audit_resource_recorded", "resource_type", "recorded"),
)

audit_resource_index = Table(
    "audit_resource_index",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_type", String(40), nullable=False),
    Column("resource_id", String(64), nullable=False),
    Column("param", String(32), nullable=False),
    Column("value", String(255), nullable=False),
    Index("ix_audit_resource_index_lookup", "resource_type", "param", "value"),
)

# --- Subscriptions (api.md "Subscriptions", app.services.subscriptions) ---
# One row per Subscription: what the client asked for (``resource``, without the channel
# headers, which live in ``headers`` and are never returned), the event counter that write
# transactions advance under the row lock (so event numbers follow commit order), and the
# delivery state that the deliverers (app.services.delivery) hold a lease on.
subscription = Table(
    "subscription",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("resource", LargeBinary, nullable=False),
    Column("headers", LargeBinary),
    Column("topic", String(255), nullable=False),
    Column("endpoint", String(2048), nullable=False),
    # The FHIR base the subscriber used (fullUrls of notifications when BASE_URL is unset).
    Column("base_url", String(2048), nullable=False),
    Column("content", String(16), nullable=False),
    Column("filter_system", String(255)),
    Column("heartbeat_seconds", Integer),
    Column("owner", String(255)),
    Column("owner_sees_protected", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("event_count", BigInteger, nullable=False),
    Column("delivered_through", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("next_attempt_at", DateTime),
    Column("heartbeat_due_at", DateTime),
    Column("last_error", String(255)),
    Column("lease_owner", String(64)),
    Column("lease_until", DateTime),
    Index("ix_subscription_topic", "topic", "status"),
)

# The outbox: every event, numbered per subscription, written in the transaction of the
# change that caused it; kept after delivery for $events.
subscription_event = Table(
    "subscription_event",
    metadata,
    Column("subscription_id", String(64), ForeignKey("subscription.id", ondelete="CASCADE"),
           primary_key=True),
    Column("event_number", BigInteger, primary_key=True),
    Column("focus", String(128), nullable=False),
    Column("focus_version", Integer),
    Column("context", String(1000)),
    Column("occurred_at", DateTime, nullable=False),
)

#: Bulk Data ``$export`` jobs (app.services.bulk_export): one row per kick-off, claimed by
#: one exporter at a time through its lease; the NDJSON files live under EXPORT_DIRECTORY.
export_job = Table(
    "export_job",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(255)),
    Column("owner_sees_protected", Boolean, nullable=False),
    # The kick-off URL as the client sent it (the manifest's ``request``).
    Column("request", String(4096), nullable=False),
    Column("base_url", String(2048), nullable=False),
    Column("types", String(255), nullable=False),
    Column("since", DateTime),
    Column("transaction_time", DateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("expires_at", DateTime),
    Column("total", BigInteger),
    Column("exported", BigInteger, nullable=False),
    # JSON list of {"type", "name", "count"}: the files completed so far while the job
    # runs, the manifest's once it is completed.
    Column("output", LargeBinary),
    Column("error", String(255)),
    Column("attempts", Integer, nullable=False),
    # The checkpoint (migration 0009), recorded with each completed file: the id of the
    # last Patient in the last completed file (a taken-over job goes on after it), and
    # the attempt that completed that file.
    Column("checkpoint_after", String(64)),
    Column("checkpoint_attempt", Integer),
    Column("lease_owner", String(64)),
    Column("lease_until", DateTime),
    Index("ix_export_job_state", "state"),
    Index("ix_export_job_owner", "owner", "state"),
)
