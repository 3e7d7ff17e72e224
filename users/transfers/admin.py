"""Admin console: the "Import customers" upload form (on the customers' page, linked from the Jobs page)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from core.actors import Actor
from core.api.errors import ServiceError
from core.jobs.admin import add_changelist_tool
from core.tenancy.models import Application
from core.tenancy.scoping import scope_queryset
from users.transfers import imports

IMPORT_PERMISSION = "users.add_customer"
IMPORT_URL_NAME = "users_customer_import"

add_changelist_tool("Import customers", f"admin:{IMPORT_URL_NAME}", IMPORT_PERMISSION)


class ImportCustomersForm(forms.Form):
    application = forms.ModelChoiceField(queryset=Application.objects.none())
    file = forms.FileField(help_text="CSV (UTF-8) or XLSX (the first worksheet is read).")
    file_format = forms.ChoiceField(choices=[("", "from the file name"), ("csv", "CSV"), ("xlsx", "XLSX")],
                                    required=False)

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications

    def save(self, actor: Actor):
        """Store the upload and start its import job (users.transfers.imports); ServiceError if refused."""
        upload = self.cleaned_data["file"]
        return imports.start_import_of_file(self.cleaned_data["application"], actor, upload, upload.name,
                                            self.cleaned_data["file_format"] or None)


class CustomerImportAdminMixin:
    """Adds ``import/`` to a ModelAdmin of customers: the upload form that starts an import job."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_customers_view)
        return [path("import/", view, name=IMPORT_URL_NAME), *super().get_urls()]

    def import_customers_view(self, request):
        if not request.user.has_perm(IMPORT_PERMISSION):
            raise PermissionDenied
        applications = scope_queryset(Application.objects.order_by("name"), "company", request)
        form = ImportCustomersForm(request.POST or None, request.FILES or None, applications=applications)
        if request.method == "POST" and form.is_valid():
            try:
                job = form.save(Actor.from_request(request))
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Import of {job.file_name} started: job {job.pk}.", messages.SUCCESS)
                return redirect(reverse(f"{self.admin_site.name}:core_job_change", args=[job.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Import customers"}
        return TemplateResponse(request, "admin/users/customer/import_customers.html", context)
