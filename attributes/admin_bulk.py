"""Admin console: "Bulk update attributes", the API's bulk_update with a file, from an upload.

A CSV of customers (a ``user_id`` column, or ``_id`` / ``id``, as the API's ``user_file_url``) and the
attributes every one of them gets (``slug=value`` lines, as ``manage.py bulk_update_attributes --set``).
The attributes are checked as the API checks them (``bulk.checked_attributes``: known slugs, valid
values) before anything starts; the upload is stored in the job's folder and a job of the API's kind
(``attribute_bulk_update``, ``attributes.bulk``) applies it, so rows, errors, audit events and the
summary event are those of the API. The form opens the job's page, which follows the progress live.

Mounted on the customer attribute values' admin (``UserAttributeAdmin.get_urls`` adds :func:`urls`),
linked from the Jobs page. Full staff and superusers only (``change_userattribute``); read-only staff
get 403 and no link. Applications are those of the staff's company.
"""

from __future__ import annotations

from functools import partial
from pathlib import PurePosixPath

from django import forms
from django.db import transaction
from django.urls import path

from attributes import bulk
from attributes.models import AttributeDefinition
from core import jobs
from core.actors import Actor
from core.api.errors import ServiceError
from core.files import csvrows
from core.jobs.admin import add_changelist_tool, job_form_view
from core.jobs.models import Job
from core.tenancy.models import Application
from core.tenancy.scoping import scope_queryset

BULK_PERMISSION = "attributes.change_userattribute"
BULK_URL_NAME = "attributes_userattribute_bulk_update"
DEFINITIONS_SHOWN = 200
STORED_NAME = "users.csv"  # as manage.py bulk_update_attributes stores its file

add_changelist_tool("Bulk update attributes", f"admin:{BULK_URL_NAME}", BULK_PERMISSION)


def start_bulk_update_of_file(application, actor: Actor, handle, file_name: str, assignments: list[str]) -> Job:
    """A bulk_update job (the API's kind and handler) of an uploaded CSV of user ids: the attributes
    checked first (ServiceError, nothing started), the file stored in the job's folder, the job queued
    once the transaction commits."""
    payload = bulk.BulkUpdatePayload("same", bulk.checked_attributes(
        application, bulk.attributes_from_text(application, assignments)))
    with transaction.atomic():
        job = jobs.create_job(application, bulk.KIND, actor, payload=jobs.payload_dict(payload),
                              file_name=file_name[:200], file_format="csv", enqueue=False)
        jobs.store_job_input(job, handle, STORED_NAME)
        jobs.enqueue_job(job.pk)
    return job


class BulkUpdateForm(forms.Form):
    application = forms.ModelChoiceField(queryset=Application.objects.none())
    file = forms.FileField(help_text="CSV (UTF-8) with a user_id column (or _id / id): one customer per row; "
                                     "other columns are ignored.")
    attributes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60, "class": "vLargeTextField"}),
        help_text='One slug=value a line, for every customer of the file. Values are JSON (10, true, ["a", "b"], '
                  '"2024-05-01") or, for a single string attribute, the text itself.')

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications

    def clean_file(self):
        """A CSV whose header names a user id column; the rows themselves are the job's to check."""
        upload = self.cleaned_data["file"]
        if PurePosixPath(upload.name).suffix.lower() != ".csv":
            raise forms.ValidationError("The file must be a CSV (a .csv file) with a user_id column.")
        try:
            upload.seek(0)
            with csvrows.open_csv(upload.file, source="the file") as rows:
                header = rows.header
        except ServiceError as exc:
            raise forms.ValidationError(exc.message)
        finally:
            upload.seek(0)
        if not any(column in header for column in bulk.USER_ID_COLUMNS):
            raise forms.ValidationError(f"The file has no user_id column (columns: {', '.join(header)[:200]}).")
        return upload

    def clean_attributes(self):
        lines = [line.strip() for line in self.cleaned_data["attributes"].splitlines() if line.strip()]
        if not lines:
            raise forms.ValidationError("Name at least one attribute: slug=value.")
        return lines

    def save(self, actor: Actor) -> Job:
        upload = self.cleaned_data["file"]
        return start_bulk_update_of_file(self.cleaned_data["application"], actor, upload, upload.name,
                                         self.cleaned_data["attributes"])


def bulk_update_view(model_admin, request):
    definitions = scope_queryset(AttributeDefinition.objects.select_related("application"), "application__company",
                                 request).order_by("application__name", "-pinned", "pin_order", "slug")
    return job_form_view(model_admin, request, permission=BULK_PERMISSION, form_class=BulkUpdateForm,
                         title="Bulk update attributes", template="admin/attributes/userattribute/bulk_update.html",
                         started=lambda job: f"Bulk update of {job.file_name} started: job {job.pk}.",
                         extra_context={"definitions": definitions[:DEFINITIONS_SHOWN]})


def urls(model_admin) -> list:
    """The form's URL, for the ModelAdmin of attribute values (``bulk-update/``)."""
    view = model_admin.admin_site.admin_view(partial(bulk_update_view, model_admin))
    return [path("bulk-update/", view, name=BULK_URL_NAME)]
