import gc
import os

from celery import Celery
from celery.signals import beat_init, worker_init, worker_process_init, worker_ready
from django.conf import settings

from config import servers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("fynd_customers")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _start_embedded_servers(**kwargs):
    servers.start_embedded(settings)  # in the main process, before the pool: its handle lasts as long as the worker


@worker_ready.connect  # the solo pool's process, and prefork's parent before it forks more children
@worker_process_init.connect  # each prefork child
def _freeze_startup_heap(**kwargs):
    # Jobs allocate millions of short-lived objects (CSV rows, pickled batches); with Django's startup
    # heap moved out of the collector's generations, each collection stops rescanning it (as gunicorn's
    # post_worker_init does for the web workers).
    gc.freeze()
