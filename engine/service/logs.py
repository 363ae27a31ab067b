"""Logs: one JSON object per line, for the service's own records and uvicorn's.

What may be logged is decided where a record is made: request records carry ids,
routes (the template, never the path or the query), statuses, sizes, timings, the name
of the API key and the rule-set generation. Evidence, rule-set text, client addresses
and keys are never handed to a logger. An exception is logged by its type and where it
was raised, without its message, which could quote the input.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import traceback

__all__ = ["LOGGER", "JsonFormatter", "log_config", "log", "log_reload"]

LOGGER = "takedown.service"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": os.getpid(),
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            out["error"] = {
                "type": type(error).__qualname__,
                "at": [f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}"
                       for f in traceback.extract_tb(error.__traceback__)[-6:]],
            }
        return json.dumps(out, ensure_ascii=False, default=str)


def log(level: int, message: str, **fields) -> None:
    logging.getLogger(LOGGER).log(level, message, extra={"fields": fields})


def log_reload(result, trigger: str) -> None:
    """A rule-set reload (a `generations.ReloadResult`), with its diagnostics: rule
    files are the service's own, not a client's."""
    log(logging.WARNING if result.outcome == "rejected" else logging.INFO, "rules reload",
        trigger=trigger, result=result.outcome, generation=result.serving.id,
        previous=result.previous.id if result.previous else None,
        diagnostics=[f"{d.location.file}:{d.location.line}:{d.location.column}: "
                     f"{d.severity}[{d.code}]: {d.message}" for d in result.diagnostics])


def log_config(level: str = "info") -> dict:
    """A `logging.config.dictConfig` for the service and uvicorn (whose access log is
    off: the service logs each request itself, with its id and timings)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json",
               "stream": "ext://sys.stderr"}
    loud = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"default": handler},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": loud, "propagate": False},
            "uvicorn.error": {"level": loud},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            LOGGER: {"handlers": ["default"], "level": loud, "propagate": False},
        },
    }
