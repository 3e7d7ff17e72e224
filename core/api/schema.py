"""The wire format, declared once.

A response body is a TypedDict. The presenter that builds it returns it (so that a type checker holds the
dict literal and the declaration together), and the OpenAPI document derives its component from it
(``serializer_of``): one component per TypedDict, constraints carried as ``Annotated[str, Schema(...)]``.
``answers`` adds the answers in the one error format (core.api.errors) that an operation can give.
Presenters keep building plain dicts: the hot paths pay nothing for the declaration.
"""

import functools
import types
import typing
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

from core.ids import OBJECT_ID_RE


class Schema(dict):
    """OpenAPI keywords for an ``Annotated`` type: ``Annotated[str, Schema(maxLength=100)]``."""

    def __init__(self, **keywords):
        super().__init__(keywords)

    __hash__ = object.__hash__  # so that ``Annotated[…, Schema(…)] | None`` can be spelled


ObjectId = Annotated[str, Schema(pattern=OBJECT_ID_RE.pattern, description="A 24-character hexadecimal id.")]
Instant = Annotated[str, Schema(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                                description="ISO 8601 instant in UTC with milliseconds.")]
InstantOrEmpty = Annotated[str, Schema(pattern=r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)?$",
                                       description="ISO 8601 instant in UTC with milliseconds; empty when none.")]
FreeForm = dict[str, Any]  # JSON chosen by the caller (meta and the like)


# --------------------------------------------------------------------------- TypedDict -> OpenAPI

def json_schema(hint) -> dict:
    """The OpenAPI schema of a type hint that is not a TypedDict (those become components)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        schema = json_schema(args[0])
        for extra in args[1:]:
            if isinstance(extra, Schema):
                schema.update(extra)
        return schema
    if origin in (NotRequired, typing.Required):
        return json_schema(args[0])
    if hint is Any:
        return {}
    if hint in _BASIC:
        return {"type": _BASIC[hint]}
    if origin is Literal:
        kinds = {_BASIC[type(value)] for value in args}
        return {"type": kinds.pop(), "enum": list(args)} if len(kinds) == 1 else {"enum": list(args)}
    if origin is list:
        return {"type": "array", "items": json_schema(args[0])}
    if origin is dict or hint is dict:
        value = args[1] if args else Any
        return {"type": "object", "additionalProperties": json_schema(value) if value is not Any else True}
    if origin in (typing.Union, types.UnionType):
        options = [json_schema(arg) for arg in args if arg is not type(None)]
        schema = options[0] if len(options) == 1 else {"oneOf": options}
        return {**schema, "nullable": True} if type(None) in args else schema
    raise TypeError(f"No OpenAPI schema for {hint!r} (a TypedDict must be a field of a TypedDict).")


_BASIC = {str: "string", int: "integer", float: "number", bool: "boolean"}


class DescribedField(serializers.Field):
    """A response field whose OpenAPI schema is given as is (see DescribedFieldExtension)."""

    def __init__(self, schema: dict, **kwargs):
        self.schema = schema
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value


class DescribedFieldExtension(OpenApiSerializerFieldExtension):
    target_class = DescribedField

    def map_serializer_field(self, auto_schema, direction):
        return dict(self.target.schema)


def _bare(hint):
    """The type under NotRequired / Required and Annotated."""
    while typing.get_origin(hint) in (NotRequired, typing.Required, Annotated):
        hint = typing.get_args(hint)[0]
    return hint


def _field(name: str, hint, required: bool) -> serializers.Field:
    bare = _bare(hint)
    options = {"required": required, "label": name}  # label: no title derived from "_id" or "__v"
    if typing.is_typeddict(bare):
        return serializer_of(bare)(**options)
    if typing.get_origin(bare) is list and typing.is_typeddict(typing.get_args(bare)[0]):
        return serializer_of(typing.get_args(bare)[0])(many=True, **options)
    return DescribedField(json_schema(hint), **options)


@functools.cache
def serializer_of(shape: type) -> type[serializers.Serializer]:
    """The DRF serializer (for drf-spectacular only) describing a TypedDict; one component per TypedDict,
    named after it."""
    hints = typing.get_type_hints(shape, include_extras=True)
    fields = {name: _field(name, hint, name in shape.__required_keys__) for name, hint in hints.items()}
    serializer = type(shape.__name__, (serializers.Serializer,),
                      {**fields, "__doc__": shape.__doc__ if shape.__doc__ != _TYPEDDICT_DOC else None,
                       "__module__": shape.__module__})
    return extend_schema_serializer(many=False)(serializer)  # a body is one object, even for a "list" action


_TYPEDDICT_DOC = TypedDict("_Probe", {}).__doc__  # what a TypedDict without a docstring reports


# --------------------------------------------------------------------------- errors

ErrorBody = TypedDict("Error", {
    "message": str,
    "code": str,
    "success": Literal[False],
    "request_id": str,
    "meta": NotRequired[FreeForm],  # {"errors": {field: [messages]}} for an invalid body
})
UnauthorizedBody = TypedDict("Unauthorized", {
    "message": str,
    "code": str,
    "success": Literal[False],
    "request_id": str,
    "meta": NotRequired[FreeForm],
    "authenticated": Literal[False],
})

ERRORS = {
    400: "The request is invalid; the message names the problem (meta.errors: per field).",
    401: "No access token, or an invalid or expired one.",
    403: "The token belongs to another company, or lacks the operation's scope.",
    404: "No such application of the company, or no such resource in it.",
    409: "The request conflicts with the current state (the message says which).",
    410: "The resource can no longer be restored.",
    429: "Too many requests from this client or for this identifier: wait the Retry-After header's seconds.",
}
# every platform URL: a malformed application_id, the token, its company and scope, no such application
PLATFORM_ERRORS = (400, 401, 403, 404)


def error_answer(code: int, body=None, description: str | None = None) -> OpenApiResponse:
    """One documented error answer (by default the API's: 401s say ``authenticated: false``)."""
    body = body or (UnauthorizedBody if code == 401 else ErrorBody)
    return OpenApiResponse(serializer_of(body), description=description or ERRORS[code])


def answers(ok, *errors: int, status: int = 200) -> dict:
    """``responses=`` of extend_schema: the success body (a TypedDict, or ``{status: TypedDict}``) and the
    error answers ``errors`` (status codes), each in the one error format."""
    success = ok if isinstance(ok, dict) else {status: ok}
    documented = {code: serializer_of(shape) for code, shape in success.items()}
    documented.update({code: error_answer(code) for code in sorted(set(errors))})
    return documented


def platform_answers(ok, *errors: int, status: int = 200) -> dict:
    """``answers`` for an operation under /company/{company_id}/application/{application_id}/."""
    return answers(ok, *PLATFORM_ERRORS, *errors, status=status)


# --------------------------------------------------------------------------- shared parameters and bodies

PAGE_PARAMS = [
    OpenApiParameter("page_no", {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                     description="Page number, from 1."),
    OpenApiParameter("page_size", {"type": "integer", "minimum": 1, "maximum": settings.MAX_PAGE_SIZE},
                     description="Items per page (default 10, at most MAX_PAGE_SIZE)."),
]


def object_id_param(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "string", "pattern": OBJECT_ID_RE.pattern}, OpenApiParameter.PATH,
                            description=description)


Page = TypedDict("Page", {
    "type": Literal["number"],
    "current": Annotated[int, Schema(minimum=1)],
    "size": Annotated[int, Schema(minimum=1)],
    "item_total": Annotated[int, Schema(minimum=0)],
    "has_next": bool,
})
Success = TypedDict("Success", {"success": bool})



def empty_query_values_are_absent(result, generator, request, public):
    """drf-spectacular postprocessing hook: the API reads an optional query parameter sent empty
    (``?page_no=``) as not sent, so the document says so (``allowEmptyValue``) where its schema would not
    admit "" anyway (a number, an enum, a pattern)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and not parameter.get("required") and \
                        (schema.get("type") not in ("string", "array") or {"enum", "pattern"} & schema.keys()):
                    parameter["allowEmptyValue"] = True
    return result


UNAVAILABLE = ("The database or cache is briefly out of reach (service_unavailable): try again after the "
               "Retry-After header's seconds (core/api/unavailable.py).")


def every_operation_may_be_unavailable(result, generator, request, public):
    """drf-spectacular postprocessing hook: any operation may answer 503 with ``Retry-After`` (in the one error
    format) while PostgreSQL or Redis is out of reach."""
    answer = {"description": UNAVAILABLE,
              "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                                          "description": "Seconds to wait before trying again."}},
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("responses", {}).setdefault("503", answer)
    return result
