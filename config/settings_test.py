"""The test session's settings (pytest's DJANGO_SETTINGS_MODULE, pyproject.toml): the service's, plus
static files served from the apps' folders as they are (no collectstatic, no manifest)."""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
