"""The list filter kit (core.api.filters): its fields, its Filter (None is "not sent", an empty list is
"none of these") and apply_filters (the first malformed parameter, named, as one ValidationFailed)."""

import pytest
from django import forms

from core.api.errors import ValidationFailed
from core.api.filters import (Filter, FilterSet, OneOfField, TextField, TrueFalseField, WholeNumberField,
                              apply_filters)
from core.jobs.models import Job
from tests.helpers import COMPANY_ID


def refusal(field, value) -> str:
    with pytest.raises(forms.ValidationError) as caught:
        field.clean(value)
    return caught.value.messages[0]


def test_text_is_kept_as_sent_unless_stripped_and_empty_is_none():
    assert TextField(required=False).clean("  a b ") == "  a b "
    assert TextField(required=False, strip=True).clean("  a b ") == "a b"
    assert TextField(required=False, strip=True).clean("   ") is None
    assert TextField(required=False).clean("") is None
    assert TextField(required=False, strip=True, cut_to=3).clean(" abcdef") == "abc"


@pytest.mark.parametrize("field", [TextField(required=False), TextField(required=False, strip=True)])
def test_text_refuses_nul_characters(field):
    assert refusal(field, "a\x00b") == "must not contain NUL characters."


def test_true_false_and_whole_numbers():
    assert TrueFalseField(required=False).clean("TRUE") is True
    assert TrueFalseField(required=False).clean(" false") is False
    assert TrueFalseField(required=False).clean("") is None
    assert refusal(TrueFalseField(required=False), "yes") == "must be true or false, got 'yes'."
    assert WholeNumberField(required=False).clean(" 12") == 12
    assert WholeNumberField(required=False).clean("") is None
    assert refusal(WholeNumberField(required=False), "1.5") == "must be a whole number, got '1.5'."


def test_one_of_takes_any_case_and_no_options_is_any():
    field = OneOfField(required=False, options=["gold", "silver"])
    assert field.clean("Gold") == "gold"
    assert refusal(field, "bronze") == "must be one of gold, silver."
    assert OneOfField(required=False, options=None).clean("Bronze") == "bronze"


class CodedField(TextField):
    def parse(self, text):
        if text == "coded":
            raise forms.ValidationError("is refused with a code.", code="api_code")
        return text


class ListField(TextField):
    def parse(self, text):
        return [part for part in text.split(",") if part]


class JobFilters(FilterSet):
    error_codes = ("api_code",)

    file_name = Filter(TextField, strip=True, max_length=5)
    pinned = Filter(TrueFalseField, method="pinned_is")
    kind = Filter(CodedField)
    status = Filter(ListField, lookup_expr="in")
    file_format = Filter(OneOfField)

    class Meta:
        model = Job
        fields = ()

    def __init__(self, data=None, queryset=None, *, formats=None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.filters["file_format"].extra["options"] = formats

    def pinned_is(self, queryset, name, value):
        return queryset.filter(kind="pinned" if value else "loose")


@pytest.fixture
def jobs(application):
    return [Job.objects.create(company_id=COMPANY_ID, application=application, kind=kind, file_name=name,
                               status=status, file_format="csv")
            for kind, name, status in (("pinned", "a.csv", Job.PENDING), ("loose", "b.csv", Job.FAILED))]


def names(params, **kwargs):
    return sorted(apply_filters(JobFilters, params, Job.objects.all(), **kwargs).values_list("file_name", flat=True))


@pytest.mark.django_db
def test_apply_filters_filters_by_what_was_sent(jobs):
    assert names({}) == names({"file_name": "", "status": ""}) == ["a.csv", "b.csv"]
    assert names({"file_name": " a.csv "}) == ["a.csv"]
    assert names({"pinned": "false"}) == ["b.csv"]
    assert names({"status": Job.FAILED}) == ["b.csv"]
    assert names({"status": ","}) == []  # an empty list is a value: none of these


@pytest.mark.django_db
def test_apply_filters_hands_its_keyword_arguments_to_the_filterset(jobs):
    assert names({"file_format": "CSV"}, formats=["csv"]) == ["a.csv", "b.csv"]
    with pytest.raises(ValidationFailed, match="file_format must be one of json."):
        names({"file_format": "csv"}, formats=["json"])


@pytest.mark.parametrize("params, message, code", [
    ({"file_name": "a\x00"}, "file_name must not contain NUL characters.", "validation_error"),
    ({"file_name": "abcdefgh"}, "file_name: Ensure this value has at most 5 characters (it has 8).",
     "validation_error"),  # Django's own code (max_length) is not an API code
    ({"kind": "coded", "pinned": "maybe"}, "pinned must be true or false, got 'maybe'.",
     "validation_error"),  # the first in the FilterSet's order
    ({"kind": "coded"}, "kind is refused with a code.", "api_code"),
])
def test_apply_filters_names_the_first_malformed_parameter(params, message, code):
    with pytest.raises(ValidationFailed) as caught:
        apply_filters(JobFilters, params, Job.objects.none())
    assert (caught.value.message, caught.value.code) == (message, code)
