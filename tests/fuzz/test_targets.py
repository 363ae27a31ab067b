"""The fuzz targets, briefly, on every `make test`; `make fuzz` runs them for minutes.

- every input that ever crashed a target (tests/fuzz/crashes/TARGET/) is replayed;
- every target passes on a few of its seeds, as they are;
- every target passes on seeds mutated by hypothesis (bytes replaced, inserted, cut,
  or two seeds spliced): a few dozen inputs in all, not coverage-guided, to show that
  the targets and their seeds still work where atheris is not installed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import TARGETS

CRASHES = Path(__file__).parent / "crashes"
SEEDS_AS_THEY_ARE = 3  # per target
MUTATED = {"rule_file": 25, "expression": 100, "evidence": 50, "batch": 8, "responses_csv": 100}


@cache
def _seeds(name: str) -> tuple[bytes, ...]:
    target = TARGETS[name]
    return tuple(seed[:target.max_len] for seed in target.seeds())


def _crashes() -> list[Path]:
    return sorted(p for p in CRASHES.glob("*/*") if p.suffix != ".txt")


@pytest.mark.parametrize("path", _crashes(), ids=lambda p: f"{p.parent.name}/{p.name[:12]}")
def test_an_input_that_once_crashed_is_handled(path):
    TARGETS[path.parent.name].check(path.read_bytes())


@pytest.mark.parametrize("name", TARGETS)
def test_the_seeds_pass(name):
    seeds = _seeds(name)
    assert seeds, f"{name} has no seed corpus"
    for seed in seeds[:SEEDS_AS_THEY_ARE]:
        TARGETS[name].check(seed)


@st.composite
def _mutated(draw, name: str) -> bytes:
    seeds = _seeds(name)
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        match draw(st.sampled_from(("replace", "insert", "cut", "splice"))):
            case "replace" if at < len(data):
                data[at] = draw(st.integers(0, 255))
            case "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=8)
                                   | st.sampled_from((b"\x00", b"\xff\xfe", b"{", b"\n", b'"',
                                                      b"9" * 40, b"\xe2\x80\xae")))
            case "cut":
                del data[at:at + draw(st.integers(1, 64))]
            case "splice":
                other = draw(st.sampled_from(seeds))
                data[at:] = other[draw(st.integers(0, len(other))):]
    return bytes(data[:TARGETS[name].max_len])


@pytest.mark.parametrize("name", TARGETS)
def test_mutated_seeds_pass(name):
    @settings(max_examples=MUTATED[name], deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(_mutated(name))
    def run(data):
        TARGETS[name].check(data)

    run()
