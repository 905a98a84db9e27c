"""Request latency as a Prometheus histogram, as a service would expose it:
`http_request_duration_seconds{handler, method}` from the request reaching
Django to its response (server side: no network, no client). With gunicorn's
several worker processes, prometheus-client's multiprocess mode
(PROMETHEUS_MULTIPROC_DIR) collects them; testbed/metrics_exporter.py serves
them on a port of its own."""
import time

from prometheus_client import Histogram

BUCKETS = (0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from the request reaching Django to its response, by handler.",
    ["handler", "method"],
    buckets=BUCKETS,
)


class LatencyMiddleware:
    """Observes every API request under the name Locust gives it (the URL
    pattern's name; buy and sell for offers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        if match is not None and match.url_name not in (None, "health"):
            handler = match.kwargs.get("kind") or match.url_name
            LATENCY.labels(handler=handler, method=request.method).observe(time.perf_counter() - start)
        return response
