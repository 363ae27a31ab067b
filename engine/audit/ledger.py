"""The hash chain that makes the case store tamper-evident.

Every write to the store appends one ledger record: its sequence number, kind (`case`,
`response` or `dispute`), the case it concerns, when it was recorded, its body (canonical
JSON) and the hash of the record before it. A record's hash covers all of these, so
changing, removing or reordering any record breaks every link after it, and
`check_chain` names the first record where the chain no longer holds.

The chain alone cannot show that records were cut off the end; keep the head hash
(`takedown audit verify` prints it, every case report quotes it) to detect that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["GENESIS", "KINDS", "LedgerRecord", "ChainBreak", "canonical", "record_hash",
           "check_chain"]

GENESIS = "0" * 64  # the "previous hash" of the first record
KINDS = ("case", "response", "dispute")


def canonical(value: Any) -> str:
    """The one JSON text of a value that the hashes are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def record_hash(prev_hash: str, seq: int, kind: str, case_id: str, recorded_at: str,
                body: str) -> str:
    """sha256 over the record's header (as canonical JSON), a newline, and its body text."""
    header = canonical([prev_hash, seq, kind, case_id, recorded_at])
    return hashlib.sha256(f"{header}\n{body}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    seq: int
    kind: str
    case_id: str
    recorded_at: str
    body: str  # canonical JSON, exactly as hashed
    prev_hash: str
    hash: str

    def data(self) -> dict:
        return json.loads(self.body)

    def computed_hash(self) -> str:
        return record_hash(self.prev_hash, self.seq, self.kind, self.case_id, self.recorded_at,
                           self.body)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int  # the first record that does not hold
    problem: str

    def __str__(self) -> str:
        return f"record {self.seq}: {self.problem}"


def check_chain(records: Iterable[LedgerRecord]) -> tuple[int, LedgerRecord | None, ChainBreak | None]:
    """Walk the records in order of `seq`: (how many, the last one, the first break)."""
    expected_seq, prev_hash, last, count = 1, GENESIS, None, 0
    for record in records:
        count += 1
        if record.seq != expected_seq:
            missing = (f"record {expected_seq} is missing" if record.seq > expected_seq
                       else "its number is repeated or out of order")
            return count, last, ChainBreak(record.seq, f"it follows record {expected_seq - 1}: "
                                           f"{missing}")
        if record.prev_hash != prev_hash:
            return count, last, ChainBreak(
                record.seq, f"it names {record.prev_hash[:12]}… as the previous record's hash, "
                f"but the previous record's hash is {prev_hash[:12]}…")
        computed = record.computed_hash()
        if computed != record.hash:
            return count, last, ChainBreak(
                record.seq, f"its contents do not match its hash (stored {record.hash[:12]}…, "
                f"computed {computed[:12]}…): the {record.kind} was changed after it was "
                "recorded")
        if record.kind not in KINDS:
            return count, last, ChainBreak(record.seq, f"unknown kind of record `{record.kind}`")
        try:
            json.loads(record.body)
        except ValueError:
            return count, last, ChainBreak(record.seq, "its body is not JSON")
        expected_seq, prev_hash, last = record.seq + 1, record.hash, record
    return count, last, None
