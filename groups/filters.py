"""The filters of getUserGroups (``…/user_group?name=…&type=…&status=…&group_uid=…``) as a FilterSet
(the kit: :mod:`core.api.filters`). Values are stripped; an empty one is no filter; a malformed one is a
400 naming the parameter."""

from django import forms

from core.api.errors import ValidationFailed
from core.api.filters import Filter, FilterSet, OneOfField, TextField, apply_filters
from groups import states
from groups.models import UserGroup

MAX_NAME_LENGTH = 200
MAX_UID_DIGITS = 9


class TypeField(TextField):
    def parse(self, text):
        try:
            return states.normalize_type(text)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message, code=exc.code)


class UidField(TextField):
    def parse(self, text):
        if not text.isdecimal() or len(text) > MAX_UID_DIGITS:
            raise forms.ValidationError(f"must be a whole number, got {text[:40]!r}.")
        return int(text)


class GroupFilterSet(FilterSet):
    error_codes = ("invalid_group_type",)

    name = Filter(TextField, strip=True, method="name_contains")
    type = Filter(TypeField, strip=True)
    status = Filter(OneOfField, strip=True, options=states.STATUS_VALUES, method="status_is")
    group_uid = Filter(UidField, strip=True, field_name="uid")

    class Meta:
        model = UserGroup
        fields = ()

    def name_contains(self, queryset, name, value):
        return queryset.filter(name__icontains=value[:MAX_NAME_LENGTH])  # a longer part matches no name anyway

    def status_is(self, queryset, name, value):
        return queryset.annotate(current_status=states.STATUS_EXPRESSION).filter(current_status=value)


def filter_groups(queryset, params):
    """``queryset`` narrowed by the query parameters; ValidationFailed for the first malformed one."""
    return apply_filters(GroupFilterSet, params, queryset)
