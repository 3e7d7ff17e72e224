"""The filters of the event log (``GET …/events?type=…&user_id=…&since=…&until=…``) as a FilterSet (the
kit: :mod:`core.api.filters`): an empty parameter is no filter, a malformed one a 400 naming it."""

from django import forms

from core.api.filters import Filter, FilterSet, InstantField, TextField, apply_filters
from core.ids import is_object_id
from users import events
from users.models import AuditEvent


class EventTypesField(TextField):
    """One or more event types, comma-separated (``customer.created,customer.updated``)."""

    def parse(self, text):
        types = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [t for t in types if t not in events.TYPES]
        if unknown:
            raise forms.ValidationError(f"{unknown[0][:60]!r} is no event type (docs/events.md lists them).")
        return types


class ObjectIdField(TextField):
    def parse(self, text):
        if not is_object_id(text.strip()):
            raise forms.ValidationError(f"must be a customer _id (24 hex digits), got {text[:40]!r}.")
        return text.strip()


class EventFilterSet(FilterSet):
    type = Filter(EventTypesField, field_name="action", lookup_expr="in")
    user_id = Filter(ObjectIdField, field_name="customer_id")
    since = Filter(InstantField, field_name="created_at", lookup_expr="gte")
    until = Filter(InstantField, field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ()


def filter_events(queryset, params):
    """``queryset`` narrowed by the query parameters; ValidationFailed for the first malformed one."""
    return apply_filters(EventFilterSet, params, queryset)
