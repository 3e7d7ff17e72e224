"""Writes to attribute definitions and values, and their rules. The API and the admin call these; the
bulk updates and the group conditions build on store_value / validate_value and types.

Every value write keeps three things in step inside one transaction: the UserAttribute row (clear JSON
or ciphertext), its typed index rows (UserAttributeValue, one per element) and an audit event on the
customer's timeline. Locking: a value write holds FOR KEY SHARE on its definition, a definition change
FOR UPDATE, so a type change never interleaves with value writes (see selectors.get_definition).
"""

import re
from collections.abc import Callable

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from attributes import crypto, selectors, types
from attributes.models import AttributeDefinition, UserAttribute, UserAttributeValue
from core.actors import Actor
from core.api.errors import Conflict, NotFound, ValidationFailed
from users.selectors import get_customer
from users.services import record_event
from users import events

MAX_DEFINITIONS_PER_APPLICATION = 1000
MAX_ATTRIBUTES_PER_CALL = 100  # definitions in one updateUserAttributes / deleteUserAttributesInBulk call
REWRITE_BATCH_SIZE = 1000  # values converted per round trip when a definition's type changes
AUDIT_VALUE_MAX_BYTES = 2000  # larger clear values are not copied into the audit trail
SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")

# --------------------------------------------------------------------------- "in use" hook

# Checks that name what still uses a definition, e.g. a customer group's conditions:
# ``check(definition) -> ["user group 12 'VIP'", ...]``. Any answer forbids deleting the definition.
# The groups app registers its check with register_in_use_check() when it is ready.
IN_USE_CHECKS: list[Callable[[AttributeDefinition], list[str]]] = []


def register_in_use_check(check: Callable[[AttributeDefinition], list[str]]) -> None:
    if check not in IN_USE_CHECKS:
        IN_USE_CHECKS.append(check)


def definition_in_use_by(definition: AttributeDefinition) -> list[str]:
    """What uses the definition (and so forbids its deletion); [] when nothing does."""
    users: list[str] = []
    for check in IN_USE_CHECKS:
        users.extend(check(definition))
    return users


def actor_label(actor: Actor) -> str:
    """created_by / updated_by: the API client id or staff user id; a system actor's name."""
    return (actor.id or actor.name)[:200]


# --------------------------------------------------------------------------- definitions

def _unique_slug(application, name: str) -> str:
    base = slugify(name).replace("-", "_").strip("_")[:90] or "attribute"
    taken = {slug.lower() for slug in AttributeDefinition.objects.filter(
        application=application, slug__istartswith=base).values_list("slug", flat=True)}
    if base.lower() not in taken:
        return base
    number = 2
    while f"{base}_{number}".lower() in taken:
        number += 1
    return f"{base}_{number}"


def _masking(value: dict | None) -> dict:
    value = value or {}
    return {"enabled": bool(value.get("enabled", False)), "type": value.get("type", "") or ""}


def _spec_after(definition: AttributeDefinition | None, fields: dict, validations: list[dict]) -> types.Spec:
    def pick(name, default):
        if name in fields:
            return fields[name]
        return getattr(definition, name) if definition is not None else default

    return types.spec_from(pick("type", None), pick("multi_value", False), pick("encrypted", False), validations,
                           slug=pick("slug", ""))


def _definition_changes(application, data: dict, definition: AttributeDefinition | None) -> tuple[dict, types.Spec]:
    """The model fields a create (definition None) or an update sets, with every rule checked, and the
    values' Spec after the change. ``data`` has the shapes of serializers.DefinitionSerializer."""
    fields: dict = {}
    if "name" in data:
        name = data["name"].strip()
        if not name:
            raise ValidationFailed("name must not be blank.")
        fields["name"] = name
    elif definition is None:
        raise ValidationFailed("name is required.")
    if data.get("type") is not None:
        try:
            fields["type"] = types.canonical_type(data["type"])
        except types.ValueInvalid as exc:
            raise ValidationFailed(exc.message)
    elif definition is None:
        raise ValidationFailed(f"type is required: one of {', '.join(types.TYPES)}.")
    multi, is_multi = data.get("multi_value"), data.get("is_multi_value")
    if multi is not None and is_multi is not None and multi != is_multi:
        raise ValidationFailed("multi_value and is_multi_value disagree; send one of them.")
    if multi is not None or is_multi is not None:
        fields["multi_value"] = multi if multi is not None else is_multi
    for name in ("description", "customer_editable", "encrypted", "pinned", "pin_order", "is_locked", "icon",
                 "ordering_channels"):
        if name in data and data[name] is not None:
            fields[name] = data[name]
    for name in ("masking", "registration"):
        if data.get(name) is not None:
            fields[name] = _masking(data[name])
    slug = (data.get("slug") or "").strip()
    if slug:
        if not SLUG_RE.match(slug):
            raise ValidationFailed("slug must be 1 to 100 letters, digits, '_' or '-', starting with a letter "
                                   "or digit.")
        if selectors.slug_taken(application, slug, exclude_id=definition.id if definition else None):
            raise Conflict(f"The slug '{slug}' is already used by another attribute definition of this "
                           "application.", code="duplicate_slug")
        fields["slug"] = slug
    elif definition is None:
        fields["slug"] = _unique_slug(application, fields["name"])

    type_name = fields.get("type", definition.type if definition else None)
    multi_value = fields.get("multi_value", definition.multi_value if definition else False)
    if "validations" in data and data["validations"] is not None:
        validations = types.parse_validations(type_name, multi_value, data["validations"])
    elif definition is not None and (type_name, multi_value) != (definition.type, definition.multi_value):
        try:
            validations = types.parse_validations(type_name, multi_value, definition.validations)
        except ValidationFailed as exc:
            raise ValidationFailed(f"The current validations do not fit the new type ({exc.message}); send "
                                   "validations with the change.", code="invalid_validation")
    else:
        validations = definition.validations if definition is not None else []
    fields["validations"] = validations
    spec = _spec_after(definition, fields, validations)

    if "default_value" in data:
        try:
            fields["default_value"] = types.parse_default(spec, data["default_value"])
        except types.ValueInvalid as exc:
            raise ValidationFailed(f"default_value {exc.message}", code="invalid_default_value",
                                   meta={"rule": exc.rule})
    elif definition is not None and definition.default_value is not None and spec != types.Spec.of(definition):
        try:
            fields["default_value"] = types.convert_value(definition.default_value, types.Spec.of(definition), spec)
        except types.ValueInvalid as exc:
            raise ValidationFailed(f"The current default_value is not valid for the changed definition (it "
                                   f"{exc.message}); send a new default_value, or null.",
                                   code="invalid_default_value", meta={"rule": exc.rule})
    return fields, spec


def _save_guarding_slug(save):
    try:
        with transaction.atomic():
            return save()
    except IntegrityError as exc:
        if "attrdef_app_slug_uniq" in str(exc):
            raise Conflict("That slug is already used by another attribute definition of this application.",
                           code="duplicate_slug")
        raise


@transaction.atomic
def create_definition(application, data: dict, actor: Actor) -> AttributeDefinition:
    if AttributeDefinition.objects.filter(application=application).count() >= MAX_DEFINITIONS_PER_APPLICATION:
        raise ValidationFailed(f"An application has at most {MAX_DEFINITIONS_PER_APPLICATION} attribute "
                               "definitions.", code="too_many_definitions")
    fields, _spec = _definition_changes(application, data, None)
    fields["masking"] = _masking(fields.get("masking"))
    fields["registration"] = _masking(fields.get("registration"))
    label = actor_label(actor)
    definition = AttributeDefinition(application=application, created_by=label, updated_by=label, **fields)
    _save_guarding_slug(lambda: definition.save(force_insert=True))
    return definition


def _locked(definition: AttributeDefinition, doing: str) -> Conflict:
    return Conflict(f"The attribute definition '{definition.slug}' is locked: it cannot be {doing}.",
                    code="attribute_definition_locked")


@transaction.atomic
def update_definition(application, definition_id: str, data: dict, actor: Actor, *,
                      allow_unlock: bool = False) -> AttributeDefinition:
    """Sets the fields sent (PUT with partial semantics). A change of type, multi value or encryption
    rewrites every stored value (all or nothing, 409 when one does not convert). A locked definition
    is refused, except that the admin console (``allow_unlock``) may unlock it."""
    definition = selectors.get_definition(application, definition_id, lock="update")
    if definition.is_locked and not (allow_unlock and data.get("is_locked") is False):
        raise _locked(definition, "changed")
    old_spec = types.Spec.of(definition)
    fields, new_spec = _definition_changes(application, data, definition)
    for name, value in fields.items():
        setattr(definition, name, value)
    if (old_spec.type, old_spec.multi_value, old_spec.encrypted) != \
            (new_spec.type, new_spec.multi_value, new_spec.encrypted):
        _rewrite_values(definition, old_spec, new_spec, actor)
    definition.updated_by = actor_label(actor)
    definition.version = F("version") + 1
    _save_guarding_slug(definition.save)
    definition.refresh_from_db()
    return definition


def _describe_spec(spec: types.Spec) -> str:
    return f"{spec.type}{' (multi value)' if spec.multi_value else ''}{' (encrypted)' if spec.encrypted else ''}"


def _rewrite_values(definition: AttributeDefinition, old: types.Spec, new: types.Spec, actor: Actor) -> int:
    """Convert every stored value of the definition to ``new`` (type, list-ness, encryption) and rebuild
    its index rows; Conflict naming how many do not convert (nothing is then changed)."""
    UserAttributeValue.objects.filter(definition_id=definition.id).delete()
    label, now = actor_label(actor), timezone.now()
    total, failures, examples, first_problem = 0, 0, [], ""
    last_id = ""
    while True:
        batch = list(UserAttribute.objects.filter(definition=definition, id__gt=last_id).order_by("id")
                     [:REWRITE_BATCH_SIZE])
        if not batch:
            break
        last_id = batch[-1].id
        rows = []
        for attribute in batch:
            total += 1
            try:
                converted = types.convert_value(selectors.value_of(attribute), old, new)
            except types.ValueInvalid as exc:
                failures += 1
                if len(examples) < 5:
                    examples.append(attribute.customer_id)
                first_problem = first_problem or f"customer {attribute.customer_id}: the value {exc.message}"
                continue
            if failures:
                continue  # only counting from now on: the transaction will be rolled back
            attribute.value, attribute.ciphertext = _stored_forms(new, converted)
            rows.extend(_index_rows(attribute, definition, new, converted))
        if not failures:
            _update_stored_forms(batch, now, label)
            _copy_index_rows(rows)
    if failures:
        raise Conflict(
            f"Cannot change the attribute definition '{definition.slug}' from {_describe_spec(old)} to "
            f"{_describe_spec(new)}: {failures} of {total} stored values do not convert (first: {first_problem}). "
            "Delete or change those values first.",
            code="attribute_values_do_not_convert", meta={"failed": failures, "total": total,
                                                          "customer_ids": examples})
    return total


def _update_stored_forms(attributes: list[UserAttribute], now, label: str) -> None:
    """One UPDATE ... FROM (VALUES ...) for a batch: value / ciphertext as set on the instances, version
    + 1 (bulk_update's CASE per row and column is many times slower at a thousand rows)."""
    table = UserAttribute._meta.db_table
    rows = ", ".join(["(%s, %s::jsonb, %s)"] * len(attributes))
    params = []
    for attribute in attributes:
        params += [attribute.id, None if attribute.value is None else types.canonical_json(attribute.value),
                   attribute.ciphertext]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS a SET value = v.value, ciphertext = v.ciphertext, version = a.version + 1, "
            f"updated_at = %s, updated_by = %s FROM (VALUES {rows}) AS v(id, value, ciphertext) WHERE a.id = v.id",
            [now, label, *params])


INDEX_COLUMNS = ("attribute_id", "definition_id", "customer_id", "position", "text_value", "text_lower",
                 "number_value", "bool_value", "time_value", "digest")


def _copy_index_rows(rows: list[UserAttributeValue]) -> None:
    """Insert many index rows with COPY (bulk_create spends more time building its SQL than PostgreSQL
    spends inserting)."""
    table = UserAttributeValue._meta.db_table
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(INDEX_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([getattr(row, column) for column in INDEX_COLUMNS])


def _delete_all_values(definition: AttributeDefinition) -> int:
    UserAttributeValue.objects.filter(definition_id=definition.id).delete()  # one DELETE (no cascades)
    attributes = UserAttribute.objects.filter(definition=definition)
    # Its index rows are gone: a plain DELETE instead of the collector loading every row first.
    return attributes._raw_delete(attributes.db)


@transaction.atomic
def delete_definition(application, definition_id: str, actor: Actor) -> int:
    """Deletes the definition and every value of it; returns how many values went. Refused (409) when
    the definition is locked or something still uses it (definition_in_use_by)."""
    definition = selectors.get_definition(application, definition_id, lock="update")
    if definition.is_locked:
        raise _locked(definition, "deleted")
    users = definition_in_use_by(definition)
    if users:
        raise Conflict(f"The attribute definition '{definition.slug}' cannot be deleted: it is used by "
                       f"{', '.join(users[:10])}{' …' if len(users) > 10 else ''}.",
                       code="attribute_definition_in_use", meta={"used_by": users})
    removed = _delete_all_values(definition)
    definition.delete()
    return removed


# --------------------------------------------------------------------------- values

def validate_value(definition: AttributeDefinition, raw, spec: types.Spec | None = None):
    """The canonical value of ``raw`` for the definition, or a 400 naming the definition and the rule."""
    try:
        return types.parse_value(spec or types.Spec.of(definition), raw)
    except types.ValueInvalid as exc:
        raise ValidationFailed(f"Attribute '{definition.slug}': the value {exc.message}",
                               code="invalid_attribute_value",
                               meta={"definition_id": definition.id, "slug": definition.slug, "rule": exc.rule})


def _stored_forms(spec: types.Spec, value) -> tuple[object, str]:
    """(value for the JSON column, ciphertext): never both, and never the clear value when encrypted."""
    if spec.encrypted:
        return None, crypto.encrypt(types.canonical_json(value))
    return value, ""


def _index_rows(attribute: UserAttribute, definition: AttributeDefinition, spec: types.Spec, value):
    return [UserAttributeValue(attribute_id=attribute.id, definition_id=definition.id,
                               customer_id=attribute.customer_id, **row)
            for row in types.index_rows(spec, value)]


def _audit_data(definition: AttributeDefinition, spec: types.Spec, value=None, **extra) -> dict:
    data = {"definition_id": definition.id, "slug": definition.slug, **extra}
    if spec.encrypted:
        data["encrypted"] = True  # never the value
    elif value is not None:
        if len(types.canonical_json(value).encode("utf-8")) <= AUDIT_VALUE_MAX_BYTES:
            data["value"] = value
        else:
            data["value_omitted"] = "too large for the audit trail"
    return data


# The bulk updates (attributes/bulk_writes.py) build the same stored forms and audit payloads set-based.
stored_forms = _stored_forms
audit_data = _audit_data


def store_value(definition: AttributeDefinition, customer_id: str, value, actor: Actor, *,
                spec: types.Spec | None = None, customer_overridden: bool | None = None,
                audit: bool = True) -> tuple[UserAttribute, bool]:
    """Create or replace the customer's value (already validated: validate_value) with its index rows and,
    unless ``audit`` is False, an events.ATTRIBUTE_UPDATED event. Returns (attribute, created). The caller
    holds the definition (selectors.get_definition(lock="share")) and has checked the customer belongs
    to the definition's application. Must run inside a transaction."""
    spec = spec or types.Spec.of(definition)
    plain, ciphertext = _stored_forms(spec, value)
    label = actor_label(actor)
    attribute = selectors.find_attribute(definition, customer_id, lock=True)
    created = attribute is None
    if created:
        attribute = UserAttribute(application_id=definition.application_id, definition=definition,
                                  customer_id=customer_id, value=plain, ciphertext=ciphertext,
                                  customer_overridden=bool(customer_overridden), created_by=label, updated_by=label)
        try:
            with transaction.atomic():
                attribute.save(force_insert=True)
        except IntegrityError as exc:
            if "userattr_def_customer_uniq" not in str(exc):
                raise
            attribute = selectors.find_attribute(definition, customer_id, lock=True)  # a concurrent create won
            created = False
    if not created:
        UserAttributeValue.objects.filter(attribute=attribute).delete()
        attribute.value, attribute.ciphertext = plain, ciphertext
        if customer_overridden is not None:
            attribute.customer_overridden = customer_overridden
        attribute.updated_by = label
        attribute.version = F("version") + 1
        attribute.save(update_fields=["value", "ciphertext", "customer_overridden", "updated_by", "version",
                                      "updated_at"])
        attribute.refresh_from_db(fields=["version", "updated_at"])
    UserAttributeValue.objects.bulk_create(_index_rows(attribute, definition, spec, value))
    attribute.definition = definition
    if audit:
        record_event(customer_id, definition.application_id, events.ATTRIBUTE_UPDATED, actor,
                     data=_audit_data(definition, spec, value, created=created))
    return attribute, created


@transaction.atomic
def set_value(application, definition_id: str, user_id: str, raw, actor: Actor, *,
              customer_overridden: bool | None = None) -> tuple[UserAttribute, bool]:
    """updateUserAttribute: create or replace one value. Returns (attribute, created)."""
    definition = selectors.get_definition(application, definition_id, lock="share")
    customer = get_customer(application, user_id, include_archived=False)
    value = validate_value(definition, raw)
    return store_value(definition, customer.id, value, actor, customer_overridden=customer_overridden)


def _definitions_for(application, definition_ids: list[str], field: str) -> dict[str, AttributeDefinition]:
    if len(definition_ids) > MAX_ATTRIBUTES_PER_CALL:
        raise ValidationFailed(f"{field}: at most {MAX_ATTRIBUTES_PER_CALL} per call.")
    definitions = selectors.definitions_by_id(application, definition_ids, lock="share")
    unknown = [i for i in dict.fromkeys(definition_ids) if i not in definitions]
    if unknown:
        raise NotFound(f"No attribute definition in this application with id {', '.join(unknown[:20])}"
                       f"{' …' if len(unknown) > 20 else ''}; nothing was changed.",
                       code="attribute_definition_not_found", meta={"unknown_ids": unknown})
    return definitions


@transaction.atomic
def set_values(application, user_id: str, items: list[dict], actor: Actor) -> list[UserAttribute]:
    """updateUserAttributes: several definitions' values for one customer, all or nothing. ``items`` are
    {"definition_id", "value"}; unknown definitions are a 404 and any invalid value a 400 listing every
    problem, and then nothing is written."""
    customer = get_customer(application, user_id, include_archived=False)
    if not items:
        raise ValidationFailed("attributes must list at least one {definition_id, value}.")
    ids = [item["definition_id"] for item in items]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValidationFailed(f"attributes: the definition {', '.join(repeated)} is listed more than once.")
    definitions = _definitions_for(application, ids, "attributes.definition_id")
    values, problems = [], []
    for index, item in enumerate(items):
        definition = definitions[item["definition_id"]]
        try:
            values.append(validate_value(definition, item["value"]))
        except ValidationFailed as exc:
            problems.append({"index": index, **exc.meta, "message": f"attributes[{index}]: {exc.message}"})
    if problems:
        raise ValidationFailed("; ".join(p["message"] for p in problems[:10]) + "; nothing was changed.",
                               code="invalid_attribute_value", meta={"errors": problems})
    return [store_value(definitions[item["definition_id"]], customer.id, value, actor)[0]
            for item, value in zip(items, values)]


def _remove(attribute: UserAttribute, definition: AttributeDefinition, actor: Actor) -> None:
    UserAttributeValue.objects.filter(attribute=attribute).delete()
    UserAttribute.objects.filter(pk=attribute.pk).delete()
    record_event(attribute.customer_id, definition.application_id, events.ATTRIBUTE_DELETED, actor,
                 data=_audit_data(definition, types.Spec.of(definition)))


@transaction.atomic
def delete_value(application, definition_id: str, user_id: str, actor: Actor) -> None:
    """deleteUserAttribute: 404 when the customer has no value for the definition."""
    definition = selectors.get_definition(application, definition_id, lock="share")
    customer = get_customer(application, user_id, include_archived=False)
    attribute = selectors.get_attribute(application, definition, customer.id, lock=True)
    _remove(attribute, definition, actor)


@transaction.atomic
def delete_values(application, user_id: str, definition_ids: list[str], actor: Actor) -> int:
    """deleteUserAttributesInBulk: the customer's values of these definitions (those it has); unknown
    definitions are a 404 and then nothing is deleted. Returns how many values went."""
    customer = get_customer(application, user_id, include_archived=False)
    if not definition_ids:
        raise ValidationFailed("definition_ids must list at least one attribute definition id.")
    definitions = _definitions_for(application, list(dict.fromkeys(definition_ids)), "definition_ids")
    attributes = list(UserAttribute.objects.select_for_update()
                      .filter(customer_id=customer.id, definition_id__in=list(definitions)).order_by("id"))
    for attribute in attributes:
        _remove(attribute, definitions[attribute.definition_id], actor)
    return len(attributes)


# --------------------------------------------------------------------------- key rotation

def rotate_encryption(batch_size: int = 500) -> int:
    """Re-encrypt every encrypted value with the first key of ATTRIBUTE_ENCRYPTION_KEYS and recompute
    its digests, in batches of one transaction each. Returns how many values were rewritten."""
    done, last_id = 0, ""
    while True:
        with transaction.atomic():
            batch = list(UserAttribute.objects.select_for_update().select_related("definition")
                         .filter(id__gt=last_id).exclude(ciphertext="").order_by("id")[:batch_size])
            if not batch:
                return done
            last_id = batch[-1].id
            rows = []
            for attribute in batch:
                value = selectors.value_of(attribute)
                attribute.ciphertext = crypto.rotate(attribute.ciphertext)
                rows.extend(_index_rows(attribute, attribute.definition, types.Spec.of(attribute.definition), value))
            UserAttributeValue.objects.filter(attribute_id__in=[a.id for a in batch]).delete()
            UserAttribute.objects.bulk_update(batch, ["ciphertext"])
            _copy_index_rows(rows)
            done += len(batch)


# --------------------------------------------------------------------------- the customer's own edits (storefront)

@transaction.atomic
def set_customer_editable_values(application, customer_id: str, values: dict, actor: Actor) -> None:
    """updateUserAttributes on the storefront: ``values`` maps slugs to new values, all or nothing. Only the
    definitions of selectors.customer_editable_definitions may be written (any other slug, known or not, is
    refused alike: a 400 that does not tell which exist); each value is validated; each is stored
    ``customer_overridden``."""
    if not isinstance(values, dict) or not values:
        raise ValidationFailed("attributes must map at least one attribute slug to its value.")
    if len(values) > MAX_ATTRIBUTES_PER_CALL:
        raise ValidationFailed(f"attributes: at most {MAX_ATTRIBUTES_PER_CALL} per call.")
    definitions = selectors.customer_editable_definitions(application, list(values), lock="share")
    refused = [slug for slug in values if slug not in definitions]
    if refused:
        raise ValidationFailed(f"attributes: {', '.join(refused[:20])} cannot be edited; nothing was changed.",
                               code="attribute_not_editable", meta={"slugs": refused[:100]})
    checked, problems = {}, []
    for slug, raw in values.items():
        try:
            checked[slug] = validate_value(definitions[slug], raw)
        except ValidationFailed as exc:
            problems.append({**exc.meta, "message": exc.message})
    if problems:
        raise ValidationFailed("; ".join(p["message"] for p in problems[:10]) + "; nothing was changed.",
                               code="invalid_attribute_value", meta={"errors": problems})
    for slug, value in checked.items():
        store_value(definitions[slug], customer_id, value, actor, customer_overridden=True)
