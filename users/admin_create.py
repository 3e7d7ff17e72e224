"""Admin console: "Add customer" — createUser's rules and errors (users.serializers.CreateUserSerializer, then
users.services.create_customer), shown on the form; the customer's page opens afterwards."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from core.actors import Actor
from core.api.errors import ServiceError
from core.tenancy.models import Application
from core.tenancy.scoping import scope_queryset
from users import services
from users.serializers import CreateUserSerializer

CREATE_PERMISSION = "users.add_customer"


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
        checked = CreateUserSerializer(data=data)
        if not checked.is_valid():
            for field, problems in checked.errors.items():
                for problem in problems:
                    self.add_error(field if field in self.fields else None, str(problem))
            return None
        try:
            return services.create_customer(self.cleaned_data["application"], checked.validated_data, actor)
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
