"""gunicorn settings used by `manage.py serve` (and recommended for any deployment: -c config/gunicorn.conf.py)."""

import gc
import os

from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Behind a proxy (docs/proxy.md): X-Forwarded-Proto & co. are believed from these addresses only, the same
# list Django's side uses (core.api.proxy). Unix-socket peers are always trusted (only local processes).
def _trusted_proxies() -> str:
    # as Django reads them (192.0.2.7/24 -> 192.0.2.0/24, which gunicorn would refuse); one address as itself
    from core.api.proxy import parse_networks

    return ",".join(str(n.network_address) if n.num_addresses == 1 else str(n)
                    for n in parse_networks(tuple(settings.TRUSTED_PROXIES)))


forwarded_allow_ips = _trusted_proxies()


def _prepare_metrics():
    # /metrics adds up every worker's figures (prometheus-client's multiprocess mode): the directory is made,
    # the files of processes from earlier runs removed, and PROMETHEUS_MULTIPROC_DIR set before any worker
    # imports prometheus-client (docs/metrics.md). Nothing when metrics are off.
    from core.metrics import multiprocess

    multiprocess.prepare()


_prepare_metrics()


def post_worker_init(worker):
    # Django, DRF and the URL/schema machinery leave ~10^5 long-lived objects behind once loaded;
    # freezing them keeps the cyclic GC from walking them all on every full collection, which showed
    # up as ~90 ms pauses in the p99 of `make bench`.
    gc.freeze()


def child_exit(server, worker):
    from core.metrics import multiprocess

    multiprocess.process_exited(worker.pid)
