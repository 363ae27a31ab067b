"""Connections to the database behind the case store, one class per kind of database.

The store (`engine.audit.store`) writes its SQL once, with `?` placeholders and
portable types, and asks a `Database` for transactions. A `Database` owns what differs
between engines: connecting, the write lock that keeps the hash chain linear, the
placeholder style, and per-dialect statements in migrations (`dialect`). Only SQLite
exists today; PostgreSQL is one more class here and one more entry in `BACKENDS`,
and the store and its callers do not change.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

__all__ = ["Database", "Transaction", "SqliteDatabase", "StoreError", "connect", "BACKENDS",
           "DEFAULT_WAIT_SECONDS", "FAILURES"]

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
        """Whether the same command may succeed later, unchanged (busy, or a full disk)."""
        return self.code in ("A001", "A002")


class Transaction(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

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
        raise StoreError(f"a SQLite URL names a file, not a host: {url}")
    return SqliteDatabase(path, create, wait)


# URL scheme -> how to connect. A PostgreSQL backend adds "postgresql" here.
BACKENDS = {"sqlite": _sqlite}


def connect(location: str | Path, create: bool = True,
            wait: float = DEFAULT_WAIT_SECONDS) -> Database:
    """Open the database at `location`: a file path (SQLite), or a URL whose scheme
    names the backend (`sqlite:///cases.db`). A writer that finds another one writing
    waits up to `wait` seconds for it, then raises `StoreError` A001."""
    text = str(location)
    scheme = urlsplit(text).scheme if "://" in text else ""
    if not scheme:
        return SqliteDatabase(text, create, wait)
    backend = BACKENDS.get(scheme)
    if backend is None:
        known = ", ".join(f"{name}://" for name in BACKENDS)
        raise StoreError(f"no case-store backend for {scheme}:// URLs (this takedown knows "
                         f"{known} and plain file paths)")
    return backend(text, create, wait)
