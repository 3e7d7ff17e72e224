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

from django import forms

from core.api.filters import Filter, FilterSet, OneOfField, TextField, apply_filters
from core.jobs.models import Job

STATUSES = [status for status, _ in Job.STATUSES]
SEARCH_MAX_LENGTH = 200


class InstantField(TextField):
    """A day or an instant: (aware datetime, whole_day)."""

    def parse(self, text):
        text = text.strip()
        try:
            if len(text) == 10:
                day = datetime.strptime(text, "%Y-%m-%d").date()
                return datetime.combine(day, time(), tzinfo=dt_timezone.utc), True
            instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise forms.ValidationError(f"must be a date (YYYY-MM-DD) or an ISO 8601 instant, got {text[:40]!r}.")
        return (instant if instant.tzinfo else instant.replace(tzinfo=dt_timezone.utc)), False


class StatusesField(TextField):
    """Comma-separated statuses, as a list (empty when only commas or blanks were sent: no job matches)."""

    def parse(self, text):
        wanted = [s.strip().lower() for s in text.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in STATUSES]
        if unknown:
            raise forms.ValidationError(f"must be one of {', '.join(STATUSES)}; got {', '.join(unknown)[:80]}.")
        return wanted


class FileFormatField(OneOfField):
    """A format with or without its dot (".CSV" is csv); ``options``: the formats the caller allows."""

    def choice(self, text):
        return text.strip().lower().lstrip(".")

    def refusal(self):
        return forms.ValidationError(f"must be {' or '.join(self.options)}.", code="invalid_file_format")


class JobFilterSet(FilterSet):
    error_codes = ("invalid_file_format",)

    search = Filter(TextField, strip=True, cut_to=SEARCH_MAX_LENGTH, field_name="file_name", lookup_expr="icontains")
    start_date = Filter(InstantField, method="created_from")
    end_date = Filter(InstantField, method="created_until")
    status = Filter(StatusesField, lookup_expr="in")
    file_format = Filter(FileFormatField)

    class Meta:
        model = Job
        fields = []

    def __init__(self, data=None, queryset=None, *, formats=None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.filters["file_format"].extra["options"] = formats

    def created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=value[0])

    def created_until(self, queryset, name, value):
        bound, whole_day = value
        if whole_day:
            return queryset.filter(created_at__lt=bound + timedelta(days=1))
        return queryset.filter(created_at__lte=bound)


def filter_jobs(queryset, params, *, formats=None):
    """``queryset`` narrowed by the list parameters in ``params`` (a QueryDict or a dict); ``formats``:
    the file formats allowed (None: any)."""
    return apply_filters(JobFilterSet, params, queryset, formats=formats)
