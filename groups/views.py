"""Customer groups API (seed 002 "Customer Group", the SDK 3.4.2's *UserGroup* methods) and the users of
a group. Thin: request shapes in serializers, rules in services, reads in selectors, wire format in
presenters. Reads need customers/read, writes customers/write (core.tenancy.permissions' default)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import Actor
from core.api.pagination import PageRequest, page_info
from core.api.views import validated
from core.tenancy.views import ApplicationScopedMixin
from groups import selectors, serializers, services, states
from groups.presenters import group_dict
from core.api.schema import PAGE_PARAMS, platform_answers
from groups.schema import Group, GroupList
from users.presenters import customer_dict
from users.schema import CustomerList

GROUP_ID = OpenApiParameter("group_id", str, OpenApiParameter.PATH,
                            description="The group's 24-hex _id, or its uid (a number).")


def _group_response(request, group, status_code=status.HTTP_200_OK) -> Response:
    return Response(group_dict(group, request), status=status_code)


class GroupListView(ApplicationScopedMixin, APIView):
    @extend_schema(
        operation_id="getUserGroups", summary="List customer groups (newest first)",
        parameters=[
            *PAGE_PARAMS,
            OpenApiParameter("name", str, description="Part of the name (case-insensitive)."),
            OpenApiParameter("type", str, description="bulk (file / JSON) or conditional."),
            OpenApiParameter("status", str, enum=states.STATUS_VALUES),
            OpenApiParameter("group_uid", OpenApiTypes.INT, description="The group's uid."),
        ],
        responses=platform_answers(GroupList, 400))
    def get(self, request, **kwargs):
        page = PageRequest.from_query(request.query_params)
        groups, total = selectors.list_groups(self.application, request.query_params, page)
        definitions = selectors.definitions_of(groups)
        return Response({"items": [group_dict(g, request, definitions=definitions) for g in groups],
                         "page": page_info(page, total)})

    @extend_schema(operation_id="createUserGroup",
                   summary="Create a customer group: from a CSV file (file_url) or from attribute conditions",
                   request=serializers.CreateGroupSerializer, responses=platform_answers({201: Group}, 400))
    def post(self, request, **kwargs):
        group = services.create_group(self.application, validated(serializers.CreateGroupSerializer, request),
                                      Actor.from_request(request))
        return _group_response(request, group, status.HTTP_201_CREATED)


class GroupDetailView(ApplicationScopedMixin, APIView):
    @extend_schema(operation_id="getUserGroupById", summary="Get a customer group (status, progress, error file)",
                   parameters=[GROUP_ID], responses=platform_answers(Group, 400))
    def get(self, request, group_id, **kwargs):
        return _group_response(request, selectors.get_group(self.application, group_id))

    @extend_schema(operation_id="updateUserGroup",
                   summary="Update a group: name, description, conditions, or a new file (the whole membership)",
                   parameters=[GROUP_ID], request=serializers.UpdateGroupSerializer,
                   responses=platform_answers(Group, 400, 409))
    def put(self, request, group_id, **kwargs):
        data = validated(serializers.UpdateGroupSerializer, request)
        group = services.update_group(self.application, group_id, data, Actor.from_request(request))
        return _group_response(request, group)

    @extend_schema(operation_id="updateUserGroupPartially",
                   summary="Add / remove customers (a CSV with an action column, or user_data), white / blacklists",
                   parameters=[GROUP_ID], request=serializers.PatchGroupSerializer,
                   responses=platform_answers(Group, 400, 409))
    def patch(self, request, group_id, **kwargs):
        data = validated(serializers.PatchGroupSerializer, request)
        group = services.patch_group(self.application, group_id, data, Actor.from_request(request))
        return _group_response(request, group)


class GroupUsersView(ApplicationScopedMixin, APIView):
    @extend_schema(operation_id="getUserGroupUsers", summary="The customers of a group, newest first",
                   parameters=[GROUP_ID, *PAGE_PARAMS],
                   responses=platform_answers(CustomerList, 400, 409))
    def get(self, request, group_id, **kwargs):
        page = PageRequest.from_query(request.query_params)
        group = selectors.get_group(self.application, group_id)
        customers, total = selectors.group_members(self.application, group, page)
        return Response({"items": [customer_dict(c) for c in customers], "page": page_info(page, total)})
