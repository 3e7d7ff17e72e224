"""The filters of getUserGroups (``…/user_group?name=…&type=…&status=…&group_uid=…``) as a FilterSet.
An empty one is no filter; a malformed one is a 400 naming the parameter (text is checked for NUL
characters, which PostgreSQL refuses in a query)."""

import django_filters
from django import forms

from core.api.errors import ValidationFailed
from groups import states
from groups.models import UserGroup

MAX_NAME_LENGTH = 200


class _Text(forms.CharField):
    """Stripped; "" is no filter (django-filter makes every filter's field optional)."""

    def to_python(self, value):
        return super().to_python(value) or None


class NameField(_Text):
    default_error_messages = {"null_characters_not_allowed": "name must not contain NUL characters."}


class TypeField(_Text):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return states.normalize_type(value)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message, code=exc.code)


class StatusField(_Text):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        if value.lower() not in states.STATUS_VALUES:
            raise forms.ValidationError(f"status must be one of {', '.join(states.STATUS_VALUES)}.")
        return value.lower()


class UidField(_Text):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        if not value.isdecimal() or len(value) > 9:
            raise forms.ValidationError(f"group_uid must be a whole number, got {value[:40]!r}.")
        return int(value)


class NameFilter(django_filters.Filter):
    field_class = NameField


class TypeFilter(django_filters.Filter):
    field_class = TypeField


class StatusFilter(django_filters.Filter):
    field_class = StatusField


class UidFilter(django_filters.Filter):
    field_class = UidField


class GroupFilterSet(django_filters.FilterSet):
    name = NameFilter(method="name_contains")
    type = TypeFilter()
    status = StatusFilter(method="status_is")
    group_uid = UidFilter(field_name="uid")

    class Meta:
        model = UserGroup
        fields = ()

    def name_contains(self, queryset, name, value):
        return queryset.filter(name__icontains=value[:MAX_NAME_LENGTH])  # a longer part matches no name anyway

    def status_is(self, queryset, name, value):
        return queryset.annotate(current_status=states.STATUS_EXPRESSION).filter(current_status=value)


def filter_groups(queryset, params):
    """``queryset`` narrowed by the query parameters; ValidationFailed for the first malformed one."""
    filterset = GroupFilterSet(params, queryset=queryset)
    if not filterset.is_valid():
        error = next(iter(filterset.form.errors.as_data().values()))[0]
        code = error.code if error.code == "invalid_group_type" else None
        raise ValidationFailed(error.messages[0], code=code)
    return filterset.qs
