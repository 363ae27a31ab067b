"""The case store: the repository every audit command reads and writes through.

Callers see cases, responses and disputes (`engine.audit.records`) and never SQL. Each
write is one transaction: a case, or a whole file of responses, is stored entirely or
not at all, whatever happens to the process. Every write appends ledger records that
chain by hash (`engine.audit.ledger`) and rows in the tables that index them;
`verify` checks both. The database behind it is chosen by `open_store`'s location
(`engine.audit.database`), so a PostgreSQL store needs no change here or in callers.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.audit.database import DEFAULT_WAIT_SECONDS, Database, StoreError, connect
from engine.audit.ledger import (
    GENESIS,
    ChainBreak,
    LedgerRecord,
    canonical,
    check_chain,
    record_hash,
)
from engine.audit.migrations import migrate
from engine.audit.records import Case, Dispute, Response

__all__ = ["CaseStore", "Added", "Verification", "open_store", "copy_store", "StoreError"]

Clock = Callable[[], datetime.datetime]


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def open_store(location: str | Path, create: bool = True, now: Clock | None = None,
               wait: float = DEFAULT_WAIT_SECONDS) -> CaseStore:
    """Open (and create or migrate) the case store at a path or URL.

    `create=False` refuses to create one where there is none. `now` is the clock that
    stamps records (the wall clock unless a test gives another). A write waits up to
    `wait` seconds for another process's write to end, then raises `StoreError` A001."""
    db = connect(location, create, wait)
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return CaseStore(db, now)


@dataclass(frozen=True, slots=True)
class Added:
    responses: list[Response]
    disputes: list[Dispute]
    skipped: int  # already stored


@dataclass(frozen=True, slots=True)
class Verification:
    records: int
    head: LedgerRecord | None
    problems: tuple[ChainBreak, ...]

    @property
    def is_intact(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> ChainBreak | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None


# How each kind of record is indexed: its table, the columns, and the row derived from
# a ledger record's (case id, seq, body). Writing and verifying both use these.

def _fingerprint(*fields) -> str:
    """What makes two responses (or disputes) the same: storing one again adds nothing,
    so a team can re-import the spreadsheet it keeps adding to."""
    return hashlib.sha256(canonical(list(fields)).encode()).hexdigest()


def _case_row(case_id: str, seq: int, body: dict) -> tuple:
    decision = body["decision"]
    return (case_id, seq, body["request_id"], body["platform"], body["submitted"],
            decision["outcome"], float(decision["likelihood"]), body["evidence_digest"])


def _response_row(case_id: str, seq: int, body: dict) -> tuple:
    return (seq, case_id, body["date"], body["outcome"],
            _fingerprint(case_id, body["date"], body["outcome"], body["reason"], body["notes"]))


def _dispute_row(case_id: str, seq: int, body: dict) -> tuple:
    return (seq, case_id, body["date"],
            _fingerprint(case_id, body["date"], body["text"], body["clauses"]))


_INDEXES = {
    "case": ("cases", ("id", "seq", "request_id", "platform", "submitted", "outcome",
                       "likelihood", "evidence_digest"), _case_row),
    "response": ("responses", ("seq", "case_id", "responded", "outcome", "fingerprint"),
                 _response_row),
    "dispute": ("disputes", ("seq", "case_id", "raised", "fingerprint"), _dispute_row),
}

_LEDGER_COLUMNS = "l.seq, l.kind, l.case_id, l.recorded_at, l.body, l.prev_hash, l.hash"


class _Chain:
    """Appends ledger records inside one write transaction, keeping the head in hand."""

    def __init__(self, tx, recorded_at: str):
        self.tx = tx
        self.recorded_at = recorded_at
        head = tx.execute("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1")
        self.seq, self.hash = head[0] if head else (0, GENESIS)

    def append(self, kind: str, case_id: str, body: dict) -> LedgerRecord:
        text = canonical(body)
        seq = self.seq + 1
        digest = record_hash(self.hash, seq, kind, case_id, self.recorded_at, text)
        record = LedgerRecord(seq, kind, case_id, self.recorded_at, text, self.hash, digest)
        self.tx.execute("INSERT INTO ledger (seq, kind, case_id, recorded_at, body, prev_hash, "
                        "hash) VALUES (?, ?, ?, ?, ?, ?, ?)", dataclasses.astuple(record))
        table, columns, row = _INDEXES[kind]
        self.tx.execute(f"INSERT INTO {table} ({', '.join(columns)}) "
                        f"VALUES ({', '.join('?' * len(columns))})", row(case_id, seq, body))
        self.seq, self.hash = seq, digest
        return record


class CaseStore:
    """Cases, responses and disputes, appended in transactions and read back as values."""

    def __init__(self, db: Database, now: Clock | None = None):
        self.db = db
        self._now = now or _utc_now

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _stamp(self) -> str:
        return self._now().astimezone(datetime.UTC).isoformat(timespec="seconds")

    # Writes: one transaction each

    def record_case(self, case: Case) -> tuple[Case, bool]:
        """Store a case; returns it with its id, and whether it is new. Evidence already
        recorded (the same digest as submitted) returns the case it was recorded as."""
        return self.record_cases([case])[0]

    def record_cases(self, cases: Sequence[Case]) -> list[tuple[Case, bool]]:
        """Store cases, all or none, in one transaction; for each, the case with its id
        and whether it is new (see `record_case`)."""
        out: list[tuple[Case, bool]] = []
        with self.db.transaction(write=True) as tx:
            chain = None
            number = tx.execute("SELECT COUNT(*) FROM cases")[0][0]
            for case in cases:
                found = tx.execute("SELECT id FROM cases WHERE evidence_digest = ?",
                                   (case.evidence_digest,))
                if found:
                    out.append((self._case(tx, found[0][0]), False))
                    continue
                chain = chain or _Chain(tx, self._stamp())
                number += 1
                case_id = f"C-{number:06d}"
                record = chain.append("case", case_id, case.body())
                out.append((dataclasses.replace(case, id=case_id, seq=record.seq,
                                                recorded_at=record.recorded_at), True))
        return out

    def add(self, responses: Iterable[Response] = (),
            disputes: Iterable[Dispute] = ()) -> Added:
        """Store responses and disputes, all or none. One already stored (the same case,
        date and content) is skipped, not stored twice."""
        stored: dict[str, list] = {"response": [], "dispute": []}
        skipped = 0
        with self.db.transaction(write=True) as tx:
            chain = _Chain(tx, self._stamp())
            known_cases: set[str] = set()
            seen: set[str] = set()
            items = [("response", r) for r in responses] + [("dispute", d) for d in disputes]
            for kind, item in items:
                table, columns, row_of = _INDEXES[kind]
                body = item.body()
                fingerprint = row_of(item.case_id, 0, body)[columns.index("fingerprint")]
                if fingerprint in seen or tx.execute(
                        f"SELECT 1 FROM {table} WHERE fingerprint = ? LIMIT 1", (fingerprint,)):
                    skipped += 1
                    continue
                seen.add(fingerprint)
                self._require_case(tx, item.case_id, known_cases)
                record = chain.append(kind, item.case_id, body)
                stored[kind].append(dataclasses.replace(item, seq=record.seq,
                                                        recorded_at=record.recorded_at))
        return Added(stored["response"], stored["dispute"], skipped)

    @staticmethod
    def _require_case(tx, case_id: str, known: set[str]) -> None:
        if case_id in known:
            return
        if not tx.execute("SELECT 1 FROM cases WHERE id = ?", (case_id,)):
            raise StoreError(f"no case {case_id} in the store")
        known.add(case_id)

    # Reads

    def _case(self, tx, case_id: str) -> Case | None:
        rows = tx.execute(f"SELECT {_LEDGER_COLUMNS} FROM cases c JOIN ledger l ON l.seq = c.seq "
                          "WHERE c.id = ?", (case_id,))
        return _case_of(LedgerRecord(*rows[0])) if rows else None

    def case(self, case_id: str) -> Case | None:
        with self.db.transaction() as tx:
            return self._case(tx, case_id)

    def find(self, reference: str) -> Case:
        """The case a user names: by its case id, or by the request's own id when only
        one case has it. Raises `StoreError` otherwise."""
        with self.db.transaction() as tx:
            found = self._case(tx, reference)
            if found is not None:
                return found
            ids = [r[0] for r in tx.execute("SELECT id FROM cases WHERE request_id = ? "
                                            "ORDER BY id", (reference,))]
            if len(ids) == 1:
                return self._case(tx, ids[0])
        if ids:
            raise StoreError(f"request {reference} was recorded as several cases "
                             f"({', '.join(ids)}); name one of them")
        raise StoreError(f"no case or request {reference} in the store")

    def cases_by_request(self) -> dict[str, list[str]]:
        """request id -> the ids of the cases recorded for it."""
        out: dict[str, list[str]] = {}
        with self.db.transaction() as tx:
            for request_id, case_id in tx.execute("SELECT request_id, id FROM cases ORDER BY id"):
                out.setdefault(request_id, []).append(case_id)
        return out

    def case_dates(self) -> dict[str, str]:
        """case id -> the date its request was submitted."""
        with self.db.transaction() as tx:
            return dict(tx.execute("SELECT id, submitted FROM cases"))

    def cases(self, platforms: Sequence[str] = (), since: str | None = None,
              until: str | None = None) -> list[Case]:
        """Cases submitted on platforms (all if none given) between two dates, inclusive."""
        where, params = [], []
        if platforms:
            where.append(f"c.platform IN ({', '.join('?' * len(platforms))})")
            params.extend(platforms)
        if since:
            where.append("c.submitted >= ?")
            params.append(since)
        if until:
            where.append("c.submitted <= ?")
            params.append(until)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        with self.db.transaction() as tx:
            rows = tx.execute(f"SELECT {_LEDGER_COLUMNS} FROM cases c JOIN ledger l ON "
                              f"l.seq = c.seq {clause}ORDER BY c.submitted, c.id", params)
        return [_case_of(LedgerRecord(*row)) for row in rows]

    def responses(self, case_id: str | None = None) -> dict[str, list[Response]]:
        """case id -> its responses, oldest first (by date, then by when recorded)."""
        return self._appended("responses", "responded", Response, case_id)

    def disputes(self, case_id: str | None = None) -> dict[str, list[Dispute]]:
        return self._appended("disputes", "raised", Dispute, case_id)

    def _appended(self, table: str, date_column: str, cls, case_id: str | None) -> dict:
        clause, params = ("WHERE t.case_id = ? ", (case_id,)) if case_id else ("", ())
        out: dict[str, list] = {}
        with self.db.transaction() as tx:
            for row in tx.stream(f"SELECT {_LEDGER_COLUMNS} FROM {table} t JOIN ledger l ON "
                                 f"l.seq = t.seq {clause}ORDER BY t.case_id, t.{date_column}, "
                                 "t.seq", params):
                record = LedgerRecord(*row)
                out.setdefault(record.case_id, []).append(
                    cls.from_body(record.data(), record.case_id, record.seq, record.recorded_at))
        return out

    def counts(self) -> dict[str, int]:
        """How many records of each kind the ledger holds."""
        with self.db.transaction() as tx:
            found = dict(tx.execute("SELECT kind, COUNT(*) FROM ledger GROUP BY kind"))
        return {kind: found.get(kind, 0) for kind in _INDEXES}

    def record(self, seq: int) -> LedgerRecord | None:
        with self.db.transaction() as tx:
            rows = tx.execute(f"SELECT {_LEDGER_COLUMNS} FROM ledger l WHERE l.seq = ?", (seq,))
        return LedgerRecord(*rows[0]) if rows else None

    def head(self) -> LedgerRecord | None:
        with self.db.transaction() as tx:
            rows = tx.execute(f"SELECT {_LEDGER_COLUMNS} FROM ledger l ORDER BY l.seq DESC LIMIT 1")
        return LedgerRecord(*rows[0]) if rows else None

    def verify(self) -> Verification:
        """Recompute the hash chain, and check every indexed row against its record."""
        with self.db.transaction() as tx:
            count, head, broken = check_chain(
                LedgerRecord(*row) for row in
                tx.stream(f"SELECT {_LEDGER_COLUMNS} FROM ledger l ORDER BY l.seq"))
            problems = [broken] if broken else []
            for kind, (table, columns, row_of) in _INDEXES.items():
                problems.extend(_index_problems(tx, kind, table, columns, row_of))
        return Verification(count, head, tuple(problems))


def _index_problems(tx, kind: str, table: str, columns: tuple[str, ...], row_of) -> list[ChainBreak]:
    out = []
    selected = ", ".join(f"t.{c}" for c in columns)
    for row in tx.stream(f"SELECT {selected}, l.kind, l.case_id, l.body FROM {table} t "
                         "LEFT JOIN ledger l ON l.seq = t.seq ORDER BY t.seq"):
        stored, (record_kind, case_id, body) = tuple(row[:len(columns)]), row[len(columns):]
        seq = stored[columns.index("seq")]
        if record_kind != kind:
            out.append(ChainBreak(seq, f"the {table} table has a row for it, but the ledger "
                                  f"holds no {kind} there"))
            continue
        try:
            expected = row_of(case_id, seq, json.loads(body))
        except (ValueError, KeyError, TypeError):
            continue  # the chain check reports a body that is not what was hashed
        if stored != expected:
            changed = [c for c, a, b in zip(columns, stored, expected, strict=True) if a != b]
            out.append(ChainBreak(seq, f"the {table} table's {', '.join(changed)} "
                                  f"{'differs' if len(changed) == 1 else 'differ'} from the "
                                  "ledger record"))
    for (seq,) in tx.stream(f"SELECT l.seq FROM ledger l LEFT JOIN {table} t ON t.seq = l.seq "
                            "WHERE l.kind = ? AND t.seq IS NULL ORDER BY l.seq", (kind,)):
        out.append(ChainBreak(seq, f"the {kind} is missing from the {table} table"))
    return out


def copy_store(source: CaseStore, target: CaseStore, batch: int = 1000) -> int:
    """Copy every record of `source` into `target`, which must hold none, as they are:
    the same sequence numbers, times, bodies and hashes, so that the copy's chain is the
    source's and its head the same. The copy is one write transaction on the target (all
    or nothing) against one snapshot of the source. Returns the number of ledger records
    copied; raises `StoreError` A010 if the target holds any."""
    copied = [("ledger", tuple(c.removeprefix("l.") for c in _LEDGER_COLUMNS.split(", ")))]
    copied += [(table, columns) for table, columns, _ in _INDEXES.values()]
    with source.db.transaction() as reading, target.db.transaction(write=True) as writing:
        held = writing.execute("SELECT COUNT(*) FROM ledger")[0][0]
        if held:
            raise StoreError(f"the target store already holds {held} records: nothing copied",
                             "A010")
        count = 0
        for table, columns in copied:  # the ledger first: the other tables refer to it
            names = ", ".join(columns)
            insert = (f"INSERT INTO {table} ({names}) "
                      f"VALUES ({', '.join('?' * len(columns))})")
            rows = reading.stream(f"SELECT {names} FROM {table} ORDER BY seq")
            while chunk := list(itertools.islice(rows, batch)):
                writing.executemany(insert, chunk)
                if table == "ledger":
                    count += len(chunk)
    return count


def _case_of(record: LedgerRecord) -> Case:
    return Case.from_body(record.data(), record.case_id, record.seq, record.recorded_at)
