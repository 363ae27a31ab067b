"""Lets the tests import their shared strategies as `tests.rules.strategies` however
pytest is started: `python -m pytest` puts the project root on the path, a bare
`pytest` does not."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
