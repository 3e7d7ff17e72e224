"""Admin console: the "Import customers" upload form and the "Export customers" form (on the customers'
page, both linked from the Jobs page). Each starts its job through the same function as the API
(``imports.start_import_of_file`` / ``exports.start_export``) and opens the job's page, which follows the
progress live. Read-only staff (view permissions only) get 403 and no links."""

from django import forms
from django.urls import path

from core.actors import Actor
from core.jobs.admin import add_changelist_tool, job_form_view
from core.tenancy.models import Application
from users.transfers import exports, imports
from users.transfers.formats import FORMATS

IMPORT_PERMISSION = "users.add_customer"
IMPORT_URL_NAME = "users_customer_import"
# Starting an export is a write (a job, a file of every customer): full staff and superusers; read-only
# staff have the view permissions only.
EXPORT_PERMISSION = "users.change_customer"
EXPORT_URL_NAME = "users_customer_export"

add_changelist_tool("Import customers", f"admin:{IMPORT_URL_NAME}", IMPORT_PERMISSION)
add_changelist_tool("Export customers", f"admin:{EXPORT_URL_NAME}", EXPORT_PERMISSION)


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


class ExportCustomersForm(forms.Form):
    application = forms.ModelChoiceField(queryset=Application.objects.none())
    file_format = forms.ChoiceField(choices=[(f, f.upper()) for f in FORMATS], initial=FORMATS[0],
                                    widget=forms.RadioSelect)

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications

    def save(self, actor: Actor):
        """Start the export job as createBulkExportUsers does (users.transfers.exports); ServiceError if refused."""
        return exports.start_export(self.cleaned_data["application"], actor,
                                    file_format=self.cleaned_data["file_format"])


class CustomerImportAdminMixin:
    """Adds ``import/`` and ``export/`` to a ModelAdmin of customers: the forms that start an import or an
    export job."""

    def get_urls(self):
        return [path("import/", self.admin_site.admin_view(self.import_customers_view), name=IMPORT_URL_NAME),
                path("export/", self.admin_site.admin_view(self.export_customers_view), name=EXPORT_URL_NAME),
                *super().get_urls()]

    def import_customers_view(self, request):
        return job_form_view(
            self, request, permission=IMPORT_PERMISSION, form_class=ImportCustomersForm, title="Import customers",
            template="admin/users/customer/import_customers.html",
            started=lambda job: f"Import of {job.file_name} started: job {job.pk}.")

    def export_customers_view(self, request):
        return job_form_view(
            self, request, permission=EXPORT_PERMISSION, form_class=ExportCustomersForm, title="Export customers",
            template="admin/users/customer/export_customers.html",
            started=lambda job: f"Export to {job.file_name} started: job {job.pk}. The file's link shows here "
                                "when it is ready.")
