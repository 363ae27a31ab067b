"""Connections to the database behind the case store, one class per kind of database.

The store (`engine.audit.store`) writes its SQL once, with `?` placeholders and
portable types, and asks a `Database` for transactions. A `Database` owns what differs
between engines: connecting, the write lock that keeps the hash chain linear, the
placeholder style, per-dialect statements in migrations (`dialect`), and turning the
driver's errors into `StoreError`s with a stable code. Two exist: a SQLite file (the
default) and a PostgreSQL database (`postgresql://` URLs, through psycopg 3), which a
team shares. Nothing here prints, and no message ever holds a password.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import re
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

__all__ = ["Database", "Transaction", "SqliteDatabase", "PostgresDatabase", "StoreError",
           "connect", "BACKENDS", "DEFAULT_WAIT_SECONDS", "FAILURES", "WRITE_LOCK_KEY",
           "display_location"]

DEFAULT_WAIT_SECONDS = 30.0
# An I/O error with less than this free on the store's file system is a full disk.
_FULL_BELOW_BYTES = 1024 * 1024

# The stable codes of the ways a store can fail, with what to do about each. The code is
# what a script branches on; the message says which store and what happened.
FAILURES = {
    "A001": ("the case store is busy",
             "another takedown command is writing to it; run this one again when it has "
             "finished, or wait longer with --wait SECONDS"),
    "A002": ("the disk holding the case store is full",
             "free some space on that disk and run the command again: nothing was stored"),
    "A003": ("the case store could not be read or written",
             "check the disk and the file's permissions; nothing was stored"),
    "A004": ("the file is not a case store, or it is damaged",
             "name the right file with --db; keep a damaged store for inspection and "
             "restore it from a copy"),
    "A005": ("no such case store",
             "record a case first (takedown audit record) or name the store with --db"),
    "A006": ("the database server cannot be reached",
             "check that the PostgreSQL server is running and that the host and port in the "
             "URL are right; nothing was stored, run the command again when it is back"),
    "A007": ("the database server refused the login or the rights the store needs",
             "check the user in the URL and its password (PGPASSWORD or ~/.pgpass rather "
             "than the URL), the server's pg_hba.conf, and that the user may create tables "
             "in the database (docs/case-store.md)"),
    "A008": ("not a case-store location",
             "give a file path, sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"),
    "A009": ("no such database on the server",
             "create it first (createdb -O USER DATABASE, docs/case-store.md) or correct the "
             "database name in the URL"),
    "A010": ("the target store is not empty",
             "copy into a new, empty store: a store's chain is never merged into another's"),
}


class StoreError(Exception):
    """The case store cannot be opened or used: a message for the user, no traceback.

    `code` is set when the store itself failed (busy, full, unreadable: see `FAILURES`);
    it is None for what the user asked of it (a case that does not exist)."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code

    @property
    def hint(self) -> str:
        return FAILURES[self.code][1] if self.code else ""

    @property
    def is_retryable(self) -> bool:
        """Whether the same command may succeed later, unchanged (busy, a full disk, the
        database server out of reach)."""
        return self.code in ("A001", "A002", "A006")


class Transaction(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple]: ...


class Database(Protocol):
    dialect: str

    def transaction(self, write: bool = False) -> Any:
        """A context manager yielding a `Transaction`: committed when the block ends,
        rolled back if it raises. `write=True` takes the store's write lock first, so
        that two writers never read the same chain head."""

    def close(self) -> None: ...


class _SqliteTransaction:
    def __init__(self, connection: sqlite3.Connection):
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._connection.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._connection.executemany(sql, rows)

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple]:
        cursor = self._connection.execute(sql, params)
        while batch := cursor.fetchmany(500):
            yield from batch


class SqliteDatabase:
    """A SQLite file in WAL mode: readers never block the writer, and a transaction that
    did not commit (the process was killed, the machine lost power) leaves no trace."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, create: bool = True,
                 wait: float = DEFAULT_WAIT_SECONDS):
        self.path = Path(path)
        self.wait = wait
        if not create and not self.path.exists():
            raise StoreError(f"no case store at {self.path}", "A005")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit mode: transactions are begun and ended here, explicitly. `timeout`
            # is how long a writer waits for another one's lock before it gives up.
            self._connection = sqlite3.connect(self.path, timeout=wait, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise self._failure(error) from None
        try:
            self._connection.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed transaction survives a power cut, not only a crash
            self._connection.execute("PRAGMA synchronous = FULL")
            self._connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as error:
            self._connection.close()
            raise self._failure(error) from None

    @contextmanager
    def transaction(self, write: bool = False):
        connection = self._connection
        try:
            # IMMEDIATE takes the write lock now rather than at the first write
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as error:
            raise self._failure(error) from None
        try:
            yield _SqliteTransaction(connection)
            connection.execute("COMMIT")
        except BaseException as error:
            # SQLite may have rolled back already (a full disk, an I/O error)
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise self._failure(error) from None
            raise

    def _failure(self, error: Exception) -> StoreError:
        """What went wrong, said for the user, with its code (`FAILURES`)."""
        code = getattr(error, "sqlite_errorcode", None)
        primary = code & 0xFF if code is not None else None
        if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return StoreError(f"the case store {self.path} is busy: another process held its "
                              f"write lock for more than {self.wait:g} s", "A001")
        if (primary == sqlite3.SQLITE_FULL or getattr(error, "errno", None) == errno.ENOSPC
                or (primary == sqlite3.SQLITE_IOERR and self._is_disk_full())):
            return StoreError(f"the disk holding the case store {self.path} is full: nothing "
                              "was stored", "A002")
        if primary in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            return StoreError(f"{self.path} is not a case store, or it is damaged: {error}",
                              "A004")
        reason = getattr(error, "strerror", None) or str(error)
        name = getattr(error, "sqlite_errorname", "")
        return StoreError(f"the case store {self.path} could not be read or written: "
                          f"{reason}" + (f" ({name})" if name else ""), "A003")

    def _is_disk_full(self) -> bool:
        """SQLite reports a write that found no room as a plain I/O error (it keeps no
        errno): one met while the file system has almost nothing free is a full disk."""
        try:
            return shutil.disk_usage(self.path.resolve().parent).free < _FULL_BELOW_BYTES
        except OSError:
            return False

    def journal_mode(self) -> str:
        return self._connection.execute("PRAGMA journal_mode").fetchone()[0]

    def close(self) -> None:
        self._connection.close()


def _sqlite(url: str, create: bool, wait: float) -> SqliteDatabase:
    parts = urlsplit(url)
    # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy writes them
    path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if parts.netloc:
        raise StoreError(f"a SQLite URL names a file, not a host: {display_location(url)}",
                         "A008")
    return SqliteDatabase(path, create, wait)


# The key of the transaction-level advisory lock that serialises writers to a PostgreSQL
# store (the first 8 bytes of sha256("takedown case store"), as a signed integer). One
# store per database: stores in two schemas of one database would share it.
WRITE_LOCK_KEY = int.from_bytes(hashlib.sha256(b"takedown case store").digest()[:8], "big",
                                signed=True)
# Errors libpq reports while connecting carry no SQLSTATE: they are told apart by their
# text. The first match decides.
_CONNECT_FAILURES = (
    (re.compile(r"password authentication failed|no password supplied|authentication failed|"
                r"role \S+ does not exist|pg_hba\.conf|permission denied|"
                r"not permitted to log in", re.I), "A007"),
    (re.compile(r"database \S+ does not exist", re.I), "A009"),
    (re.compile(r"invalid (?:port number|URI|connection option|\w+ value)|"
                r"missing \"=\"|unterminated quoted string|IPv6 host address", re.I), "A008"),
)
_SQLSTATE_CODES = {
    "55P03": "A001",  # lock_not_available: --wait ran out
    "40001": "A001",  # serialization_failure
    "40P01": "A001",  # deadlock_detected
    "53100": "A002",  # disk_full
    "XX001": "A004",  # data_corrupted
    "XX002": "A004",  # index_corrupted
    "42501": "A007",  # insufficient_privilege
    "28000": "A007",  # invalid_authorization_specification
    "28P01": "A007",  # invalid_password
    "57P01": "A006",  # admin_shutdown: the server was stopped
    "57P02": "A006",  # crash_shutdown
    "57P03": "A006",  # cannot_connect_now: starting up or shutting down
}


class _PostgresTransaction:
    _names = itertools.count()

    def __init__(self, connection):
        self._connection = connection

    @staticmethod
    def _query(sql: str, params: Sequence[Any]) -> tuple[str, Sequence[Any] | None]:
        # The store writes `?`; psycopg wants `%s`, and then reads every `%` as the start
        # of a placeholder. The store's SQL holds no `?` inside a literal.
        if not params:
            return sql, None
        return sql.replace("%", "%%").replace("?", "%s"), params

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._connection.cursor() as cursor:
            cursor.execute(*self._query(sql, params))
            return cursor.fetchall() if cursor.description is not None else []

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._connection.cursor() as cursor:
            cursor.executemany(sql.replace("%", "%%").replace("?", "%s"), list(rows))

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple]:
        # a server-side cursor: a large ledger is read 500 rows at a time, not all at once
        with self._connection.cursor(name=f"takedown_{next(self._names)}") as cursor:
            cursor.itersize = 500
            cursor.execute(*self._query(sql, params))
            yield from cursor


class PostgresDatabase:
    """A PostgreSQL database that several people and processes write to at once.

    Writers are serialised by a transaction-level advisory lock (`WRITE_LOCK_KEY`),
    taken as a write transaction's first statement and released by its COMMIT or
    ROLLBACK (or by the server when the connection dies), so that no two writers ever
    read the same chain head. A write transaction runs at READ COMMITTED on purpose:
    each statement after the lock sees every record committed before the lock was
    granted. (At REPEATABLE READ the snapshot would be taken before the wait and a
    writer could extend a stale head; the primary key on `ledger.seq` would refuse
    that, but as an error rather than a wait.) A read transaction is REPEATABLE READ
    READ ONLY: one snapshot for all its statements, as SQLite gives. The lock works
    before any table exists, so two processes creating a store at once are serialised
    as well. `wait` becomes the session's lock_timeout: past it, A001."""

    dialect = "postgresql"

    def __init__(self, url: str, create: bool = True, wait: float = DEFAULT_WAIT_SECONDS):
        import psycopg  # only when a PostgreSQL store is named: it costs start-up time
        from psycopg.conninfo import conninfo_to_dict

        self.where = display_location(url)
        self.wait = wait
        self._secrets = _passwords(url)
        try:
            options = conninfo_to_dict(url)
            options.setdefault("connect_timeout", "10")
            options.setdefault("application_name", "takedown")
            self._connection = psycopg.connect(autocommit=True, **options)
        except psycopg.Error as error:
            raise self._connect_failure(error) from None
        try:
            # 0 would mean "wait for ever"; --wait 0 means "do not wait"
            self._connection.execute("SELECT set_config('lock_timeout', %s, false)",
                                     (f"{max(1, round(wait * 1000))}ms",))
            if not create and self._connection.execute(
                    "SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
                raise StoreError(f"no case store in the database {self.where}", "A005")
        except BaseException as error:
            self._connection.close()
            if isinstance(error, psycopg.Error):
                raise self._failure(error) from None
            raise

    @contextmanager
    def transaction(self, write: bool = False):
        import psycopg
        from psycopg.pq import TransactionStatus

        connection = self._connection
        try:
            if write:
                # one round trip: writers queue here, so each one counts
                connection.execute("BEGIN ISOLATION LEVEL READ COMMITTED; "
                                   f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY:d})")
            else:
                connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        except psycopg.Error as error:
            self._end(connection, commit=False)
            raise self._failure(error) from None
        try:
            yield _PostgresTransaction(connection)
            # a statement that failed inside the block, and was handled there, has
            # aborted the transaction: it can only be rolled back
            is_aborted = connection.info.transaction_status == TransactionStatus.INERROR
            self._end(connection, commit=not is_aborted)
        except BaseException as error:
            self._end(connection, commit=False)
            if isinstance(error, psycopg.Error):
                raise self._failure(error) from None
            raise

    def _end(self, connection, commit: bool) -> None:
        import psycopg
        from psycopg.pq import TransactionStatus

        if commit:
            try:
                connection.execute("COMMIT")
            except psycopg.Error as error:
                self._end(connection, commit=False)
                raise self._failure(error) from None
        elif not connection.closed and \
                connection.info.transaction_status != TransactionStatus.IDLE:
            # if the connection is gone, the server has rolled back
            with suppress(psycopg.Error):
                connection.execute("ROLLBACK")

    def _failure(self, error: Exception) -> StoreError:
        """What went wrong during a transaction, said for the user, with its code."""
        sqlstate = getattr(error, "sqlstate", None) or ""
        reason = self._secret_free(getattr(getattr(error, "diag", None), "message_primary",
                                           None) or str(error).strip())
        code = _SQLSTATE_CODES.get(sqlstate)
        if code is None and (sqlstate.startswith("08") or (
                not sqlstate and self._connection.closed)):
            code = "A006"
        if code == "A001":
            return StoreError(f"the case store {self.where} is busy: another process held its "
                              f"write lock for more than {self.wait:g} s", "A001")
        if code == "A002":
            return StoreError(f"the disk holding the case store {self.where} is full: nothing "
                              "was stored", "A002")
        if code == "A006":
            return StoreError(f"lost the connection to the case store {self.where}: {reason}; "
                              "what was being written was not stored", "A006")
        if code == "A004":
            return StoreError(f"the case store {self.where} is damaged: {reason}", "A004")
        if code == "A007":
            return StoreError(f"the database server refused {self.where}: {reason}", "A007")
        state = f" (SQLSTATE {sqlstate})" if sqlstate else ""
        return StoreError(f"the case store {self.where} could not be read or written: "
                          f"{reason}{state}", "A003")

    def _connect_failure(self, error: Exception) -> StoreError:
        """Why no connection could be made: a bad URL, no server, no login, no database."""
        import psycopg

        reason = self._secret_free(_libpq_reason(str(error)))
        code = next((code for pattern, code in _CONNECT_FAILURES if pattern.search(reason)),
                    "A008" if isinstance(error, psycopg.ProgrammingError) else "A006")
        said = {
            "A006": "cannot reach the database server for",
            "A007": "the database server refused the login to",
            "A008": "not a usable PostgreSQL URL:",
            "A009": "no such database on the server:",
        }[code]
        return StoreError(f"{said} {self.where}: {reason}", code)

    def _secret_free(self, text: str) -> str:
        """libpq quotes a URL it cannot parse in full: never with its password."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def close(self) -> None:
        self._connection.close()


def _libpq_reason(message: str) -> str:
    """The part of libpq's message that says why: after FATAL:, or after the last
    "failed:", on one line."""
    text = " ".join(message.split())
    for marker in ("FATAL: ", "failed: "):
        if marker in text:
            text = text.rsplit(marker, 1)[1]
    return text.rstrip(". ")


def _postgresql(url: str, create: bool, wait: float) -> PostgresDatabase:
    return PostgresDatabase(url, create, wait)


# URL scheme -> how to connect
BACKENDS = {"sqlite": _sqlite, "postgresql": _postgresql, "postgres": _postgresql}


def _passwords(url: str) -> list[str]:
    """The passwords a URL holds, as written and decoded, longest first."""
    found = re.findall(r"//[^/@]*?:([^@/]*)@", url)
    found += re.findall(r"[?&]password=([^&]*)", url, re.I)
    found += [unquote(f) for f in found]
    return sorted({f for f in found if f}, key=len, reverse=True)


def display_location(location: str | Path) -> str:
    """A store's location as it may be printed: a URL without its password."""
    text = str(location)
    if "://" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:  # not even a URL (an unclosed [ in the host): mask what looks like one
        for secret in _passwords(text):
            text = text.replace(secret, "***")
        return text
    netloc = parts.netloc
    if "@" in netloc:
        credentials, _, host = netloc.rpartition("@")
        netloc = f"{credentials.partition(':')[0]}@{host}"
    query = urlencode([(k, "***" if k.lower() == "password" else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*/")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def connect(location: str | Path, create: bool = True,
            wait: float = DEFAULT_WAIT_SECONDS) -> Database:
    """Open the database at `location`: a file path (SQLite), or a URL whose scheme
    names the backend (`sqlite:///cases.db`, `postgresql://user@host:5432/cases`). A
    writer that finds another one writing waits up to `wait` seconds for it, then
    raises `StoreError` A001."""
    text = str(location)
    scheme = text.split("://", 1)[0] if "://" in text else ""
    if not scheme:
        return SqliteDatabase(text, create, wait)
    backend = BACKENDS.get(scheme.lower())
    if backend is None:
        known = ", ".join(f"{name}://" for name in BACKENDS)
        raise StoreError(f"no case-store backend for {scheme}:// URLs (this takedown knows "
                         f"{known} and plain file paths): {display_location(text)}", "A008")
    return backend(text, create, wait)
