"""Calibration: Beta-Binomial estimates from recorded outcomes, the calibrated likelihood
they give a decision, and how good the likelihoods were."""

import math

import pytest

from engine.audit.calibration import (
    Calibration,
    Observation,
    beta_interval,
    deciding_rule,
    observe,
)
from engine.audit.records import Response
from engine.audit.store import open_store
from tests.audit.support import a_case, reason

RULE = "meta.human-exploitation/smuggling-offer"


def _observations(accepted: int, rejected: int, likelihood: float = 0.9,
                  platform: str = "facebook", rule: str | None = RULE):
    return [Observation(f"C-{i}", platform, likelihood, i < accepted, rule,
                        0.9 if rule else None) for i in range(accepted + rejected)]


def test_beta_intervals_match_closed_forms():
    low, high = beta_interval(9, 1, 0.9)  # the CDF of Beta(9, 1) is x^9
    assert low == pytest.approx(0.05 ** (1 / 9), abs=1e-6)
    assert high == pytest.approx(0.95 ** (1 / 9), abs=1e-6)
    assert beta_interval(1, 1, 0.9) == pytest.approx((0.05, 0.95), abs=1e-6)


def test_the_deciding_rule_is_the_most_confident_action_rule():
    decision = {"reasons": [reason("a", confidence=0.6), reason("b", confidence=0.9),
                            reason("c", "deficient", 0.99)]}
    assert deciding_rule(decision) == ("meta.human-exploitation/b", 0.9)
    assert deciding_rule({"reasons": []}) is None


def test_the_estimate_starts_from_the_declared_confidence():
    calibration = Calibration(_observations(accepted=3, rejected=7))
    [estimate] = calibration.rule_estimates()
    # Beta(10 x 0.9 + 3, 10 x 0.1 + 7) = Beta(12, 8)
    assert (estimate.cases, estimate.accepted, estimate.prior_mean) == (10, 3, 0.9)
    assert estimate.posterior_mean == pytest.approx(12 / 20)
    assert estimate.low < 12 / 20 < estimate.high
    decision = {"platform": "facebook", "likelihood": 0.9, "reasons": [reason()]}
    found = calibration.calibrate(decision)
    assert found["likelihood"] == pytest.approx(0.6, abs=1e-4)  # L = c: the estimate itself
    assert found["rule_based"] == 0.9 and found["basis"]["group"] == RULE


def test_the_shift_is_on_the_log_odds():
    calibration = Calibration(_observations(accepted=3, rejected=7))
    found = calibration.calibrate({"platform": "facebook", "likelihood": 0.97,
                                   "reasons": [reason()]})
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    expected = logit(0.97) + logit(0.6) - logit(0.9)
    assert found["likelihood"] == pytest.approx(1 / (1 + math.exp(-expected)), abs=1e-4)


def test_without_a_rule_the_platform_calibrates():
    calibration = Calibration(_observations(1, 4, likelihood=0.5, rule=None))
    found = calibration.calibrate({"platform": "facebook", "likelihood": 0.5, "reasons": []})
    assert found["basis"]["kind"] == "platform" and found["likelihood"] < 0.5
    assert calibration.calibrate({"platform": "x", "likelihood": 0.5, "reasons": []}) is None


def test_scores_and_reliability():
    observations = _observations(8, 2) + _observations(0, 5, likelihood=0.02, rule=None)
    calibration = Calibration(observations)
    expected = (8 * 0.1 ** 2 + 2 * 0.9 ** 2 + 5 * 0.02 ** 2) / 15
    assert calibration.brier() == pytest.approx(expected, abs=1e-4)
    assert calibration.reliability() == [
        {"low": 0.0, "high": 0.1, "cases": 5, "predicted": 0.02, "observed": 0.0},
        {"low": 0.9, "high": 1.0, "cases": 10, "predicted": 0.9, "observed": 0.8}]
    assert 0 < calibration.brier_calibrated() < 1
    assert Calibration([]).brier() is None


def test_a_case_never_calibrates_itself():
    """Leave-one-out: one rejection among one case leaves nothing to learn from."""
    calibration = Calibration(_observations(0, 1))
    assert calibration.brier_calibrated() == calibration.brier()


def test_observations_are_the_closed_cases(tmp_path):
    with open_store(tmp_path / "cases.db") as store:
        acted, _ = store.record_case(a_case("R-1", reasons=[reason()]))
        rejected, _ = store.record_case(a_case("R-2", likelihood=0.02))
        waiting, _ = store.record_case(a_case("R-3"))
        store.add([Response(acted.id, "2024-02-01", "posts_removed"),
                   Response(rejected.id, "2024-02-01", "no_action"),
                   Response(waiting.id, "2024-02-01", "pending")])
        found = observe(store.cases(), store.responses())
    assert [(o.case_id, o.is_accepted, o.rule) for o in found] == [
        (acted.id, True, RULE), (rejected.id, False, None)]
