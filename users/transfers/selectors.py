"""Reads of the customer import and export jobs."""

from core.api.pagination import PageRequest
from core.jobs.filters import filter_jobs
from core.jobs.models import Job
from users.transfers.formats import FORMATS


def list_jobs(application, kind: str, params) -> tuple[list[Job], PageRequest, int]:
    """(jobs of one page, the page, item_total) of this application's jobs of ``kind``, newest first,
    filtered by the list parameters in ``params`` (core.jobs.filters; 400 for a bad one)."""
    queryset = filter_jobs(Job.objects.filter(application=application, kind=kind), params, formats=FORMATS)
    page = PageRequest.from_query(params)
    total = queryset.count()
    return list(queryset.order_by("-created_at", "-id")[page.offset:page.offset + page.size]), page, total
