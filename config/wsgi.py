"""The WSGI application (gunicorn: ``config.wsgi:application``), with the embedded servers it needs started."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from config import servers
from core.metrics import multiprocess

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
servers.start_embedded(settings)
# /metrics adds up every process of the machine (docs/metrics.md): set up by gunicorn's master already
# (config/gunicorn.conf.py); here for a WSGI server started without it, before the application loads.
multiprocess.prepare(clean=False)
application = get_wsgi_application()
