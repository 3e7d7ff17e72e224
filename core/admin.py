"""Registers the core app's admin pages, which live in their packages."""

from core.jobs import admin as jobs_admin  # noqa: F401
from core.tenancy import admin as tenancy_admin  # noqa: F401
