"""Auditing disputed rejections: a tamper-evident store of the requests we submitted and
what the platforms answered, replayed as of each request's date to show, clause by
clause, whether a response is consistent with the platform's own published policy.

The package, from the bottom up:

- `records`: cases, responses and disputes, as values;
- `ledger`: the hash chain; `database`: connections (a SQLite file, or a shared
  PostgreSQL database, by URL);
  `migrations`: the schema; `store`: the repository every command goes through;
- `redaction`: masking personal data before storage; `pointers`: JSON pointers into
  stored evidence; `intake`: evidence to a case; `sheet`: the responses spreadsheets
  teams keep; `statements`: statements of reasons from the EU DSA Transparency Database;
- `consistency`: replay and the finding for one case; `overview`: many cases;
  `rejections`: rejections by the reason the platform gave, and the rules behind each;
  `calibration`: what recorded outcomes say about our likelihoods;
- `blocks`, `reports`, `charts`, `render`: the reports in plain text, Markdown, HTML
  and JSON.

A library: nothing here parses arguments or prints; the `takedown audit` commands are
engine/cli/audit.py.

How to use it: docs/audit.md.
"""
