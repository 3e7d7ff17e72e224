import gc
import os

from celery import Celery
from celery.beat import PersistentScheduler
from celery.signals import (beat_init, celeryd_init, task_postrun, task_prerun, worker_init, worker_process_init,
                            worker_process_shutdown, worker_ready)
from django.conf import settings
from django.db import close_old_connections

from config import servers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class SteadyScheduler(PersistentScheduler):
    """Celery beat's scheduler without its busy wait: the stock one sleeps until 10 ms before an entry is
    due and then spins (``adjust``'s drift makes the wait negative), about a thousand ticks a second;
    with the event log's twice-a-second numbering beat used 2.5 % of a CPU while idle. Here it sleeps
    until the entry is due (a tick a few milliseconds late is nothing at these intervals)."""

    def adjust(self, n, drift=0.0):
        return n


app = Celery("fynd_customers")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@celeryd_init.connect
def _prepare_metrics(**kwargs):
    # The worker's main process, before its children and before any module imports prometheus-client: they all
    # write their figures to METRICS_DIR, which /metrics adds up (docs/metrics.md). Nothing when metrics are off.
    from core.metrics import multiprocess

    multiprocess.prepare()


@worker_process_shutdown.connect
def _child_exited(pid=None, **kwargs):
    from core.metrics import multiprocess

    multiprocess.process_exited(pid or os.getpid())


@worker_init.connect
@beat_init.connect
def _start_embedded_servers(**kwargs):
    servers.start_embedded(settings)  # in the main process, before the pool: its handle lasts as long as the worker


@worker_init.connect  # the main process, before the pool's children: they inherit it
@beat_init.connect
def _yield_to_requests(**kwargs):
    if settings.WORKER_NICENESS:
        os.nice(settings.WORKER_NICENESS)  # after the embedded servers started: PostgreSQL and Redis keep theirs


@worker_ready.connect  # the solo pool's process, and prefork's parent before it forks more children
@worker_process_init.connect  # each prefork child
def _freeze_startup_heap(**kwargs):
    # Jobs allocate millions of short-lived objects (CSV rows, pickled batches); with Django's startup
    # heap moved out of the collector's generations, each collection stops rescanning it (as gunicorn's
    # post_worker_init does for the web workers).
    gc.freeze()


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(sender=None, **kwargs):
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # run inline by the caller (task.apply()): its connection and transaction are the caller's
    # Around each task what Django does around each request: a connection is closed when it is broken or
    # older than CONN_MAX_AGE (DB_CONN_MAX_AGE), else kept. Celery's own Django fixup would close every
    # connection before and after every task (settings.CELERY_DB_REUSE_MAX turns that off): beat's ticks
    # run several tasks a second, and each new connection costs PostgreSQL a new backend process.
    close_old_connections()
