"""prometheus-client's multiprocess mode: every process of a machine (gunicorn's workers, Celery's children)
writes its figures to files in METRICS_DIR, and /metrics adds them up.

``prepare`` runs in the process that starts the others, before any of them imports prometheus-client:
``manage.py serve``, gunicorn's master (config/gunicorn.conf.py) and the Celery worker's main process
(config/celery.py); config/wsgi.py calls it too (without cleaning), so that a web server started without
gunicorn's config still adds its workers up. It makes the directory, removes the files of processes that are gone (an earlier run's:
counters start again with the service, as a single process's would) and sets PROMETHEUS_MULTIPROC_DIR for the
children. ``process_exited`` is gunicorn's ``child_exit`` hook (and Celery's child shutdown).
"""

import os
import re
from pathlib import Path

import psutil
from django.conf import settings

_FILE = re.compile(r"_(\d+)\.db$")


def prepare(*, clean: bool = True) -> Path | None:
    """METRICS_DIR ready for this process and its children; None (nothing done) when metrics are off.
    ``clean``: remove the files of processes that are gone (a starter's job, not a worker's: a worker that
    replaces a dead one must not take the dead one's counts out of the sums)."""
    if not settings.METRICS_ENABLED:
        return None
    directory = Path(settings.METRICS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    if clean:
        for path in directory.glob("*.db"):
            match = _FILE.search(path.name)
            if match and not psutil.pid_exists(int(match.group(1))):
                path.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def process_exited(pid: int) -> None:
    """A child is gone: its live gauges stop counting (its counters and histograms stay in the sums)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
