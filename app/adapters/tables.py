"""The database schema (SQLAlchemy Core). Alembic migrations in ``app/migrations`` create it.

One row per Patient holds the current version as canonical JSON bytes plus the columns
searches filter and sort on; ``patient_history`` keeps every version; the index tables hold
the multi-valued search keys. ``patient_identifier`` carries the rule that one system|value
belongs to at most one active Patient, as a partial unique index on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
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
