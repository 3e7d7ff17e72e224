"""Customer attributes API (seed 002 "Customer Attributes"). Thin: shapes in serializers, rules in
services, wire format in presenters. Reads need customers/read, writes customers/write (the default
of core.tenancy.permissions)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from attributes import filters, selectors, services
from attributes.presenters import attribute_dict, definition_dict
from attributes.serializers import (
    BulkUserAttributeSerializer,
    DefinitionSerializer,
    DeleteBulkUserAttributeSerializer,
    UserAttributeBodySerializer,
)
from core.actors import Actor
from core.api.pagination import PageRequest, page_info
from core.api.schema import PAGE_PARAMS, object_id_param, platform_answers
from core.api.views import validated
from core.tenancy.views import ApplicationScopedMixin
from attributes.schema import Attribute, AttributeList, AttributesSet, Definition, DefinitionList, SuccessMessage
from users.selectors import get_customer


DEFINITION_ID = object_id_param("attribute_def_id", "The attribute definition's _id.")
USER_ID = object_id_param("user_id", "The customer's _id.")


def success(message: str) -> Response:
    """The SDK's SuccessMessage: {"success": "true", "message"} (attributes.schema.SuccessMessage)."""
    return Response({"success": "true", "message": message})


class DefinitionListView(ApplicationScopedMixin, APIView):
    @extend_schema(
        operation_id="getUserAttributeDefinitions",
        summary="List attribute definitions (pinned first by pin_order, then newest)",
        parameters=[
            OpenApiParameter("excluding_ids", str, description="Comma-separated definition ids to leave out."),
            OpenApiParameter("slug", str, description="Exact slug."),
            OpenApiParameter("type", str, description="string, number, boolean, date, datetime or json."),
            *[OpenApiParameter(name, OpenApiTypes.BOOL) for name in filters.BOOLEAN_FILTERS],
            OpenApiParameter("pin_order", OpenApiTypes.INT),
            OpenApiParameter("name", str, description="Case-insensitive fragment of the name."),
            *PAGE_PARAMS,
        ],
        responses=platform_answers(DefinitionList, 400),
    )
    def get(self, request, **kwargs):
        page = PageRequest.from_query(request.query_params)
        items, total = selectors.list_definitions(self.application, request.query_params, page)
        return Response({"items": [definition_dict(d) for d in items], "page": page_info(page, total)})

    @extend_schema(operation_id="createUserAttributeDefinition", summary="Create an attribute definition",
                   request=DefinitionSerializer,
                   responses=platform_answers({201: Definition}, 400, 409))
    def post(self, request, **kwargs):
        data = validated(DefinitionSerializer, request)
        definition = services.create_definition(self.application, data, Actor.from_request(request))
        return Response(definition_dict(definition), status=status.HTTP_201_CREATED)


class DefinitionDetailView(ApplicationScopedMixin, APIView):
    @extend_schema(operation_id="getUserAttributeDefinitionById", summary="Get an attribute definition",
                   parameters=[DEFINITION_ID], responses=platform_answers(Definition, 400))
    def get(self, request, attribute_def_id, **kwargs):
        return Response(definition_dict(selectors.get_definition(self.application, attribute_def_id)))

    @extend_schema(operation_id="updateUserAttributeDefinition",
                   summary="Update an attribute definition (the fields sent; a type change converts the values)",
                   parameters=[DEFINITION_ID], request=DefinitionSerializer,
                   responses=platform_answers(Definition, 400, 409))
    def put(self, request, attribute_def_id, **kwargs):
        data = validated(DefinitionSerializer, request, partial=True)
        definition = services.update_definition(self.application, attribute_def_id, data,
                                                Actor.from_request(request))
        return Response(definition_dict(definition))

    @extend_schema(operation_id="deleteUserAttributeDefinitionById",
                   summary="Delete an attribute definition and every value of it", parameters=[DEFINITION_ID],
                   responses=platform_answers(SuccessMessage, 400, 409))
    def delete(self, request, attribute_def_id, **kwargs):
        removed = services.delete_definition(self.application, attribute_def_id, Actor.from_request(request))
        return success(f"Attribute definition deleted with {removed} customer value{'s' if removed != 1 else ''}.")


class UserAttributeView(ApplicationScopedMixin, APIView):
    """One customer's value of one definition."""

    @extend_schema(operation_id="getUserAttribute", summary="Get a customer's value of a definition",
                   parameters=[DEFINITION_ID, USER_ID], responses=platform_answers(Attribute, 400))
    def get(self, request, attribute_def_id, user_id, **kwargs):
        definition = selectors.get_definition(self.application, attribute_def_id)
        customer = get_customer(self.application, user_id)
        return Response(attribute_dict(selectors.get_attribute(self.application, definition, customer.id)))

    @extend_schema(operation_id="updateUserAttribute",
                   summary="Create (201) or replace (200) a customer's value of a definition",
                   parameters=[DEFINITION_ID, USER_ID], request=UserAttributeBodySerializer,
                   responses=platform_answers({200: Attribute, 201: Attribute}, 400))
    def put(self, request, attribute_def_id, user_id, **kwargs):
        data = validated(UserAttributeBodySerializer, request)
        attribute, created = services.set_value(
            self.application, attribute_def_id, user_id, data["attribute"]["value"], Actor.from_request(request),
            customer_overridden=data.get("customer_overridden"))
        return Response(attribute_dict(attribute), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(operation_id="deleteUserAttribute", summary="Delete a customer's value of a definition",
                   parameters=[DEFINITION_ID, USER_ID], responses=platform_answers(SuccessMessage, 400))
    def delete(self, request, attribute_def_id, user_id, **kwargs):
        services.delete_value(self.application, attribute_def_id, user_id, Actor.from_request(request))
        return success("User attribute deleted.")


class CustomerAttributesView(ApplicationScopedMixin, APIView):
    """Every value of one customer."""

    @extend_schema(operation_id="getUserAttributesForUser", summary="List a customer's attribute values",
                   parameters=[USER_ID, *PAGE_PARAMS], responses=platform_answers(AttributeList, 400))
    def get(self, request, user_id, **kwargs):
        page = PageRequest.from_query(request.query_params)
        customer = get_customer(self.application, user_id)
        items, total = selectors.list_customer_attributes(self.application, customer.id, page)
        return Response({"items": [attribute_dict(a) for a in items], "page": page_info(page, total)})

    @extend_schema(operation_id="updateUserAttributes",
                   summary="Set several attribute values of a customer (all or nothing)",
                   parameters=[USER_ID], request=BulkUserAttributeSerializer,
                   responses=platform_answers(AttributesSet, 400))
    def post(self, request, user_id, **kwargs):
        data = validated(BulkUserAttributeSerializer, request)
        attributes = services.set_values(self.application, user_id, [dict(item) for item in data["attributes"]],
                                         Actor.from_request(request))
        return Response({"success": True, "attributes": [attribute_dict(a) for a in attributes]})

    @extend_schema(operation_id="deleteUserAttributesInBulk",
                   summary="Delete a customer's values of several definitions",
                   parameters=[USER_ID, OpenApiParameter("definition_ids", str, description="Comma-separated, when the "
                                                "client cannot send a DELETE body.")],
                   request=DeleteBulkUserAttributeSerializer, responses=platform_answers(SuccessMessage, 400))
    def delete(self, request, user_id, **kwargs):
        if not request.data and request.query_params.get("definition_ids"):
            body = {"definition_ids": [i.strip() for i in request.query_params["definition_ids"].split(",")
                                       if i.strip()]}
            serializer = DeleteBulkUserAttributeSerializer(data=body)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        else:
            data = validated(DeleteBulkUserAttributeSerializer, request)
        removed = services.delete_values(self.application, user_id, data["definition_ids"],
                                         Actor.from_request(request))
        return success(f"Deleted {removed} attribute value{'s' if removed != 1 else ''}.")


class AttributeByIdView(ApplicationScopedMixin, APIView):
    @extend_schema(operation_id="getUserAttributeById", summary="Get a customer's attribute value by its id",
                   parameters=[object_id_param("attribute_id", "The value's _id.")],
                   responses=platform_answers(Attribute, 400))
    def get(self, request, attribute_id, **kwargs):
        return Response(attribute_dict(selectors.get_attribute_by_id(self.application, attribute_id)))
