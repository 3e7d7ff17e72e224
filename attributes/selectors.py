"""Reads of attribute definitions and values (always within one application)."""

import json

from django.db.models import Case, F, IntegerField, Value, When

from attributes import crypto
from attributes.filters import filter_definitions
from attributes.models import AttributeDefinition, UserAttribute
from core.api.errors import NotFound, ServiceError
from core.api.fields import require_object_id
from core.api.pagination import PageRequest


def get_definition(application, definition_id, *, field: str = "attribute_def_id", lock: str | None = None
                   ) -> AttributeDefinition:
    """The definition of this application; 400 for a malformed id, 404 when unknown here.

    ``lock="update"`` locks the row (definition changes); ``lock="share"`` takes FOR KEY SHARE, which
    value writes hold so that a definition change waits for them and they wait for it, while value
    writes never wait for one another.
    """
    require_object_id(definition_id, field)
    if lock == "share":
        found = list(AttributeDefinition.objects.raw(
            f"SELECT * FROM {AttributeDefinition._meta.db_table} WHERE id = %s AND application_id = %s "
            "FOR KEY SHARE", [definition_id, application.id]))
        definition = found[0] if found else None
    else:
        queryset = AttributeDefinition.objects.filter(application=application, id=definition_id)
        if lock == "update":
            queryset = queryset.select_for_update()
        definition = queryset.first()
    if definition is None:
        raise NotFound(f"No attribute definition {definition_id} in this application.",
                       code="attribute_definition_not_found")
    return definition


def definitions_by_id(application, ids: list[str], *, lock: str | None = None) -> dict[str, AttributeDefinition]:
    """The definitions of this application among ``ids`` (unknown ids are simply missing)."""
    if lock == "share":
        table = AttributeDefinition._meta.db_table
        found = AttributeDefinition.objects.raw(
            f"SELECT * FROM {table} WHERE application_id = %s AND id = ANY(%s) ORDER BY id FOR KEY SHARE",
            [application.id, list(ids)])
    else:
        found = AttributeDefinition.objects.filter(application=application, id__in=ids)
    return {definition.id: definition for definition in found}


def pinned_first(queryset, prefix: str = ""):
    """Pinned definitions first by pin_order, then the others; newest first within each."""
    pinned = F(f"{prefix}pinned")
    order_of_pin = Case(When(**{f"{prefix}pinned": True}, then=F(f"{prefix}pin_order")), default=Value(0),
                        output_field=IntegerField())
    return queryset.order_by(pinned.desc(), order_of_pin.asc(), F(f"{prefix}created_at").desc(),
                             F(f"{prefix}id").desc())


def list_definitions(application, params, page: PageRequest):
    """getUserAttributeDefinitions: the definitions matching the query parameters (filters.py), pinned
    first (by pin_order), then newest first. Returns (definitions, item_total)."""
    queryset = filter_definitions(AttributeDefinition.objects.filter(application=application), params)
    total = queryset.count()
    items = list(pinned_first(queryset)[page.offset: page.offset + page.size]) if total > page.offset else []
    return items, total


def slug_taken(application, slug: str, exclude_id: str | None = None) -> bool:
    queryset = AttributeDefinition.objects.filter(application=application, slug__iexact=slug)
    if exclude_id:
        queryset = queryset.exclude(id=exclude_id)
    return queryset.exists()


# --------------------------------------------------------------------------- values

def value_of(attribute: UserAttribute):
    """The clear value of an attribute (decrypted when its definition is encrypted)."""
    if attribute.ciphertext:
        try:
            return json.loads(crypto.decrypt(attribute.ciphertext))
        except crypto.DecryptionFailed as exc:
            raise ServiceError(str(exc), code="attribute_decryption_failed", status_code=500)
    return attribute.value


def get_attribute(application, definition: AttributeDefinition, customer_id: str, *, lock: bool = False
                  ) -> UserAttribute:
    queryset = UserAttribute.objects.filter(application=application, definition=definition, customer_id=customer_id)
    if lock:
        queryset = queryset.select_for_update()
    attribute = queryset.first()
    if attribute is None:
        raise NotFound(f"Customer {customer_id} has no value for the attribute '{definition.slug}'.",
                       code="user_attribute_not_found")
    attribute.definition = definition
    return attribute


def find_attribute(definition: AttributeDefinition, customer_id: str, *, lock: bool = False) -> UserAttribute | None:
    queryset = UserAttribute.objects.filter(definition=definition, customer_id=customer_id)
    if lock:
        queryset = queryset.select_for_update()
    return queryset.first()


def get_attribute_by_id(application, attribute_id) -> UserAttribute:
    require_object_id(attribute_id, "attribute_id")
    attribute = (UserAttribute.objects.select_related("definition")
                 .filter(application=application, id=attribute_id).first())
    if attribute is None:
        raise NotFound(f"No user attribute {attribute_id} in this application.", code="user_attribute_not_found")
    return attribute


def customer_attributes(application, customer_id: str, *, definition_ids: list[str] | None = None):
    """A customer's attributes with their definitions, in the definitions' order."""
    queryset = UserAttribute.objects.select_related("definition").filter(
        application=application, customer_id=customer_id)
    if definition_ids is not None:
        queryset = queryset.filter(definition_id__in=definition_ids)
    return pinned_first(queryset, prefix="definition__")


def list_customer_attributes(application, customer_id: str, page: PageRequest):
    """Returns (attributes, item_total) for getUserAttributesForUser."""
    queryset = customer_attributes(application, customer_id)
    total = queryset.count()
    items = list(queryset[page.offset: page.offset + page.size]) if total > page.offset else []
    return items, total


# --------------------------------------------------------------------------- the customer's own view (storefront)

def customer_editable_definitions(application, slugs: list[str] | None = None, *, lock: str | None = None
                                  ) -> dict[str, AttributeDefinition]:
    """The definitions a customer sees and edits on the storefront, by slug: ``customer_editable`` and not
    ``encrypted`` (an encrypted value never leaves the platform side). ``lock="share"`` as get_definition."""
    queryset = AttributeDefinition.objects.filter(application=application, customer_editable=True, encrypted=False)
    if slugs is not None:
        queryset = queryset.filter(slug__in=slugs)
    if lock == "share":
        ids = list(queryset.values_list("id", flat=True))
        found = definitions_by_id(application, ids, lock="share").values()
        found = [d for d in found if d.customer_editable and not d.encrypted]  # changed while we waited
    else:
        found = pinned_first(queryset)
    return {definition.slug: definition for definition in found}


def customer_editable_values(application, customer_id: str, definitions: dict[str, AttributeDefinition]) -> dict:
    """slug -> the customer's value of each definition (its default_value when the customer has none)."""
    stored = dict(UserAttribute.objects.filter(
        application=application, customer_id=customer_id, definition_id__in=[d.id for d in definitions.values()]
    ).values_list("definition_id", "value"))
    return {slug: stored.get(d.id, d.default_value) for slug, d in definitions.items()}
