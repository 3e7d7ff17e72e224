"""The core app's models, defined in their packages (Django loads them from here)."""

from core.jobs.models import Job, JobError  # noqa: F401
from core.tenancy.models import ApiClient, Application, Company, OAuthToken, StaffProfile  # noqa: F401
