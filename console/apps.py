from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Console"


class ConsoleAdminConfig(AdminConfig):
    """django.contrib.admin with the console's site: the overview as its first page (console/site.py)."""

    default_site = "console.site.ConsoleAdminSite"
