"""Metrics declared at import, created on first use (prometheus-client chooses its multiprocess mode when it is
first imported: the entry points set PROMETHEUS_MULTIPROC_DIR before that, core.metrics.multiprocess)."""

from typing import Callable, Iterable

PREFIX = "customer_service_"

_collectors: list[Callable[[], Iterable]] = []


def register_collector(collect: Callable[[], Iterable]) -> None:
    """``collect()`` yields prometheus-client metric families, read at each scrape (AppConfig.ready of an app)."""
    if collect not in _collectors:
        _collectors.append(collect)


def registered_collectors() -> list[Callable[[], Iterable]]:
    return list(_collectors)


class _Lazy:
    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = (), **options):
        self.name = PREFIX + name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self.options = options
        self._metric = None
        self._children: dict = {}

    def _create(self):
        raise NotImplementedError

    def labels(self, *values):
        """The child of these label values (cached: no lock, no string conversion after the first time); the
        metric itself when it has no labels (``labels()``)."""
        child = self._children.get(values)
        if child is None:
            if self._metric is None:
                self._metric = self._create()
            child = self._children[values] = (self._metric.labels(*(str(v) for v in values)) if self.labelnames
                                              else self._metric)
        return child


class Counter(_Lazy):
    def _create(self):
        import prometheus_client

        return prometheus_client.Counter(self.name, self.documentation, self.labelnames, **self.options)


class Histogram(_Lazy):
    def _create(self):
        import prometheus_client

        return prometheus_client.Histogram(self.name, self.documentation, self.labelnames, **self.options)
