import gc
import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("fynd_customers")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect  # the solo pool's process, and prefork's parent before it forks more children
@worker_process_init.connect  # each prefork child
def _freeze_startup_heap(**kwargs):
    # Jobs allocate millions of short-lived objects (CSV rows, pickled batches); with Django's startup
    # heap moved out of the collector's generations, each collection stops rescanning it (as gunicorn's
    # post_worker_init does for the web workers).
    gc.freeze()
