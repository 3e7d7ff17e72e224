"""The filters of job lists (django-filter), for jobs of any kind: the caller hands the queryset (e.g. an
application's jobs of one kind) and the query parameters, and gets the filtered queryset back, or a 400
(``ValidationFailed``) naming the first bad parameter.

- ``search``: part of the file name, case-insensitive (its first 200 characters);
- ``start_date`` / ``end_date``: created on or after / on or before a day (YYYY-MM-DD, the whole day) or
  an ISO 8601 instant (UTC when it names no offset);
- ``status``: one status, or several comma-separated;
- ``file_format``: one of the formats the caller allows (any when it names none).
"""

from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

import django_filters
from django import forms

from core.api.errors import ValidationFailed
from core.jobs.models import Job

STATUSES = [status for status, _ in Job.STATUSES]
SEARCH_MAX_LENGTH = 200


# Each field's error message follows the parameter's name: "start_date must be a date …".

class SearchField(forms.Field):
    def to_python(self, value):
        text = (value or "").strip()[:SEARCH_MAX_LENGTH]
        if "\x00" in text:  # PostgreSQL text cannot hold it
            raise forms.ValidationError("must not contain NUL characters.")
        return text or None


class InstantField(forms.Field):
    """A day or an instant: (aware datetime, whole_day)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = value.strip()
        try:
            if len(text) == 10:
                day = datetime.strptime(text, "%Y-%m-%d").date()
                return datetime.combine(day, time(), tzinfo=dt_timezone.utc), True
            instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise forms.ValidationError(f"must be a date (YYYY-MM-DD) or an ISO 8601 instant, got {text[:40]!r}.")
        return (instant if instant.tzinfo else instant.replace(tzinfo=dt_timezone.utc)), False


class StatusesField(forms.Field):
    """Comma-separated statuses, as a list (empty when only commas or blanks were sent: no job matches)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        wanted = [s.strip().lower() for s in value.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in STATUSES]
        if unknown:
            raise forms.ValidationError(f"must be one of {', '.join(STATUSES)}; got {', '.join(unknown)[:80]}.")
        return wanted


class FileFormatField(forms.Field):
    def __init__(self, *, formats=None, **kwargs):
        super().__init__(**kwargs)
        self.formats = formats

    def to_python(self, value):
        if value in self.empty_values:
            return None
        file_format = value.strip().lower().lstrip(".")
        if self.formats and file_format not in self.formats:
            raise forms.ValidationError(f"must be {' or '.join(self.formats)}.", code="invalid_file_format")
        return file_format


# Each filter filters only when its field gave a value (None: the parameter was not sent).

class SearchFilter(django_filters.Filter):
    field_class = SearchField

    def filter(self, qs, value):
        return qs if value is None else qs.filter(file_name__icontains=value)


class CreatedFromFilter(django_filters.Filter):
    field_class = InstantField

    def filter(self, qs, value):
        return qs if value is None else qs.filter(created_at__gte=value[0])


class CreatedUntilFilter(django_filters.Filter):
    field_class = InstantField

    def filter(self, qs, value):
        if value is None:
            return qs
        bound, whole_day = value
        return qs.filter(created_at__lt=bound + timedelta(days=1)) if whole_day else qs.filter(created_at__lte=bound)


class StatusesFilter(django_filters.Filter):
    field_class = StatusesField

    def filter(self, qs, value):
        return qs if value is None else qs.filter(status__in=value)


class FileFormatFilter(django_filters.Filter):
    field_class = FileFormatField

    def filter(self, qs, value):
        return qs if value is None else qs.filter(file_format=value)


class JobFilterSet(django_filters.FilterSet):
    search = SearchFilter()
    start_date = CreatedFromFilter()
    end_date = CreatedUntilFilter()
    status = StatusesFilter()
    file_format = FileFormatFilter()

    class Meta:
        model = Job
        fields = []

    def __init__(self, data=None, queryset=None, *, formats=None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.filters["file_format"].extra["formats"] = formats


def filter_jobs(queryset, params, *, formats=None):
    """``queryset`` narrowed by the list parameters in ``params`` (a QueryDict or a dict); ``formats``:
    the file formats allowed (None: any)."""
    filters = JobFilterSet(params, queryset, formats=formats)
    if not filters.is_valid():
        name, errors = next(iter(filters.errors.as_data().items()))
        raise ValidationFailed(f"{name} {errors[0].messages[0]}", code=errors[0].code)
    return filters.qs
