"""Progress on a terminal, for the commands that can run for more than a few seconds.

A command wraps what it goes through in `track`: on a terminal a bar (tqdm) counts it on
stderr and is cleared at the end; when stderr is not a terminal (a pipe, a log, CI)
nothing is written and tqdm is not even imported. Passes never call this: they take a
`track` argument, and the command line passes this one.

`TAKEDOWN_PROGRESS=never` turns the bar off on a terminal too.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Sized
from typing import TypeVar

__all__ = ["track", "is_shown"]

Item = TypeVar("Item")


def is_shown() -> bool:
    """Whether progress is shown: stderr is a terminal and it is not turned off."""
    if os.environ.get("TAKEDOWN_PROGRESS", "").lower() in ("never", "0", "no", "off"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # stderr replaced or closed
        return False


def track(items: Iterable[Item], what: str = "", total: int | None = None,
          unit: str = "it") -> Iterator[Item] | Iterable[Item]:
    """`items` as they are, counted on a bar on stderr when `is_shown()`."""
    if not is_shown():
        return items
    from tqdm import tqdm

    if total is None and isinstance(items, Sized):
        total = len(items)
    # A terminal that reports no size (0 by 0, as a fresh pseudo-terminal does) would get
    # no bar at all from tqdm, which hides bars below the last row: it is taken as 80 by 24.
    size = shutil.get_terminal_size((80, 24))
    return tqdm(items, desc=what or None, total=total, unit=unit, file=sys.stderr,
                leave=False, ncols=size.columns or 80, nrows=size.lines or 24,
                mininterval=0.2)
