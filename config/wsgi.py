"""The WSGI application (gunicorn: ``config.wsgi:application``), with the embedded servers it needs started."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from config import servers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
servers.start_embedded(settings)
application = get_wsgi_application()
