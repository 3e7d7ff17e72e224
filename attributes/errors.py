"""Error sentences of the attribute APIs: one message naming where the problem is, such as
"attribute[0].value is required." (the wording of the bulk updates and filterUsersByAttributes)."""

from rest_framework import serializers
from rest_framework.settings import api_settings

from core.api.errors import sentence


def first_error(detail, where: str = "") -> str:
    """The first error of a DRF error detail, as one sentence naming where it is."""
    if isinstance(detail, dict):
        for key, sub in detail.items():
            if not sub:
                continue
            if key == api_settings.NON_FIELD_ERRORS_KEY:
                return first_error(sub, where)
            if isinstance(key, int):  # ListField errors are keyed by the item's index
                return first_error(sub, f"{where}[{key}]")
            return first_error(sub, f"{where}.{key}" if where else str(key))
    if isinstance(detail, list):
        for index, sub in enumerate(detail):
            if isinstance(sub, (dict, list)):
                if sub:  # ListSerializer errors: one entry per item, empty for the valid ones
                    return first_error(sub, f"{where}[{index}]")
            else:
                return sentence(where, str(sub))
    return sentence(where, str(detail))


class SentenceErrors:
    """For a request serializer (the top level only): its first field error becomes one sentence."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [first_error(exc.detail)]}) from exc
