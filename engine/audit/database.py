"""Connections to the database behind the case store, one class per kind of database.

The store (`engine.audit.store`) writes its SQL once, with `?` placeholders and
portable types, and asks a `Database` for transactions. A `Database` owns what differs
between engines: connecting, the write lock that keeps the hash chain linear, the
placeholder style, and per-dialect statements in migrations (`dialect`). Only SQLite
exists today; PostgreSQL is one more class here and one more entry in `BACKENDS`,
and the store and its callers do not change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

__all__ = ["Database", "Transaction", "SqliteDatabase", "StoreError", "connect", "BACKENDS"]


class StoreError(Exception):
    """The case store cannot be opened or used: a message for the user, no traceback."""


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

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"no case store at {self.path}")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # autocommit mode: transactions are begun and ended here, explicitly
            self._connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed transaction survives a power cut, not only a crash
            self._connection.execute("PRAGMA synchronous = FULL")
            self._connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} is not a case store: {error}") from None

    @contextmanager
    def transaction(self, write: bool = False):
        connection = self._connection
        try:
            # IMMEDIATE takes the write lock now rather than at the first write
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as error:
            raise StoreError(f"the case store {self.path} is busy or locked: {error}") from None
        try:
            yield _SqliteTransaction(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def journal_mode(self) -> str:
        return self._connection.execute("PRAGMA journal_mode").fetchone()[0]

    def close(self) -> None:
        self._connection.close()


def _sqlite(url: str, create: bool) -> SqliteDatabase:
    parts = urlsplit(url)
    # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy writes them
    path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if parts.netloc:
        raise StoreError(f"a SQLite URL names a file, not a host: {url}")
    return SqliteDatabase(path, create)


# URL scheme -> how to connect. A PostgreSQL backend adds "postgresql" here.
BACKENDS = {"sqlite": _sqlite}


def connect(location: str | Path, create: bool = True) -> Database:
    """Open the database at `location`: a file path (SQLite), or a URL whose scheme
    names the backend (`sqlite:///cases.db`)."""
    text = str(location)
    scheme = urlsplit(text).scheme if "://" in text else ""
    if not scheme:
        return SqliteDatabase(text, create)
    backend = BACKENDS.get(scheme)
    if backend is None:
        known = ", ".join(f"{name}://" for name in BACKENDS)
        raise StoreError(f"no case-store backend for {scheme}:// URLs (this takedown knows "
                         f"{known} and plain file paths)")
    return backend(text, create)
