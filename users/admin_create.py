"""Admin console: "Add customer" (createUser's rules: users.serializers.CreateUserSerializer, then
users.services.create_customer) and "Edit profile, emails and phones" (updateUser's: UpdateUserSerializer,
then users.services.update_customer); the errors shown on the form, the customer's page opened afterwards."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.actors import Actor
from core.api.errors import ServiceError
from core.tenancy.admin_forms import checked_by_serializer
from core.tenancy.models import Application
from core.tenancy.scoping import scope_queryset
from users import services
from users.contacts import parse_phone
from users.serializers import CreateUserSerializer, UpdateUserSerializer

CREATE_PERMISSION = "users.add_customer"
EDIT_PERMISSION = "users.change_customer"
EDIT_URL_NAME = "users_customer_edit"


class NewCustomerForm(forms.Form):
    application = forms.ModelChoiceField(queryset=Application.objects.none())
    phone_number = forms.CharField(max_length=30, help_text="A mobile number; +<country code> or the country code below.")
    country_code = forms.CharField(max_length=4, required=False, help_text="e.g. 91 (when the number has no +)")
    email = forms.CharField(max_length=254, required=False)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    gender = forms.CharField(max_length=30, required=False)
    username = forms.CharField(max_length=150, required=False, help_text="Generated from the email or phone when empty.")
    external_id = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications

    def save(self, actor: Actor):
        """The new customer, or None with the errors on the form (the API's checks, word for word)."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "application" and value}
        checked = checked_by_serializer(self, CreateUserSerializer, data)
        if checked is None:
            return None
        try:
            return services.create_customer(self.cleaned_data["application"], checked, actor)
        except ServiceError as exc:
            field = next(iter((exc.meta.get("errors") or {})), None)
            self.add_error(field if field in self.fields else None, exc.message)
            return None


class CustomerCreateAdminMixin:
    """The stock "Add" button of a ModelAdmin of customers, opening a form that creates through the services."""

    def has_add_permission(self, request):
        return request.user.has_perm(CREATE_PERMISSION)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        applications = scope_queryset(Application.objects.order_by("name"), "company", request)
        form = NewCustomerForm(request.POST or None, applications=applications)
        if request.method == "POST" and form.is_valid():
            customer = form.save(Actor.from_request(request))
            if customer is not None:
                self.message_user(request, f"Customer {customer} created.", messages.SUCCESS)
                return redirect(reverse(f"{self.admin_site.name}:users_customer_change", args=[customer.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Add customer"}
        return TemplateResponse(request, "admin/users/customer/add_customer.html", context)


# ----------------------------------------------------------------------------- editing (updateUser's rules)

PROFILE_EDITED = ("first_name", "last_name", "gender", "external_id", "rr_id")


class EditCustomerForm(forms.Form):
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    gender = forms.CharField(max_length=30, required=False)
    external_id = forms.CharField(max_length=100, required=False)
    rr_id = forms.CharField(max_length=100, required=False)
    emails = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             help_text="One per line; the first is the primary one. Unchanged addresses keep "
                                       "their verified state; new ones are unverified.")
    phones = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             help_text="One per line (+<country code><number>, or a number of the default country); "
                                       "the first is the primary one. At least one.")

    @staticmethod
    def initial_of(customer) -> dict:
        emails = sorted(customer.emails.all(), key=lambda e: (not e.primary, e.id))
        phones = sorted(customer.phones.all(), key=lambda p: (not p.primary, p.id))
        return {**{name: getattr(customer, name) for name in PROFILE_EDITED},
                "emails": "\n".join(e.email for e in emails), "phones": "\n".join(p.e164 for p in phones)}

    def save(self, customer, actor: Actor):
        """The customer as updateUser would leave it, or None with the errors on the form."""
        verified_emails = {e.email for e in customer.emails.all() if e.verified}
        verified_phones = {p.e164 for p in customer.phones.all() if p.verified}
        lines = {name: [line.strip() for line in self.cleaned_data[name].splitlines() if line.strip()]
                 for name in ("emails", "phones")}
        phones = []
        for n, raw in enumerate(lines["phones"]):
            try:
                e164 = parse_phone(raw, field="phones").e164
            except ServiceError as exc:
                self.add_error("phones", exc.message)
                return None
            phones.append({"phone": e164, "primary": n == 0, "verified": e164 in verified_phones})
        emails = [{"email": raw, "primary": n == 0, "verified": raw.lower() in verified_emails}
                  for n, raw in enumerate(lines["emails"])]
        data = {**{name: self.cleaned_data[name] for name in PROFILE_EDITED}, "emails": emails, "phone_numbers": phones}
        checked = checked_by_serializer(self, UpdateUserSerializer, data)
        if checked is None:
            return None
        try:
            return services.update_customer(customer.application, customer.pk, checked, actor)
        except ServiceError as exc:
            self.add_error(None, exc.message)
            return None


class CustomerEditAdminMixin:
    """``<id>/edit/`` on a ModelAdmin of customers: profile, emails and phones with updateUser's rules."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.edit_customer_view)
        return [path("<str:object_id>/edit/", view, name=EDIT_URL_NAME), *super().get_urls()]

    def has_edit_permission(self, request) -> bool:
        return request.user.has_perm(EDIT_PERMISSION)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not obj.archived and self.has_edit_permission(request):
            return fieldsets
        return [(name, {**options, "fields": tuple(f for f in options["fields"] if f != "edit_link")})
                for name, options in fieldsets]

    def edit_customer_view(self, request, object_id):
        if not self.has_edit_permission(request):
            raise PermissionDenied
        customer = self.get_queryset(request).filter(pk=object_id, archived=False).first()  # the company's only
        if customer is None:
            raise Http404("No such customer (or archived: restore it first).")
        form = EditCustomerForm(request.POST or None, initial=EditCustomerForm.initial_of(customer))
        if request.method == "POST" and form.is_valid():
            if form.save(customer, Actor.from_request(request)) is not None:
                self.message_user(request, f"Customer {customer} updated.", messages.SUCCESS)
                return redirect(reverse(f"{self.admin_site.name}:users_customer_change", args=[customer.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": f"Edit {customer}", "customer": customer}
        return TemplateResponse(request, "admin/users/customer/edit_customer.html", context)

    @admin.display(description="edit")
    def edit_link(self, obj):
        return format_html('<a href="{}" class="edit-customer">Edit profile, emails and phones</a>',
                           reverse(f"admin:{EDIT_URL_NAME}", args=[obj.pk]))
