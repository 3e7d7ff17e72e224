"""Operators' metrics at /metrics, in Prometheus' text format (docs/metrics.md).

The facade the apps use: ``Counter`` / ``Histogram`` declare a metric where it is counted (created on first use, so
that a process has chosen prometheus-client's multiprocess mode before: ``multiprocess.prepare``), and
``register_collector`` adds figures read at scrape time (a higher app's tables: webhooks). This package reads
the job table and the broker itself (``collectors``), times every request (``http.MetricsMiddleware``) and
serves the page (``views.metrics``).
"""

from core.metrics.instruments import PREFIX, Counter, Histogram, register_collector

__all__ = ["PREFIX", "Counter", "Histogram", "register_collector"]
