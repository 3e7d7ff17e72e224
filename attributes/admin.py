"""Admin console: attribute definitions (edited through attributes.services, so the API's rules and
messages apply), customers' attribute values (same), and a section on every customer's page listing
their values. Values of encrypted definitions are never shown, only masked."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from attributes import admin_bulk, selectors, services, types
from attributes.models import AttributeDefinition, UserAttribute
from attributes.serializers import DefinitionSerializer, UserAttributeBodySerializer, checked
from core.actors import Actor
from core.api.errors import ServiceError
from core.ids import is_object_id
from core.tenancy.admin_forms import ServiceAdminForm, ServiceAdminMixin
from core.tenancy.models import Application
from core.tenancy.scoping import (
    CompanyScopedAdminMixin,
    CompanyScopedRelatedFilter,
    scope_queryset,
    scoped_related_queryset,
)
from users.models import Customer

MASK = "•••••• (encrypted)"
SHOWN_VALUE_CHARS = 120


def shown_value(attribute: UserAttribute) -> str:
    """A value for the admin's pages: masked when encrypted, shortened when long."""
    if attribute.ciphertext:
        return MASK
    text = attribute.value if isinstance(attribute.value, str) else types.canonical_json(attribute.value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "…"


def _json_field(label: str, help_text: str, rows: int = 3) -> forms.CharField:
    return forms.CharField(label=label, required=False, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows, "cols": 80, "class": "vLargeTextField"}))


def _parse_json(form, name: str, text: str, default):
    text = (text or "").strip()
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError as exc:
        form.add_error(name, f"Not valid JSON: {exc}")
        return default


# --------------------------------------------------------------------------- definitions

class DefinitionAdminForm(ServiceAdminForm):
    """Every field of a definition. clean() checks the input with the API's serializer; write() saves it
    through services.create_definition / update_definition, whose refusals the page shows."""

    request = None  # set by AttributeDefinitionAdmin.get_form

    application = forms.ModelChoiceField(queryset=Application.objects.none(), required=False)
    name = forms.CharField(max_length=200)
    slug = forms.CharField(max_length=100, required=False, help_text="Made from the name when left empty.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}))
    type = forms.ChoiceField(choices=AttributeDefinition.TYPE_CHOICES)
    multi_value = forms.BooleanField(required=False, help_text="Values are lists of the type.")
    customer_editable = forms.BooleanField(required=False)
    encrypted = forms.BooleanField(required=False, help_text="Values are encrypted at rest and masked here.")
    pinned = forms.BooleanField(required=False)
    pin_order = forms.IntegerField(min_value=0, max_value=1_000_000, initial=0)
    default_value = _json_field("Default value (JSON)", 'A value of the type, as JSON: "gold", 5, true, '
                                '"2024-05-01", ["a", "b"]. Empty: none.', rows=2)
    validations = _json_field("Validations (JSON)", '[{"type": "max_length", "value": 20}, {"type": "regex", '
                              '"value": "^[A-Z]+$"}]; see docs/attributes.md.')
    is_locked = forms.BooleanField(required=False, help_text="Locked definitions cannot be changed or deleted "
                                   "(through the API or here); uncheck to unlock.")
    icon = forms.CharField(max_length=500, required=False)
    ordering_channels = forms.CharField(required=False, help_text="Comma-separated.")
    masking = _json_field("Masking (JSON)", '{"enabled": false, "type": "default"}', rows=1)
    registration = _json_field("Registration (JSON)", '{"enabled": false, "type": "optional"}', rows=1)

    FIELDS = ("name", "slug", "description", "type", "multi_value", "customer_editable", "encrypted", "pinned",
              "pin_order", "default_value", "validations", "is_locked", "icon", "ordering_channels", "masking",
              "registration")

    class Meta:
        model = AttributeDefinition
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        definition = self.instance
        if not definition._state.adding:
            del self.fields["application"]
            for name in self.FIELDS:
                value = getattr(definition, name)
                if name in ("default_value", "validations", "masking", "registration"):
                    value = "" if value in (None, [], {}) else json.dumps(value, ensure_ascii=False)
                elif name == "ordering_channels":
                    value = ", ".join(value or [])
                self.fields[name].initial = value
            if definition.is_locked:
                for name in self.FIELDS:
                    if name != "is_locked":
                        self.fields[name].disabled = True
        else:
            queryset = scoped_related_queryset(admin.site, self.request, Application) if self.request else None
            self.fields["application"].queryset = queryset if queryset is not None else Application.objects.none()
            self.fields["application"].required = True

    @property
    def unlocking(self) -> bool:
        """A locked definition's page changes nothing but the lock."""
        return not self.instance._state.adding and self.instance.is_locked

    def _payload(self) -> dict:
        data = self.cleaned_data
        payload = {name: data.get(name) for name in ("name", "slug", "description", "type", "multi_value",
                                                     "customer_editable", "encrypted", "pinned", "pin_order",
                                                     "is_locked", "icon")}
        payload["pin_order"] = payload["pin_order"] or 0
        payload["default_value"] = _parse_json(self, "default_value", data.get("default_value"), None)
        payload["validations"] = _parse_json(self, "validations", data.get("validations"), [])
        payload["masking"] = _parse_json(self, "masking", data.get("masking"), {})
        payload["registration"] = _parse_json(self, "registration", data.get("registration"), {})
        payload["ordering_channels"] = [c.strip() for c in (data.get("ordering_channels") or "").split(",")
                                        if c.strip()]
        return payload

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if self.unlocking:
            if cleaned.get("is_locked"):
                raise forms.ValidationError("This definition is locked: uncheck “is locked” to unlock it "
                                            "(then change it).")
            cleaned["changes"] = {"is_locked": False}
            return cleaned
        payload = self._payload()
        if self.errors:
            return cleaned
        try:
            cleaned["changes"] = checked(DefinitionSerializer, payload, partial=not self.instance._state.adding)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message)
        return cleaned

    def write(self, actor: Actor) -> AttributeDefinition:
        definition, changes = self.instance, self.cleaned_data["changes"]
        if definition._state.adding:
            return services.create_definition(self.cleaned_data["application"], changes, actor)
        return services.update_definition(definition.application, definition.pk, changes, actor,
                                          allow_unlock=self.unlocking)


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(ServiceAdminMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    company_field = "application__company"
    form = DefinitionAdminForm
    list_display = ("name", "slug", "type", "multi_value", "encrypted", "pinned", "pin_order", "is_locked",
                    "application", "updated_at")
    list_select_related = ("application",)
    list_filter = ("type", "encrypted", "is_locked", "pinned", ("application", CompanyScopedRelatedFilter))
    search_fields = ("name", "slug")
    ordering = ("application", "-pinned", "pin_order", "-created_at")
    readonly_fields = ("id", "application_shown", "values_link", "version", "created_by", "updated_by",
                       "created_at", "updated_at")

    def get_fieldsets(self, request, obj=None):
        main = [*(() if obj else ("application",)), *DefinitionAdminForm.FIELDS]
        if obj is None:
            return [(None, {"fields": main})]
        return [(None, {"fields": ["id", "application_shown", *main]}),
                ("Record", {"fields": ["values_link", "version", "created_by", "updated_by", "created_at",
                                       "updated_at"]})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = None  # the form declares its fields; none is a model field written by the form
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        """A summary instead of Django's list of every related row (a definition may have a million values)."""
        objs = list(objs)
        described = [f"{obj} and its {UserAttribute.objects.filter(definition=obj).count()} customer values"
                     for obj in objs]
        perms_needed = set() if self.has_delete_permission(request) else {"attribute definition"}
        protected = [str(obj) for obj in objs if obj.is_locked]
        return described, {"attribute definitions": len(objs)}, perms_needed, protected

    def delete_model(self, request, obj):
        services.delete_definition(obj.application, obj.pk, Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = Actor.from_request(request)
        for definition in queryset.select_related("application"):
            try:
                services.delete_definition(definition.application, definition.pk, actor)
            except ServiceError as exc:
                self.message_user(request, f"{definition}: {exc.message}", level=messages.ERROR)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceError as exc:  # e.g. in use by a group since the page was shown
            self.message_user(request, exc.message, level=messages.ERROR)
            return self.response_post_save_change(request, None)

    @admin.display(description="application")
    def application_shown(self, obj):
        return str(obj.application)

    @admin.display(description="values")
    def values_link(self, obj):
        url = reverse(f"{self.admin_site.name}:attributes_userattribute_changelist")
        count = UserAttribute.objects.filter(definition=obj).count()
        return format_html('<a href="{}?definition__id__exact={}">{} customer values</a>', url, obj.pk, count)


# --------------------------------------------------------------------------- values

class UserAttributeAdminForm(ServiceAdminForm):
    """A customer's value of a definition: clean() finds the customer and reads the value (checked with
    the API's serializer), write() saves it through services.set_value."""

    request = None  # set by UserAttributeAdmin.get_form

    customer = forms.CharField(label="Customer id", max_length=24)
    definition = forms.ModelChoiceField(queryset=AttributeDefinition.objects.none())
    value = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
                            help_text="A single string value as plain text; anything else as JSON (5, true, "
                                      '"2024-05-01", ["a", "b"], {"k": 1}). Encrypted values stay masked: '
                                      "leave the mask to keep the value.")
    customer_overridden = forms.BooleanField(required=False)

    class Meta:
        model = UserAttribute
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        attribute = self.instance
        definitions = scoped_related_queryset(admin.site, self.request, AttributeDefinition) \
            if self.request else None
        definitions = definitions if definitions is not None else AttributeDefinition.objects.none()
        if not attribute._state.adding:
            self.fields["customer"].initial = attribute.customer_id
            self.fields["customer"].disabled = True
            self.fields["definition"].queryset = definitions.filter(pk=attribute.definition_id)
            self.fields["definition"].initial = attribute.definition_id
            self.fields["definition"].disabled = True
            self.fields["value"].initial = shown_value(attribute) if attribute.ciphertext else \
                self._as_text(attribute.definition, attribute.value)
            self.fields["customer_overridden"].initial = attribute.customer_overridden
        else:
            customer_id = self.request.GET.get("customer", "") if self.request else ""
            self.fields["customer"].initial = customer_id
            application_id = Customer.objects.filter(id=customer_id).values_list("application_id", flat=True).first() \
                if is_object_id(customer_id) else None
            if application_id:
                definitions = definitions.filter(application_id=application_id)
            self.fields["definition"].queryset = definitions.select_related("application").order_by(
                "application", "-pinned", "pin_order", "-created_at")

    @staticmethod
    def _as_text(definition, value) -> str:
        if definition.type == "string" and not definition.multi_value:
            return value
        return json.dumps(value, ensure_ascii=False)

    def _customer(self, customer_id: str):
        queryset = scope_queryset(Customer.objects.select_related("application"), "application__company",
                                  self.request)
        return queryset.filter(id=customer_id.strip()).first() if is_object_id(customer_id.strip()) else None

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        attribute = self.instance
        existing = not attribute._state.adding
        definition = attribute.definition if existing else cleaned["definition"]
        customer = self._customer(attribute.customer_id if existing else cleaned["customer"])
        if customer is None:
            raise forms.ValidationError("No such customer (a 24-character id of one of your customers).")
        if customer.application_id != definition.application_id:
            raise forms.ValidationError("The definition belongs to another application than the customer.")
        text = cleaned.get("value") or ""
        if existing and attribute.ciphertext and text == MASK:
            raw = selectors.value_of(attribute)
        elif definition.type == "string" and not definition.multi_value:
            raw = text
        else:
            try:
                raw = json.loads(text)
            except ValueError:
                raise forms.ValidationError(f"The value must be JSON for a {definition.type}"
                                            f"{' multi value' if definition.multi_value else ''} attribute.")
        try:
            body = checked(UserAttributeBodySerializer, {"attribute": {"value": raw},
                                                         "customer_overridden": cleaned.get("customer_overridden")})
        except ServiceError as exc:
            raise forms.ValidationError(exc.message)
        cleaned["changes"] = {"customer": customer, "definition": definition, "value": body["attribute"]["value"],
                              "customer_overridden": body["customer_overridden"]}
        return cleaned

    def write(self, actor: Actor) -> UserAttribute:
        changes = self.cleaned_data["changes"]
        customer = changes["customer"]
        attribute, _created = services.set_value(customer.application, changes["definition"].pk, customer.pk,
                                                 changes["value"], actor,
                                                 customer_overridden=changes["customer_overridden"])
        return attribute


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows: a company may hold millions of values, and the list is for
    looking one customer up (search by id) rather than for paging through all of them."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self):
        return self.object_list.order_by()[: self.COUNT_CAP + 1].count()


@admin.register(UserAttribute)
class UserAttributeAdmin(ServiceAdminMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    company_field = "application__company"
    form = UserAttributeAdminForm
    list_display = ("customer_link", "definition", "value_shown", "customer_overridden", "updated_at")
    list_select_related = ("definition", "customer")
    list_filter = (("definition", CompanyScopedRelatedFilter),)
    search_fields = ("=customer__id",)
    search_help_text = "A customer id."
    ordering = ("-id",)  # ids start with their creation time: newest first, along the primary key
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    list_per_page = 50
    readonly_fields = ("id", "version", "created_by", "updated_by", "created_at", "updated_at")

    def get_urls(self):
        return [*admin_bulk.urls(self), *super().get_urls()]  # bulk-update/: the upload form (admin_bulk)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(customer_id=term) if is_object_id(term) else queryset.none(), False

    def get_fieldsets(self, request, obj=None):
        main = ["customer", "definition", "value", "customer_overridden"]
        if obj is None:
            return [(None, {"fields": main})]
        return [(None, {"fields": ["id", *main]}),
                ("Record", {"fields": ["version", "created_by", "updated_by", "created_at", "updated_at"]})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = None  # the form declares its fields; none is a model field written by the form
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def get_deleted_objects(self, objs, request):
        objs = list(objs)
        perms_needed = set() if self.has_delete_permission(request) else {"user attribute"}
        return [f"{obj.definition.slug} of customer {obj.customer_id}" for obj in objs], \
            {"user attributes": len(objs)}, perms_needed, []

    def delete_model(self, request, obj):
        services.delete_value(obj.application, obj.definition_id, obj.customer_id, Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = Actor.from_request(request)
        for attribute in queryset.select_related("application"):
            try:
                services.delete_value(attribute.application, attribute.definition_id, attribute.customer_id, actor)
            except ServiceError as exc:
                self.message_user(request, f"{attribute}: {exc.message}", level=messages.ERROR)

    @admin.display(description="customer", ordering="customer_id")
    def customer_link(self, obj):
        url = reverse(f"{self.admin_site.name}:users_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer)

    @admin.display(description="value")
    def value_shown(self, obj):
        return shown_value(obj)


# --------------------------------------------------------------------------- on the customer's page

from attributes import admin_customer  # noqa: E402,F401  (registers the customer admin with the values)
