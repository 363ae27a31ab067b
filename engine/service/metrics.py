"""Prometheus metrics, served in the text format at /metrics.

With several workers, each process writes its values to files in
PROMETHEUS_MULTIPROC_DIR (set by `takedown serve` before the workers start) and /metrics
adds them up, whichever worker answers. Labels are few and bounded: route templates,
methods, status codes, outcomes and diagnostic codes, never anything from a request.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["Metrics", "CONTENT_TYPE"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The service's metrics, in a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        r = self.registry = CollectorRegistry()
        self.requests = Counter("takedown_http_requests", "HTTP requests answered.",
                                ["route", "method", "status"], registry=r)
        self.duration = Histogram("takedown_http_request_duration_seconds",
                                  "Time from the request's start to the end of its response.",
                                  ["route"], buckets=_SECONDS, registry=r)
        self.in_flight = Gauge("takedown_http_requests_in_flight",
                               "Requests being answered (once their body is in).", registry=r,
                               multiprocess_mode="livesum")
        self.shed = Counter("takedown_http_requests_shed",
                            "Requests refused with 429 because they waited longer than "
                            "max_queue_seconds or the worker had max_in_flight requests in "
                            "progress already (not counted in the others).",
                            registry=r)
        self.decisions = Counter("takedown_decisions", "Decisions made, by outcome.",
                                 ["outcome"], registry=r)
        self.rejected = Counter("takedown_evidence_rejected",
                                "Evidence documents refused, by diagnostic code.", ["code"],
                                registry=r)
        self.reloads = Counter("takedown_rules_reloads",
                               "Rule-set reloads: loaded, unchanged or rejected.", ["result"],
                               registry=r)
        self.generation = Gauge("takedown_rules_generation",
                                "1 for the rule-set generation in service.", ["generation"],
                                registry=r, multiprocess_mode="liveall")
        self._generation: str | None = None

    def serving(self, generation: str) -> None:
        if generation == self._generation:
            return
        if self._generation is not None:
            self.generation.labels(self._generation).set(0)
        self.generation.labels(generation).set(1)
        self._generation = generation

    def render(self) -> bytes:
        if self.multiprocess_dir:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiprocess_dir)
            return generate_latest(registry)
        return generate_latest(self.registry)
