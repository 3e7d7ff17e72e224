"""The filters of getUserAttributeDefinitions (``…/user_attribute/definition?slug=…&type=…``) as a
FilterSet. A malformed one is a 400 naming the parameter; text is checked for NUL characters, which
PostgreSQL refuses in a query."""

import django_filters
from django import forms

from attributes import types
from attributes.errors import sentence
from attributes.models import AttributeDefinition
from core.api.errors import ValidationFailed
from core.ids import is_object_id

MAX_EXCLUDED_IDS = 100
MAX_SLUG_LENGTH = 100
MAX_NAME_LENGTH = 200
NO_NUL = {"null_characters_not_allowed": "must not contain NUL characters."}


class TextField(forms.CharField):
    """Text as sent (not stripped), empty meaning "no filter"."""

    def __init__(self, *, error_messages=None, **kwargs):
        super().__init__(strip=False, error_messages={**NO_NUL, **(error_messages or {})}, **kwargs)


class ObjectIdListField(TextField):
    """Comma-separated definition ids."""

    def to_python(self, value):
        ids = [part.strip() for part in super().to_python(value).split(",") if part.strip()]
        if len(ids) > MAX_EXCLUDED_IDS:
            raise forms.ValidationError(f": at most {MAX_EXCLUDED_IDS} ids.")
        for definition_id in ids:
            if not is_object_id(definition_id):
                raise forms.ValidationError("must be 24 lowercase hexadecimal characters, "
                                            f"got {definition_id[:40]!r}.")
        return ids


class TypeField(TextField):
    """A type by any of its names ("text" is "string")."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return types.canonical_type(value)
        except types.ValueInvalid as exc:
            raise forms.ValidationError(exc.message)


class TrueFalseField(TextField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            raise forms.ValidationError(f"must be true or false, got {value[:40]!r}.")
        return lowered == "true"


class WholeNumberField(TextField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return int(value.strip())
        except ValueError:
            raise forms.ValidationError(f"must be a whole number, got {value[:40]!r}.")


class TextFilter(django_filters.Filter):
    field_class = TextField


class ObjectIdListFilter(django_filters.Filter):
    field_class = ObjectIdListField


class TypeFilter(django_filters.Filter):
    field_class = TypeField


class TrueFalseFilter(django_filters.Filter):
    field_class = TrueFalseField


class WholeNumberFilter(django_filters.Filter):
    field_class = WholeNumberField


class DefinitionFilterSet(django_filters.FilterSet):
    excluding_ids = ObjectIdListFilter(field_name="id", lookup_expr="in", exclude=True)
    slug = TextFilter(method="slug_is")
    type = TypeFilter()
    customer_editable = TrueFalseFilter()
    encrypted = TrueFalseFilter()
    pinned = TrueFalseFilter()
    pin_order = WholeNumberFilter()
    is_locked = TrueFalseFilter()
    # a plain fragment, case-insensitive (regex characters are taken literally)
    name = TextFilter(lookup_expr="icontains", max_length=MAX_NAME_LENGTH,
                      error_messages={"max_length": f": at most {MAX_NAME_LENGTH} characters."})

    class Meta:
        model = AttributeDefinition
        fields = ()

    def slug_is(self, queryset, name, value):
        return queryset.filter(slug=value[:MAX_SLUG_LENGTH])  # cut to the longest a slug can be


BOOLEAN_FILTERS = tuple(name for name, filter_ in DefinitionFilterSet.base_filters.items()
                        if isinstance(filter_, TrueFalseFilter))


def filter_definitions(queryset, params):
    """``queryset`` narrowed by the query parameters; ValidationFailed naming the first malformed one."""
    filterset = DefinitionFilterSet(params, queryset=queryset)
    if not filterset.is_valid():
        name, messages = next(iter(filterset.errors.items()))
        raise ValidationFailed(sentence(name, messages[0]))
    return filterset.qs
