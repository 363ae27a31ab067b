"""Calibration: what the platforms' recorded responses say about our likelihoods.

The rule-based likelihood is a noisy-OR of the confidences rule authors declared
(docs/decisions.md). Once responses are recorded, each deciding rule's confidence and
each platform's acceptance can be estimated from them (docs/audit.md gives the method):

- an observation is a closed case (its latest response is final), accepted when the
  platform took any action, which is what the likelihood predicts;
- a case's deciding rule is, of the action rules that hold, the one with the highest
  declared confidence: the likelihood rests mostly on it;
- for each deciding rule, a Beta-Binomial update: the prior Beta(k·c, k·(1-c)) is
  centred on the declared confidence c and worth k = PRIOR_STRENGTH cases, and each
  observation adds one to the accepted or rejected side; for each platform the same,
  centred on the mean rule-based likelihood of its cases;
- a decision's calibrated likelihood moves its odds by as much as the recorded outcomes
  moved its group's odds (its deciding rule's if that has observations, else its
  platform's): logit(calibrated) = logit(L) + logit(posterior mean) - logit(prior mean).

Brier scores and a reliability table say how good the likelihoods were; the calibrated
Brier score is computed leave-one-out (each case calibrated from the others only), so
that it does not flatter the method.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from engine.audit.records import ACTED, Case, Response, latest
from engine.audit.store import open_store
from engine.decision import ACTION_VERDICTS

__all__ = ["PRIOR_STRENGTH", "Observation", "Estimate", "Calibration", "deciding_rule",
           "observe", "beta_interval", "StoreCalibration", "store_calibration"]

PRIOR_STRENGTH = 10.0  # the declared confidence is worth this many recorded cases
INTERVAL = 0.9
_EPSILON = 1e-3  # likelihoods are kept within [ε, 1-ε] on the log-odds scale


def deciding_rule(decision: Mapping) -> tuple[str, float] | None:
    """The action rule the decision's likelihood rests on most, as (key, confidence)."""
    best = None
    for reason in decision.get("reasons", []):
        if reason["verdict"] in ACTION_VERDICTS and (best is None or
                                                     reason["confidence"] > best[1]):
            best = (f"{reason['ruleset']}/{reason['rule']}", float(reason["confidence"]))
    return best


@dataclass(frozen=True, slots=True)
class Observation:
    case_id: str
    platform: str
    likelihood: float
    is_accepted: bool
    rule: str | None
    confidence: float | None


def observe(cases: Iterable[Case],
            responses: Mapping[str, Sequence[Response]]) -> list[Observation]:
    """The closed cases, as calibration sees them."""
    out = []
    for case in cases:
        response = latest(responses.get(case.id))
        if response is None or not response.is_final:
            continue
        rule = deciding_rule(case.decision)
        out.append(Observation(case.id, case.platform, case.likelihood,
                               response.outcome in ACTED, rule[0] if rule else None,
                               rule[1] if rule else None))
    return out


@dataclass(frozen=True, slots=True)
class Estimate:
    group: str
    kind: str  # "rule" or "platform"
    cases: int
    accepted: int
    prior_mean: float
    posterior_mean: float
    low: float  # the 90% credible interval
    high: float

    def as_json(self) -> dict:
        return asdict(self)


def _estimate(group: str, kind: str, cases: int, accepted: int, prior_mean: float,
              strength: float) -> Estimate:
    # A declared likelihood of exactly 0 or 1 with no outcome against it would give a
    # Beta of parameter 0, which has no interval: the prior is kept just inside (0, 1).
    alpha = strength * _clip(prior_mean) + accepted
    beta = strength * (1.0 - _clip(prior_mean)) + cases - accepted
    low, high = beta_interval(alpha, beta, INTERVAL)
    return Estimate(group, kind, cases, accepted, round(prior_mean, 4),
                    round(alpha / (alpha + beta), 4), round(low, 4), round(high, 4))


def _clip(p: float) -> float:
    return min(max(p, _EPSILON), 1.0 - _EPSILON)


def _logit(p: float) -> float:
    p = _clip(p)
    return math.log(p / (1.0 - p))


def _shifted(likelihood: float, estimate: Estimate) -> float:
    shift = _logit(estimate.posterior_mean) - _logit(estimate.prior_mean)
    return round(1.0 / (1.0 + math.exp(-(_logit(likelihood) + shift))), 4)


class _Totals:
    """Sums per group, from which an estimate is made with or without one case."""

    def __init__(self):
        self.cases: dict[str, int] = {}
        self.accepted: dict[str, int] = {}
        self.prior: dict[str, float] = {}

    def add(self, group: str, accepted: bool, prior: float) -> None:
        self.cases[group] = self.cases.get(group, 0) + 1
        self.accepted[group] = self.accepted.get(group, 0) + int(accepted)
        self.prior[group] = self.prior.get(group, 0.0) + prior

    def estimate(self, group: str, kind: str, strength: float,
                 leave_out: tuple[bool, float] | None = None) -> Estimate | None:
        cases, accepted, prior = (self.cases.get(group, 0), self.accepted.get(group, 0),
                                  self.prior.get(group, 0.0))
        if leave_out is not None:
            cases, accepted, prior = cases - 1, accepted - int(leave_out[0]), prior - leave_out[1]
        if cases <= 0:
            return None
        return _estimate(group, kind, cases, accepted, prior / cases, strength)


class Calibration:
    """Estimates per deciding rule and per platform from recorded outcomes."""

    def __init__(self, observations: Iterable[Observation], strength: float = PRIOR_STRENGTH):
        self.observations = list(observations)
        self.strength = strength
        self._rules, self._platforms = _Totals(), _Totals()
        for o in self.observations:
            if o.rule is not None:
                self._rules.add(o.rule, o.is_accepted, o.confidence)
            self._platforms.add(o.platform, o.is_accepted, o.likelihood)

    def rule_estimates(self) -> list[Estimate]:
        return sorted((self._rules.estimate(g, "rule", self.strength) for g in self._rules.cases),
                      key=lambda e: (-e.cases, e.group))

    def platform_estimates(self) -> list[Estimate]:
        return sorted((self._platforms.estimate(g, "platform", self.strength)
                       for g in self._platforms.cases), key=lambda e: (-e.cases, e.group))

    def _basis(self, platform: str, rule: str | None,
               leave_out: Observation | None = None) -> Estimate | None:
        """The estimate a case is calibrated by; `leave_out` is that case itself, when
        it must not count towards its own calibration."""
        if rule is not None:
            found = self._rules.estimate(rule, "rule", self.strength, None if leave_out is None
                                         else (leave_out.is_accepted, leave_out.confidence))
            if found is not None:
                return found
        return self._platforms.estimate(platform, "platform", self.strength, None
                                        if leave_out is None
                                        else (leave_out.is_accepted, leave_out.likelihood))

    def calibrate(self, decision: Mapping) -> dict | None:
        """The calibrated likelihood of a decision (`Decision.as_json()`), with what it
        rests on; None when no recorded outcome bears on it."""
        rule = deciding_rule(decision)
        basis = self._basis(decision["platform"], rule[0] if rule else None)
        if basis is None:
            return None
        likelihood = float(decision["likelihood"])
        return {"likelihood": _shifted(likelihood, basis), "rule_based": likelihood,
                "basis": basis.as_json()}

    # How good the likelihoods were

    def brier(self) -> float | None:
        if not self.observations:
            return None
        return round(sum((o.likelihood - o.is_accepted) ** 2 for o in self.observations)
                     / len(self.observations), 4)

    def brier_calibrated(self) -> float | None:
        """Leave-one-out: each case is calibrated from the others only."""
        if not self.observations:
            return None
        total = 0.0
        for o in self.observations:
            basis = self._basis(o.platform, o.rule, leave_out=o)
            p = _shifted(o.likelihood, basis) if basis else o.likelihood
            total += (p - o.is_accepted) ** 2
        return round(total / len(self.observations), 4)

    def reliability(self, bins: int = 10) -> list[dict]:
        """For each tenth of the likelihood scale that has cases: how many, the mean
        likelihood given, and how often the platform did act."""
        rows: dict[int, list[Observation]] = {}
        for o in self.observations:
            rows.setdefault(min(int(o.likelihood * bins), bins - 1), []).append(o)
        out = []
        for index in sorted(rows):
            group = rows[index]
            out.append({"low": index / bins, "high": (index + 1) / bins, "cases": len(group),
                        "predicted": round(sum(o.likelihood for o in group) / len(group), 4),
                        "observed": round(sum(o.is_accepted for o in group) / len(group), 4)})
        return out


# The Beta distribution's quantiles, for credible intervals

def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def _beta_cdf(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _beta_quantile(a: float, b: float, q: float) -> float:
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2.0
        if _beta_cdf(a, b, mid) < q:
            low = mid
        else:
            high = mid
    return (low + high) / 2.0


def beta_interval(a: float, b: float, mass: float = INTERVAL) -> tuple[float, float]:
    """The central credible interval holding `mass` of Beta(a, b)."""
    tail = (1.0 - mass) / 2.0
    return _beta_quantile(a, b, tail), _beta_quantile(a, b, 1.0 - tail)


# `takedown check --db`: the calibrated likelihood beside the rule-based one

class StoreCalibration:
    """What the responses recorded in a case store say about decisions: the fields
    and the line a decision gains beside its rule-based likelihood."""

    def __init__(self, calibration: Calibration):
        self.calibration = calibration

    def fields(self, document: Mapping) -> dict:
        """The fields `takedown check --format json --db` adds to a decision."""
        found = self.calibration.calibrate(document)
        return {"calibrated_likelihood": found["likelihood"] if found else None,
                "calibration": found["basis"] if found else None}

    def annotate(self, text: str, document: Mapping, markdown: bool = False) -> str:
        """The rendered decision with a line for the calibrated likelihood, under the
        rule-based one."""
        found = self.calibration.calibrate(document)
        label = "**Calibrated likelihood**" if markdown else "Calibrated likelihood"
        if found is None:
            line = f"{label}: none yet (no recorded response bears on this request)"
        else:
            basis = found["basis"]
            line = (f"{label}: {round(found['likelihood'] * 100)}% (from "
                    f"{basis['cases']} recorded responses for {basis['kind']} {basis['group']}, "
                    f"{basis['accepted']} acted on; estimate {round(basis['posterior_mean'] * 100)}%"
                    f" against {round(basis['prior_mean'] * 100)}% declared)")
        lines = text.split("\n")
        at = next((i + 1 for i, x in enumerate(lines) if "Likelihood of acceptance" in x),
                  len(lines))
        return "\n".join(lines[:at] + [line] + lines[at:])


def store_calibration(db: str) -> StoreCalibration:
    """The calibration of the case store at `db` (a path or URL); raises the store's
    `StoreError` when it cannot be opened."""
    with open_store(db, create=False) as store:
        return StoreCalibration(Calibration(observe(store.cases(), store.responses())))
