"""Weighings that share their branches (`Evaluations`) give what weighing afresh gives.

The missing-facts search weighs every what-if of a request over branches it keeps, and
reuses a branch's rule results for the facts no rule names. Both are only worth having
if the weighing is the same, to the last bit, as one that evaluates every branch again:
these tests weigh the what-ifs of the fixtures both ways and compare the results whole.
"""

import datetime
import json
from pathlib import Path

import pytest

from engine import Engine, parse_evidence
from engine.explanation import WHAT_IF_EVALUATIONS, _conditioning, _groups
from engine.probability import Evaluations, field_type, is_weighable, weigh

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _weighed(engine: Engine):
    """The fixtures whose evidence leaves the outcome open, with their runs and weighing."""
    for path in sorted(FIXTURES.glob("*/*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or "target" not in document:
            continue
        evidence, _ = parse_evidence(json.dumps(document))
        assert evidence is not None
        runs, day, platform = engine.run(evidence)
        weighing = engine.weigh(evidence, runs, day, platform)
        if weighing is not None:
            yield path.name, evidence, runs, day, platform, weighing


@pytest.fixture(scope="module")
def weighed(engine: Engine) -> list:
    return list(_weighed(engine))[:12]


def test_shared_what_ifs_weigh_as_fresh_ones(engine: Engine, weighed):
    compared = conditioning = 0
    for name, evidence, runs, day, platform, weighing in weighed:
        kept = Evaluations(engine, evidence, day, platform, runs)
        only_priors = set(_conditioning(evidence, runs, weighing))
        for pointers in _groups(evidence, runs, weighing).values():
            if not is_weighable(field_type(pointers[0])):
                continue
            for value in (True, False):
                assumed = [(p, value) for p in pointers]
                fresh = weigh(engine, evidence, day, platform, runs, assumed,
                              budget=WHAT_IF_EVALUATIONS)
                shared = weigh(engine, evidence, day, platform, runs, assumed,
                               budget=WHAT_IF_EVALUATIONS, evaluations=kept)
                assert shared == fresh, (name, assumed)
                compared += 1
                conditioning += bool(set(pointers) & only_priors)
    assert compared > 100 and conditioning > 20  # the comparison covers both kinds of fact


def test_a_field_counts_as_read_with_the_records_holding_it(engine: Engine, weighed):
    _, evidence, runs, _, _, _ = weighed[0]
    kept = Evaluations(engine, evidence, datetime.date(2024, 1, 1), evidence.platform, runs)
    # Rules name post.context.academic: that field is read, and so is any field below a
    # record a rule names whole; page.context.academic is a field of another record.
    assert kept.is_read("/target/posts/0/context/academic")
    assert not kept.is_read("/target/context/academic")
