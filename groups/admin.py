"""Admin console: customer groups, company-scoped. Every change goes through groups.services (the API's
rules and messages, shown on the form): create, edit, a new file by URL or by upload (stored by the
service, no download), process the last file again, delete. A group's page shows its status, progress,
error file, member count, a page of its members and a CSV export of all of them."""

import csv
import json

from django import forms
from django.contrib import admin, messages
from django.http import Http404, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core import files
from core.actors import Actor
from core.tenancy.admin_forms import ServiceAdminForm, ServiceAdminMixin
from core.tenancy.scoping import CompanyScopedAdminMixin, CompanyScopedRelatedFilter, scoped_related_queryset
from core.api.errors import ServiceError
from core.tenancy.models import Application
from core.api.pagination import PageRequest
from groups import processing, selectors, serializers, services
from groups.models import UserGroup

MEMBERS_PER_PAGE = 20


def _ids_text(ids) -> str:
    return "\n".join(ids or [])


def _ids_list(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


class UserGroupAdminForm(ServiceAdminForm):
    """A group's editable fields, checked by the API's serializers, saved by groups.services (write())."""

    request = None  # set by UserGroupAdmin.get_form

    application = forms.ModelChoiceField(queryset=Application.objects.none(), required=False)
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}))
    type = forms.ChoiceField(choices=UserGroup.TYPES, required=False,
                             help_text="bulk: members from a CSV file; conditional: members from attribute conditions.")
    is_active = forms.BooleanField(required=False, initial=True)
    conditions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 80, "class": "vLargeTextField"}),
        help_text='Conditional groups, as JSON: [{"user_attribute_definition_id": "<id>", "type": "gte", '
                  '"value": "100"}]; all of them must hold.')
    file_url = forms.CharField(
        required=False, max_length=2000, label="File URL",
        help_text="Bulk groups: an http(s) URL of a CSV file with a user_id, email or phone_number column. "
                  "A new URL replaces the membership.")
    upload = forms.FileField(required=False, label="Upload a CSV",
                             help_text="Bulk groups: a CSV file, stored by the service and processed like a URL.")
    upload_mode = forms.ChoiceField(
        choices=[(processing.REPLACE, "replace: the file is the whole membership"),
                 (processing.PATCH, "add / remove: by the file's action column")],
        initial=processing.REPLACE, required=False, label="The uploaded file")
    whitelisted_users = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
                                        help_text="Customer ids that are always members (one per line).")
    blacklisted_users = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
                                        help_text="Customer ids that are never members (one per line).")
    tags = forms.CharField(required=False, help_text="Comma-separated.")

    FIELDS = ("name", "description", "is_active", "conditions", "file_url", "upload", "upload_mode",
              "whitelisted_users", "blacklisted_users", "tags")

    class Meta:
        model = UserGroup
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        group = self.instance
        if group._state.adding:
            queryset = scoped_related_queryset(admin.site, self.request, Application) if self.request else None
            self.fields["application"].queryset = queryset if queryset is not None else Application.objects.none()
            self.fields["application"].required = True
            self.fields["type"].required = True
            return
        del self.fields["application"], self.fields["type"]
        initial = {"name": group.name, "description": group.description, "is_active": group.is_active,
                   "conditions": json.dumps(group.conditions, ensure_ascii=False) if group.conditions else "",
                   "file_url": group.file_url if group.file_url.startswith(("http://", "https://")) else "",
                   "whitelisted_users": _ids_text(group.whitelisted_users),
                   "blacklisted_users": _ids_text(group.blacklisted_users), "tags": ", ".join(group.tags or [])}
        for name, value in initial.items():
            self.fields[name].initial = value
        if group.type == UserGroup.CONDITIONAL:
            for name in ("file_url", "upload", "upload_mode"):
                del self.fields[name]
        else:
            del self.fields["conditions"]

    def _body(self) -> dict:
        """The API's body for what the form holds (createUserGroup / updateUserGroup)."""
        data, group = self.cleaned_data, self.instance
        body = {"name": data["name"], "description": data["description"], "is_active": data.get("is_active", False),
                "whitelisted_users": _ids_list(data.get("whitelisted_users") or ""),
                "blacklisted_users": _ids_list(data.get("blacklisted_users") or ""),
                "tags": [t.strip() for t in (data.get("tags") or "").split(",") if t.strip()]}
        text = (data.get("conditions") or "").strip()
        if "conditions" in self.fields and text:
            try:
                body["conditions"] = json.loads(text)
            except ValueError as exc:
                raise forms.ValidationError(f"conditions: not valid JSON ({exc}).")
        file_url = (data.get("file_url") or "").strip()
        if group._state.adding:
            body["type"] = data["type"]
            if file_url:
                body["file_url"] = file_url
        elif file_url and file_url != group.file_url:
            body["file_url"] = file_url
        return body

    def clean(self):
        """Validates only, with the API's serializers; write() saves through the services."""
        cleaned = super().clean()
        if self.errors:
            return cleaned
        serializer = (serializers.CreateGroupSerializer if self.instance._state.adding
                      else serializers.UpdateGroupSerializer)
        try:
            self.validated = serializers.checked(serializer, self._body())
        except ServiceError as exc:
            raise forms.ValidationError(exc.message)
        return cleaned

    def write(self, actor: Actor) -> UserGroup:
        """The edit and the upload in the admin's transaction: both or neither."""
        group, upload = self.instance, self.cleaned_data.get("upload")
        if group._state.adding:
            return services.create_group(self.cleaned_data["application"], self.validated, actor, uploaded=upload)
        group = services.update_group(group.application, group.pk, self.validated, actor)
        if upload is not None:
            group = services.upload_file(group.application, group.pk, upload, actor,
                                         mode=self.cleaned_data.get("upload_mode") or processing.REPLACE)
        return group


@admin.register(UserGroup)
class UserGroupAdmin(ServiceAdminMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    company_field = "application__company"
    form = UserGroupAdminForm
    change_form_template = "admin/customer_groups/usergroup/change_form.html"
    list_display = ("uid", "name", "type", "status_display", "progress_display", "member_count_display",
                    "is_active", "application", "modified_at")
    list_display_links = ("uid", "name")
    list_select_related = ("application", "job", "member_count")
    list_filter = ("type", "is_active", ("application", CompanyScopedRelatedFilter))
    search_fields = ("name",)
    search_help_text = "Part of the name, or a uid."
    ordering = ("application", "-uid")
    actions = ("process_again",)
    readonly_fields = ("id", "uid", "application_shown", "type_shown", "status_display", "progress_display",
                       "error_display", "job_link", "member_count_display", "file_shown", "export_link",
                       "created_by_display", "created_at", "modified_at", "processed_at", "version")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["application", "type", "name", "description", "is_active", "conditions",
                                       "file_url", "upload", "whitelisted_users", "blacklisted_users", "tags"]})]
        editable = [name for name in UserGroupAdminForm.FIELDS
                    if not (obj.type == UserGroup.CONDITIONAL and name in ("file_url", "upload", "upload_mode"))
                    and not (obj.type == UserGroup.BULK and name == "conditions")]
        return [
            ("State", {"fields": ["id", "uid", "application_shown", "type_shown", "status_display", "progress_display",
                                  "error_display", "job_link", "member_count_display", "file_shown", "export_link"]}),
            ("Group", {"fields": editable}),
            ("Record", {"fields": ["created_by_display", "created_at", "modified_at", "processed_at", "version"]}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = None  # the form declares its fields; none is a model field written by the form
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.isdecimal() and len(term) <= 9:
            return queryset.filter(uid=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    # --- what the pages show

    @admin.display(description="application")
    def application_shown(self, obj):
        return str(obj.application)

    @admin.display(description="type")
    def type_shown(self, obj):
        return obj.get_type_display()

    @admin.display(description="status")
    def status_display(self, obj):
        return selectors.effective_status(obj)

    @admin.display(description="progress")
    def progress_display(self, obj):
        job = obj.job
        if job is None:
            return "-"
        if job.status in ("pending", "processing"):
            return f"{job.status}, {job.processed} / {job.total or '?'} rows ({job.progress} %)"
        return f"{job.progress} %: {job.success_count} applied, {job.error_count} rejected of {job.total}"

    @admin.display(description="errors")
    def error_display(self, obj):
        job = obj.job
        if job is None or (not job.error_count and not job.error):
            return "-"
        parts = []
        if job.error:
            parts.append(format_html("<strong>{}</strong>", job.error))
        if job.error_file:
            parts.append(format_html('<a href="{}">{} rejected rows (CSV)</a>', files.signed_path(job.error_file),
                                     job.error_count))
        elif job.error_count:
            parts.append(f"{job.error_count} rejected rows")
        return format_html_join(" · ", "{}", ((p,) for p in parts))

    @admin.display(description="latest job")
    def job_link(self, obj):
        if obj.job_id is None:
            return "-"
        url = reverse(f"{self.admin_site.name}:core_job_change", args=[obj.job_id])
        return format_html('<a href="{}">{}</a>', url, obj.job_id)

    @admin.display(description="members")
    def member_count_display(self, obj):
        if obj.type == UserGroup.CONDITIONAL:
            return "computed from the conditions"
        try:
            return obj.member_count.members
        except UserGroup.member_count.RelatedObjectDoesNotExist:
            return 0

    @admin.display(description="file")
    def file_shown(self, obj):
        if not obj.file_url:
            return "-"
        if obj.file_url.startswith(("http://", "https://")):
            return obj.file_url
        return format_html('<a href="{}">uploaded file</a>', files.signed_path(obj.file_url))

    @admin.display(description="export")
    def export_link(self, obj):
        url = reverse(f"{self.admin_site.name}:customer_groups_usergroup_members_csv", args=[obj.pk])
        return format_html('<a href="{}">all members as CSV</a>', url)

    @admin.display(description="created by")
    def created_by_display(self, obj):
        created_by = obj.created_by or {}
        return f"{created_by.get('name') or created_by.get('id') or '-'} ({created_by.get('type', '?')})"

    # --- the members on the group's page, and the export

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        group = self.get_object(request, object_id)
        if group is not None:
            extra_context.update(self._members_context(request, group))
        return super().change_view(request, object_id, form_url, extra_context)

    def _members_context(self, request, group) -> dict:
        try:
            number = max(1, int(request.GET.get("members_page", "1")))
        except ValueError:
            number = 1
        page = PageRequest(number, MEMBERS_PER_PAGE)
        try:
            customers, total = selectors.group_members(group.application, group, page)
        except ServiceError as exc:
            return {"members_error": exc.message}
        rows = [{"url": reverse(f"{self.admin_site.name}:users_customer_change", args=[c.pk]), "id": c.pk,
                 "name": f"{c.first_name} {c.last_name}".strip() or c.username,
                 "email": next((e.email for e in c.emails.all()), ""),
                 "phone": next((p.e164 for p in c.phones.all()), ""), "created_at": c.created_at}
                for c in customers]
        last = max(1, (total + MEMBERS_PER_PAGE - 1) // MEMBERS_PER_PAGE)
        return {"members": rows, "members_total": total, "members_page": number, "members_last_page": last,
                "members_previous": number - 1 if number > 1 else None,
                "members_next": number + 1 if number < last else None}

    def get_urls(self):
        view = self.admin_site.admin_view(self.members_csv_view)
        return [path("<path:object_id>/members.csv", view, name="customer_groups_usergroup_members_csv"),
                *super().get_urls()]

    def members_csv_view(self, request, object_id):
        group = self.get_object(request, object_id)
        if group is None or not self.has_view_permission(request, group):
            raise Http404("No such group.")

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())

        def rows():
            yield writer.writerow(["user_id", "email", "phone_number", "first_name", "last_name"])
            for row in selectors.member_rows(group.application, group):
                yield writer.writerow(row)

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="group-{group.uid}-members.csv"'
        return response

    # --- actions and deletion, through the services

    @admin.action(description="Process the last file again", permissions=["change"])
    def process_again(self, request, queryset):
        actor = Actor.from_request(request)
        for group in queryset.select_related("application"):
            try:
                job = services.reprocess_group(group.application, group.pk, actor)
            except ServiceError as exc:
                self.message_user(request, f"{group}: {exc.message}", level=messages.ERROR)
                continue
            if job is None:
                self.message_user(request, f"{group}: nothing to process (no file).", level=messages.WARNING)
            else:
                self.message_user(request, f"{group}: processing again (job {job.pk}).", level=messages.SUCCESS)

    def get_deleted_objects(self, objs, request):
        """A summary instead of Django's list of every related row (a group may have a million members)."""
        objs = list(objs)
        perms_needed = set() if self.has_delete_permission(request) else {"customer group"}
        return [f"{obj} and its membership" for obj in objs], {"customer groups": len(objs)}, perms_needed, []

    def delete_model(self, request, obj):
        services.delete_group(obj.application, obj.pk, Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        for group in queryset.select_related("application"):
            services.delete_group(group.application, group.pk, Actor.from_request(request))
