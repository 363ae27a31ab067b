"""The case store's schema, as numbered migrations applied in order.

Each migration runs in its own transaction together with the row that records it in
`schema_migrations`, so a store is always at exactly one version. The statements are
portable SQL (TEXT, INTEGER, DOUBLE PRECISION, no auto-increment: the store numbers
records itself); what only one database can say (the triggers, which SQLite and
PostgreSQL write differently) goes under that dialect's name. SQLite and PostgreSQL
stores go through the same migrations, so they are at the same version with the same
tables. Never edit a migration that has shipped: add the next one (adding a dialect
that had none before changes nothing for stores of the others).

The `ledger` is the record of truth and carries the hash chain. `cases`, `responses`
and `disputes` index a few fields of the ledger bodies for queries; `takedown audit
verify` checks them against the ledger. Every table is append-only: the triggers
refuse UPDATE and DELETE, and the chain shows any change made around them.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.audit.database import Database, StoreError

__all__ = ["Migration", "MIGRATIONS", "migrate", "schema_version"]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    dialects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _append_only(table: str) -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the case store is append-only: {table} rows are never "
        f"changed or deleted'); END"
        for action in ("UPDATE", "DELETE"))


def _append_only_postgresql(tables: tuple[str, ...]) -> tuple[str, ...]:
    # FOR EACH STATEMENT, and TRUNCATE too: PostgreSQL can empty a table without DELETE
    function = ("CREATE OR REPLACE FUNCTION takedown_append_only() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the case store is append-only: "
                "% rows are never changed or deleted', TG_TABLE_NAME; END $$")
    return (function,) + tuple(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION takedown_append_only()" for table in tables)


_TABLES = ("ledger", "cases", "responses", "disputes")

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the ledger, with cases, responses and disputes indexed from it", (
        """CREATE TABLE ledger (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('case', 'response', 'dispute')),
            case_id TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            body TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        )""",
        """CREATE TABLE cases (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES ledger (seq),
            request_id TEXT NOT NULL,
            platform TEXT NOT NULL,
            submitted TEXT NOT NULL,
            outcome TEXT NOT NULL,
            likelihood DOUBLE PRECISION NOT NULL,
            evidence_digest TEXT NOT NULL UNIQUE
        )""",
        "CREATE INDEX cases_by_platform ON cases (platform, submitted)",
        "CREATE INDEX cases_by_submitted ON cases (submitted)",
        "CREATE INDEX cases_by_request ON cases (request_id)",
        """CREATE TABLE responses (
            seq INTEGER PRIMARY KEY REFERENCES ledger (seq),
            case_id TEXT NOT NULL REFERENCES cases (id),
            responded TEXT NOT NULL,
            outcome TEXT NOT NULL,
            fingerprint TEXT NOT NULL
        )""",
        "CREATE INDEX responses_by_case ON responses (case_id, responded)",
        "CREATE INDEX responses_by_fingerprint ON responses (fingerprint)",
        """CREATE TABLE disputes (
            seq INTEGER PRIMARY KEY REFERENCES ledger (seq),
            case_id TEXT NOT NULL REFERENCES cases (id),
            raised TEXT NOT NULL,
            fingerprint TEXT NOT NULL
        )""",
        "CREATE INDEX disputes_by_case ON disputes (case_id)",
        "CREATE INDEX disputes_by_fingerprint ON disputes (fingerprint)",
    ), {"sqlite": tuple(statement for table in _TABLES for statement in _append_only(table)),
        "postgresql": _append_only_postgresql(_TABLES)}),
)

_BOOKKEEPING = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""


def schema_version(db: Database) -> int:
    # Read first: a store already at its version is opened without taking the write
    # lock, so a command opening it never waits for (or holds up) another's write.
    with db.transaction() as tx:
        try:
            return tx.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0]
        except Exception:  # a new store: no bookkeeping table yet
            pass
    with db.transaction(write=True) as tx:
        return _version(tx)


def _version(tx) -> int:
    tx.execute(_BOOKKEEPING)
    return tx.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0]


def migrate(db: Database, migrations: Sequence[Migration] = MIGRATIONS,
            now: datetime.datetime | None = None) -> list[int]:
    """Bring the schema up to the last migration; returns the versions applied.

    Raises `StoreError` if the store was written by a newer takedown, or if a
    migration fails (the store then stays at the version before it)."""
    known = max((m.version for m in migrations), default=0)
    current = schema_version(db)
    if current > known:
        raise StoreError(f"the case store is at schema version {current}, written by a newer "
                         f"takedown; this one knows versions up to {known}")
    applied = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= current:
            continue
        # take the write lock, then look again: another process may have applied it
        with db.transaction(write=True) as tx:
            if migration.version <= _version(tx):
                continue
            try:
                for statement in migration.statements + migration.dialects.get(db.dialect, ()):
                    tx.execute(statement)
            except Exception as error:
                raise StoreError(f"migration {migration.version} ({migration.name}) failed: "
                                 f"{error}") from error
            stamp = (now or datetime.datetime.now(datetime.UTC)).isoformat(timespec="seconds")
            tx.execute("INSERT INTO schema_migrations (version, name, applied_at) "
                       "VALUES (?, ?, ?)", (migration.version, migration.name, stamp))
            applied.append(migration.version)
    return applied
