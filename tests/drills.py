"""Drills: the reliability tests that have a short form, run by `make test` in seconds,
and a long form, run by `make drills` (or `make fuzz`) for minutes, through one code
path. The long form is chosen by the environment (`TAKEDOWN_DRILLS=long`), so that a
drill is an ordinary test everywhere else.

Each drill reports its figures: printed, and written as JSON to the folder named by
`TAKEDOWN_DRILL_OUT` when set (`make drills` writes them to out/drills/), for
docs/reliability.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["IS_LONG", "size", "report"]

IS_LONG = os.environ.get("TAKEDOWN_DRILLS") == "long"


def size(short, long):
    """The short figure in `make test`, the long one in a drill run."""
    return long if IS_LONG else short


def report(name: str, figures: dict) -> None:
    """Print a drill's figures and keep them for docs/reliability.md."""
    figures = {"drill": name, "form": "long" if IS_LONG else "short", **figures}
    print(f"\n[{name}] " + json.dumps(figures, ensure_ascii=False, default=str))
    folder = os.environ.get("TAKEDOWN_DRILL_OUT")
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        (path / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str) + "\n",
                                           encoding="utf-8")
