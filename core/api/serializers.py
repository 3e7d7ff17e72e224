"""``InputSerializer``: a request body's serializer that is cheap to make.

DRF deep-copies a serializer's declared fields for every instance (``Field.__deepcopy__`` calls each
field's ``__init__`` again, and a nested serializer's fields once more), which was the largest share of
the Python time of the storefront's sign-ins (~0.3 ms of a request). An input serializer's fields hold no
state of a request until they are bound, so a shallow copy of each plain field (its own ``parent`` and
``field_name`` after binding, the validators shared, read only) is as good; nested input serializers are
copied the same way, their own fields made fresh when first used. Fields with a ``child`` (lists, dicts,
``many=True``) bind that child to themselves, so those are still deep-copied.
"""

import copy

from rest_framework import serializers
from rest_framework.fields import Field


def _fresh(field):
    if isinstance(field, InputSerializer):
        fresh = copy.copy(field)
        fresh.__dict__.pop("_fields", None)
        return fresh
    if (isinstance(field, serializers.BaseSerializer) or hasattr(field, "child")
            or type(field).__deepcopy__ is not Field.__deepcopy__):
        return copy.deepcopy(field)
    return copy.copy(field)


class InputSerializer(serializers.Serializer):
    """A serializer of request bodies (validation only), whose fields are copied shallowly per instance."""

    def get_fields(self):
        return {name: _fresh(field) for name, field in self._declared_fields.items()}
