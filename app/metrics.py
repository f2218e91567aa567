"""Prometheus metrics. Workers count pages, cases and stage durations where the work happens; the API reports the
database's view (cases by status, queue depth, failures) at each scrape, so every API process tells the same story.

Celery workers run in prefork processes: ``chartcheck worker`` sets PROMETHEUS_MULTIPROC_DIR before this module is
imported and serves the merged figures of all its processes (``serve_worker_metrics``)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from app.tables import CASE_STATUSES, Case

STAGE_SECONDS = Histogram("chartcheck_stage_seconds", "Seconds per processing stage of one document or case",
                          ["stage"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300))
PAGES = Counter("chartcheck_pages_processed_total", "Pages read (text layer or OCR)")
CASES = Counter("chartcheck_cases_processed_total", "Cases finished by this worker", ["outcome"])


def observe(message: tuple) -> None:
    """Record a ("timing", stage, seconds, pages) message from the processing code."""
    _, stage, seconds, pages = message
    STAGE_SECONDS.labels(stage).observe(seconds)
    if pages:
        PAGES.inc(pages)


class DatabaseCollector(Collector):
    def __init__(self, db, jobs) -> None:  # type: ignore[no-untyped-def]
        self.db = db
        self.jobs = jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.db.session() as session:
            counts = dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
            pages = session.scalar(select(func.coalesce(func.sum(Case.pages_done), 0)).where(Case.status == "done"))
        by_status = GaugeMetricFamily("chartcheck_cases", "Cases by status", labels=["status"])
        for status in CASE_STATUSES:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        yield GaugeMetricFamily("chartcheck_queue_depth", "Cases waiting for a worker", value=counts.get("queued", 0))
        yield GaugeMetricFamily("chartcheck_cases_failed", "Cases that failed", value=counts.get("failed", 0))
        yield GaugeMetricFamily("chartcheck_pages_done", "Pages of finished cases", value=pages or 0)
        depth = getattr(self.jobs, "broker_depth", None)
        if depth is not None:
            try:
                yield GaugeMetricFamily("chartcheck_broker_depth", "Messages waiting in the broker", value=depth())
            except Exception:  # noqa: BLE001 - the broker is down; the other figures still count
                pass


def api_registry(db, jobs) -> CollectorRegistry:  # type: ignore[no-untyped-def]
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(db, jobs))
    for collector in (STAGE_SECONDS, PAGES, CASES):  # the embedded workers' figures are recorded in the API process
        try:
            registry.register(collector)
        except ValueError:
            pass
    return registry


def render(registry: CollectorRegistry) -> tuple[bytes, str]:
    return generate_latest(registry), CONTENT_TYPE_LATEST


def serve_worker_metrics(port: int, host: str = "127.0.0.1") -> None:
    from prometheus_client import multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=host, registry=registry)
