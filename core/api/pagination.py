"""The one pagination: page_no from 1, page_size (default 10, at most MAX_PAGE_SIZE)."""

from dataclasses import dataclass

from django.conf import settings


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
