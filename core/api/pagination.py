"""The one pagination: page_no from 1, page_size (default 10, at most MAX_PAGE_SIZE)."""

from dataclasses import dataclass

from django.conf import settings

from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from core.api.errors import ValidationFailed


@dataclass(frozen=True)
class PageRequest:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @classmethod
    def from_query(cls, params, default_size: int = 10) -> "PageRequest":
        return cls(
            number=_positive_int(params, "page_no", 1, upper=1_000_000),
            size=_positive_int(params, "page_size", default_size, upper=settings.MAX_PAGE_SIZE),
        )


def _positive_int(params, name: str, default: int, upper: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValidationFailed(f"{name} must be a whole number, got {str(raw)[:40]!r}.")
    if value < 1:
        raise ValidationFailed(f"{name} must be 1 or more.")
    if value > upper:
        raise ValidationFailed(f"{name} must be at most {upper}.")
    return value


def page_info(page: PageRequest, item_total: int) -> dict:
    return {
        "type": "number",
        "current": page.number,
        "size": page.size,
        "item_total": item_total,
        "has_next": page.offset + page.size < item_total,
    }


class PageNumberPagination(BasePagination):
    """DRF pagination class for list endpoints that page an ordinary queryset."""

    results_key = "items"

    def paginate_queryset(self, queryset, request, view=None):
        self.page = PageRequest.from_query(request.query_params)
        self.item_total = queryset.count()
        return list(queryset[self.page.offset : self.page.offset + self.page.size])

    def get_paginated_response(self, data):
        return Response({self.results_key: data, "page": page_info(self.page, self.item_total)})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                self.results_key: schema,
                "page": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "current": {"type": "integer"},
                        "size": {"type": "integer"},
                        "item_total": {"type": "integer"},
                        "has_next": {"type": "boolean"},
                    },
                },
            },
        }
