"""The kit of the list filters (django-filter): form fields that read one query parameter each, a
``Filter`` that takes its field class, and :func:`apply_filters`, which runs a FilterSet and answers its
first error as one 400 naming the parameter ("status must be one of …").

A field gives None when its parameter was not sent (or sent empty), and its filter then leaves the
queryset as it is; any other value filters, an empty list too ("none of these"). Text is taken as sent
unless the filter says ``strip=True``; NUL characters, which PostgreSQL refuses in a query, are a 400.
"""

from datetime import datetime, time
from datetime import timezone as dt_timezone

import django_filters
from django import forms
from django.utils.dateparse import parse_date, parse_datetime

from core.api.errors import ValidationFailed, sentence

NUL_MESSAGE = "must not contain NUL characters."


class TextField(forms.CharField):
    """Text (stripped only with ``strip=True``; with ``cut_to``, its first characters: a longer text
    would match nothing more)."""

    def __init__(self, *, strip=False, cut_to=None, error_messages=None, **kwargs):
        super().__init__(strip=strip, error_messages={"null_characters_not_allowed": NUL_MESSAGE,
                                                      **(error_messages or {})}, **kwargs)
        self.cut_to = cut_to

    def to_python(self, value):
        text = super().to_python(value)[:self.cut_to]
        return self.parse(text) if text else None

    def parse(self, text: str):
        """The value of a parameter sent (not empty); a subclass reads it, raising ValidationError
        when it is malformed."""
        return text


class TrueFalseField(TextField):
    def parse(self, text):
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise forms.ValidationError(f"must be true or false, got {text[:40]!r}.")
        return lowered == "true"


class WholeNumberField(TextField):
    def parse(self, text):
        try:
            return int(text.strip())
        except ValueError:
            raise forms.ValidationError(f"must be a whole number, got {text[:40]!r}.")


class OneOfField(TextField):
    """One of ``options`` in any case, given back in small letters (no options: any text)."""

    def __init__(self, *, options=(), **kwargs):
        super().__init__(**kwargs)
        self.options = options

    def choice(self, text: str) -> str:
        return text.lower()

    def refusal(self) -> forms.ValidationError:
        return forms.ValidationError(f"must be one of {', '.join(self.options)}.")

    def parse(self, text):
        choice = self.choice(text)
        if self.options and choice not in self.options:
            raise self.refusal()
        return choice


class Filter(django_filters.Filter):
    """A filter whose parameter is read by ``field_class`` (the keyword arguments the filter does not
    know go to the field, e.g. ``strip=True``). Without a ``method`` it filters by
    ``field_name__lookup_expr`` whenever the field gave a value (not None)."""

    def __init__(self, field_class=TextField, **kwargs):
        self.field_class = field_class
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        if self.distinct:
            qs = qs.distinct()
        return self.get_method(qs)(**{f"{self.field_name}__{self.lookup_expr}": value})


class FilterSet(django_filters.FilterSet):
    """``error_codes``: the API error codes its fields' refusals may carry; any other refusal (Django's
    own, such as max_length) is the generic validation_error."""

    error_codes: tuple[str, ...] = ()


def apply_filters(filterset_class: type[FilterSet], params, queryset, **kwargs):
    """``queryset`` narrowed by the query parameters ``params`` (a QueryDict or a dict); ``kwargs`` go to
    the FilterSet. ValidationFailed for the first malformed parameter (in the FilterSet's order),
    named in the message: "name must not contain NUL characters.", "excluding_ids: at most 100 ids."."""
    filterset = filterset_class(params, queryset=queryset, **kwargs)
    if not filterset.is_valid():
        name, errors = next(iter(filterset.form.errors.as_data().items()))
        code = errors[0].code if errors[0].code in filterset_class.error_codes else None
        raise ValidationFailed(sentence(name, errors[0].messages[0]), code=code)
    return filterset.qs


class InstantField(TextField):
    """A point in time, ISO 8601 (``2026-11-30T08:00:00Z``, an offset, or a date meaning its midnight UTC)."""

    def parse(self, text):
        value = parse_datetime(text.strip())
        if value is None:
            day = parse_date(text.strip()) if len(text.strip()) == 10 else None
            if day is None:
                raise forms.ValidationError(f"must be an ISO 8601 time such as 2026-11-30T08:00:00Z, got {text[:40]!r}.")
            value = datetime.combine(day, time.min)
        return value if value.tzinfo else value.replace(tzinfo=dt_timezone.utc)
