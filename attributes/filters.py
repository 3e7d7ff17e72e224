"""The filters of getUserAttributeDefinitions (``…/user_attribute/definition?slug=…&type=…``) as a
FilterSet (the kit: :mod:`core.api.filters`). Text is taken as sent; a malformed parameter is a 400
naming it."""

from django import forms

from attributes import types
from attributes.models import AttributeDefinition
from core.api.filters import Filter, FilterSet, TextField, TrueFalseField, WholeNumberField, apply_filters
from core.ids import is_object_id

MAX_EXCLUDED_IDS = 100
MAX_SLUG_LENGTH = 100
MAX_NAME_LENGTH = 200


class ObjectIdListField(TextField):
    """Comma-separated definition ids."""

    def parse(self, text):
        ids = [part.strip() for part in text.split(",") if part.strip()]
        if len(ids) > MAX_EXCLUDED_IDS:
            raise forms.ValidationError(f": at most {MAX_EXCLUDED_IDS} ids.")
        for definition_id in ids:
            if not is_object_id(definition_id):
                raise forms.ValidationError("must be 24 lowercase hexadecimal characters, "
                                            f"got {definition_id[:40]!r}.")
        return ids


class TypeField(TextField):
    """A type by any of its names ("text" is "string")."""

    def parse(self, text):
        try:
            return types.canonical_type(text)
        except types.ValueInvalid as exc:
            raise forms.ValidationError(exc.message)


class DefinitionFilterSet(FilterSet):
    excluding_ids = Filter(ObjectIdListField, field_name="id", lookup_expr="in", exclude=True)
    slug = Filter(TextField, method="slug_is")
    type = Filter(TypeField)
    customer_editable = Filter(TrueFalseField)
    encrypted = Filter(TrueFalseField)
    pinned = Filter(TrueFalseField)
    pin_order = Filter(WholeNumberField)
    is_locked = Filter(TrueFalseField)
    # a plain fragment, case-insensitive (regex characters are taken literally)
    name = Filter(TextField, lookup_expr="icontains", max_length=MAX_NAME_LENGTH,
                  error_messages={"max_length": f": at most {MAX_NAME_LENGTH} characters."})

    class Meta:
        model = AttributeDefinition
        fields = ()

    def slug_is(self, queryset, name, value):
        return queryset.filter(slug=value[:MAX_SLUG_LENGTH])  # cut to the longest a slug can be


BOOLEAN_FILTERS = tuple(name for name, filter_ in DefinitionFilterSet.base_filters.items()
                        if filter_.field_class is TrueFalseField)


def filter_definitions(queryset, params):
    """``queryset`` narrowed by the query parameters; ValidationFailed naming the first malformed one."""
    return apply_filters(DefinitionFilterSet, params, queryset)
