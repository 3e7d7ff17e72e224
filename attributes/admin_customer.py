"""The customer's attribute values on their admin page: the list, and for full staff a "Set a value" form
and a "Clear" button per value, both posting to the customer's page and coming back to it.

The users app owns the customer admin and knows nothing of attributes; this app registers a subclass of
the registered one in its place (as accounts does after it), keeping what other apps added."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from attributes import selectors, services
from attributes.admin import UserAttributeAdminForm, shown_value
from attributes.models import AttributeDefinition, UserAttribute
from core.actors import Actor
from core.api.errors import ServiceError
from core.tenancy.scoping import CompanyScopedAdminMixin, ReadOnlyAdminMixin, scope_queryset
from users.models import Customer

SET_URL_NAME = "users_customer_attribute_set"
CLEAR_URL_NAME = "users_customer_attribute_clear"


class CustomerAttributeInline(ReadOnlyAdminMixin, CompanyScopedAdminMixin, admin.TabularInline):
    """The customer's values, pinned definitions first (read-only rows; the template adds the forms)."""

    model = UserAttribute
    company_field = "application__company"
    template = "admin/attributes/customer_attributes_inline.html"
    verbose_name = "attribute value"
    verbose_name_plural = "attribute values"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("definition", "value_shown", "customer_overridden", "updated_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.pinned_first(super().get_queryset(request).select_related("definition"),
                                      prefix="definition__")

    @admin.display(description="value")
    def value_shown(self, obj):
        return shown_value(obj)


def _error_text(form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


_registered = admin.site.get_model_admin(Customer)


class AttributeCustomerAdmin(type(_registered)):
    inlines = (*_registered.inlines, CustomerAttributeInline)
    change_form_template = "admin/attributes/customer_change_form.html"  # adds the form the value controls post

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<str:object_id>/attributes/set/", wrap(require_POST(self.set_attribute_view)), name=SET_URL_NAME),
            path("<str:object_id>/attributes/<str:definition_id>/clear/", wrap(require_POST(self.clear_attribute_view)),
                 name=CLEAR_URL_NAME),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        if request.user.has_perm("attributes.add_userattribute"):
            customer = self._customer(request, object_id, required=False)
            if customer is not None and not customer.archived:
                context["attribute_definitions"] = selectors.pinned_first(
                    AttributeDefinition.objects.filter(application_id=customer.application_id), prefix="")
        return super().change_view(request, object_id, form_url, context)

    def _customer(self, request, object_id: str, required: bool = True):
        customer = scope_queryset(Customer.objects.select_related("application"), "application__company",
                                  request).filter(pk=object_id).first()
        if customer is None and required:
            raise Http404("No such customer.")
        return customer

    def _back(self, customer):
        return redirect(reverse(f"{self.admin_site.name}:users_customer_change", args=[customer.pk]) +
                        "#attribute-values")

    def set_attribute_view(self, request, object_id):
        """Sets (creates or replaces) one value with the definition's validation: the same form and service
        as the value's own admin page; errors come back as a message on the customer's page."""
        if not request.user.has_perm("attributes.add_userattribute"):
            raise PermissionDenied
        customer = self._customer(request, object_id)
        form_class = type("CustomerValueForm", (UserAttributeAdminForm,), {"request": request})
        form = form_class({"customer": customer.pk, "definition": request.POST.get("definition", ""),
                           "value": request.POST.get("value", ""),
                           "customer_overridden": request.POST.get("customer_overridden", "")},
                          instance=UserAttribute())
        if not form.is_valid():
            self.message_user(request, f"The value was not set: {_error_text(form)}", messages.ERROR)
            return self._back(customer)
        try:
            attribute = form.write(Actor.from_request(request))
        except ServiceError as exc:
            self.message_user(request, f"The value was not set: {exc.message}", messages.ERROR)
        else:
            self.message_user(request, f"{attribute.definition.name or attribute.definition.slug} set to "
                                       f"{shown_value(attribute)}.", messages.SUCCESS)
        return self._back(customer)

    def clear_attribute_view(self, request, object_id, definition_id):
        if not request.user.has_perm("attributes.delete_userattribute"):
            raise PermissionDenied
        customer = self._customer(request, object_id)
        try:
            services.delete_value(customer.application, definition_id, customer.pk, Actor.from_request(request))
        except ServiceError as exc:
            self.message_user(request, f"The value was not cleared: {exc.message}", messages.ERROR)
        else:
            self.message_user(request, "The value was cleared.", messages.SUCCESS)
        return self._back(customer)


admin.site.unregister(Customer)
admin.site.register(Customer, AttributeCustomerAdmin)
