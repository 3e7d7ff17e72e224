"""gunicorn settings used by `manage.py serve` (and recommended for any deployment: -c config/gunicorn.conf.py)."""

import gc


def post_worker_init(worker):
    # Django, DRF and the URL/schema machinery leave ~10^5 long-lived objects behind once loaded;
    # freezing them keeps the cyclic GC from walking them all on every full collection, which showed
    # up as ~90 ms pauses in the p99 of `make bench`.
    gc.freeze()
