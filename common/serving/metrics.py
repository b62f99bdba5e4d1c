"""Prometheus metrics: request counts and durations as they happen; gauges read from the runtime per scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from common.runtime import Runtime

disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series only double the output
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REQUESTS = Counter("simfn_requests", "Requests answered", ["function", "status", "error_type"])
DURATION = Histogram(
    "simfn_request_duration_seconds",
    "Time from request to response",
    ["function"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def observe(function: str, status: int, error_type: str | None, seconds: float) -> None:
    REQUESTS.labels(function, str(status), error_type or "").inc()
    DURATION.labels(function).observe(seconds)


class _RuntimeCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        admission = self.runtime.admission
        yield GaugeMetricFamily("simfn_in_flight", "Inferences running now", value=admission.in_flight)
        yield GaugeMetricFamily("simfn_queued", "Requests waiting for an inference slot", value=admission.queued)
        hits = CounterMetricFamily("simfn_text_cache_hits", "Texts answered from the cache", labels=["model"])
        misses = CounterMetricFamily("simfn_text_cache_misses", "Texts sent to the engine", labels=["model"])
        load = GaugeMetricFamily("simfn_model_load_seconds", "Time the model took to load", labels=["model"])
        for encoder in self.runtime.models.loaded():
            hits.add_metric([encoder.model_id], encoder.stats.hits)
            misses.add_metric([encoder.model_id], encoder.stats.misses)
            load.add_metric([encoder.model_id], encoder.load_seconds)
        yield from (hits, misses, load)


def render(runtime: Runtime) -> bytes:
    """The process's metrics (including prometheus-client's process_* figures) in the text format."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_RuntimeCollector(runtime))
    return generate_latest(REGISTRY) + generate_latest(scrape)
