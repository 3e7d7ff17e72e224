"""Customers API (Fynd Platform User service). Thin: validation in serializers, rules in services."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import Actor
from core.api.errors import ValidationFailed
from core.api.pagination import PageRequest, page_info
from core.api.schema import PAGE_PARAMS, Success, object_id_param, platform_answers
from core.api.views import validated
from core.tenancy.views import ApplicationScopedMixin
from users import eventlog, selectors, services
from users.presenters import customer_dict
from users.schema import CustomerList, EventList, Timeline, UserObject, UserSearch
from users.serializers import (
    ArchiveUserSerializer,
    BlockUsersSerializer,
    CreateUserSerializer,
    UnDeleteUserSerializer,
    UpdateUserSerializer,
)
from users.timeline import customer_timeline

USER_ID = object_id_param("user_id", "The customer's _id.")


class CustomerViewSet(ApplicationScopedMixin, viewsets.ViewSet):
    @extend_schema(
        operation_id="getCustomers", summary="Get a list of customers (newest first)",
        parameters=[
            OpenApiParameter("q", str, description="Email / phone / name prefix, or a Mongo-style JSON filter "
                             'such as {"$or":[{"emails.email":"a@b.com"},{"phoneNumbers.phone":"9876543210"}]}.'),
            OpenApiParameter("archived", str, enum=["false", "true", "all"],
                             description="false (default): live customers; true: archived only; all: both."),
            *PAGE_PARAMS,
        ],
        responses=platform_answers(CustomerList, 400),
    )
    def list(self, request, **kwargs):
        page = PageRequest.from_query(request.query_params)
        customers, total = selectors.list_customers(
            self.application, q=request.query_params.get("q"),
            archived=selectors.parse_archived(request.query_params.get("archived")), page=page,
        )
        return Response({"items": [customer_dict(c) for c in customers], "page": page_info(page, total)})

    @extend_schema(
        operation_id="searchUsers", summary="Find customers by exact email or phone",
        parameters=[
            OpenApiParameter("q", str, description="An email address or phone number."),
            OpenApiParameter("query", str, many=True, description="More emails or phone numbers (repeatable)."),
        ],
        responses=platform_answers(UserSearch, 400),
    )
    def search(self, request, **kwargs):
        values = [v for v in [request.query_params.get("q", "")] + request.query_params.getlist("query") if v]
        if len(values) > settings.MAX_SEARCH_QUERIES:
            raise ValidationFailed(f"At most {settings.MAX_SEARCH_QUERIES} search values per request.")
        users = selectors.search_customers(self.application, values, limit=settings.MAX_PAGE_SIZE) if values else []
        return Response({"users": [customer_dict(c) for c in users]})

    @extend_schema(operation_id="getCustomer", summary="Get one customer", parameters=[USER_ID],
                   responses=platform_answers(UserObject, 400))
    def retrieve(self, request, user_id, **kwargs):
        customer = selectors.get_customer(self.application, user_id)
        return Response({"user": customer_dict(customer, identities=selectors.identities_of(customer))})

    @extend_schema(operation_id="createUser", summary="Create a customer", request=CreateUserSerializer,
                   responses=platform_answers(UserObject, 400, 409))
    def create(self, request, **kwargs):
        data = validated(CreateUserSerializer, request)
        customer = services.create_customer(self.application, data, Actor.from_request(request))
        return Response({"user": customer_dict(selectors.get_customer(self.application, customer.id))})

    @extend_schema(operation_id="updateUser", summary="Update a customer (emails / phone_numbers replace the lists)",
                   parameters=[USER_ID], request=UpdateUserSerializer,
                   responses=platform_answers(UserObject, 400, 409))
    def update(self, request, user_id, **kwargs):
        data = validated(UpdateUserSerializer, request)
        customer = services.update_customer(self.application, user_id, data, Actor.from_request(request))
        return Response({"user": customer_dict(customer)})

    @extend_schema(operation_id="blockOrUnblockUsers", summary="Block or unblock customers",
                   request=BlockUsersSerializer, responses=platform_answers(Success, 400))
    def activation(self, request, **kwargs):
        data = validated(BlockUsersSerializer, request)
        services.set_customers_active(self.application, data["user_id"], data["status"], data["reason"],
                                      Actor.from_request(request))
        return Response({"success": True})

    @extend_schema(operation_id="archiveUser", summary="Archive (delete from the sales channel) a customer",
                   request=ArchiveUserSerializer, responses=platform_answers(Success, 400, 409))
    def archive(self, request, **kwargs):
        data = validated(ArchiveUserSerializer, request)
        services.archive_customer(self.application, data["user_id"], Actor.from_request(request),
                                  reason=data.get("reason", ""))
        return Response({"success": True})

    @extend_schema(operation_id="unDeleteUser", summary="Restore an archived customer",
                   request=UnDeleteUserSerializer, responses=platform_answers(Success, 400, 409, 410))
    def undelete(self, request, **kwargs):
        data = validated(UnDeleteUserSerializer, request)
        services.restore_customer(self.application, data["user_id"], data["reason"], Actor.from_request(request),
                                  reason_id=data.get("reason_id", ""))
        return Response({"success": True}, status=status.HTTP_200_OK)

    @extend_schema(operation_id="getUserTimeline", summary="The customer's timeline (audit events, newest first)",
                   parameters=[USER_ID], responses=platform_answers(Timeline, 400))
    def timeline(self, request, user_id, **kwargs):
        customer = selectors.get_customer(self.application, user_id)
        return Response(customer_timeline(customer))


class EventLogView(ApplicationScopedMixin, APIView):
    @extend_schema(
        operation_id="getEvents", summary="The application's events in sequence order (the event log)",
        parameters=[
            OpenApiParameter("after", str, description="page.next_id of the previous page; none: from the start."),
            OpenApiParameter("type", str, description="Only these event types, comma-separated."),
            OpenApiParameter("user_id", {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"},
                             description="Only the events of this customer."),
            OpenApiParameter("since", {"type": "string", "format": "date-time"},
                             description="Only events that occurred at or after this time."),
            OpenApiParameter("until", {"type": "string", "format": "date-time"},
                             description="Only events that occurred before this time."),
            PAGE_PARAMS[1],
        ],
        responses=platform_answers(EventList, 400),
    )
    def get(self, request, **kwargs):
        size = PageRequest.from_query(request.query_params, default_size=settings.MAX_PAGE_SIZE).size
        after = eventlog.decode_cursor(request.query_params.get("after"))
        events, has_next = eventlog.events_after(self.application, after, size=size, params=request.query_params)
        last = events[-1].sequence if events else after
        return Response({
            "items": [eventlog.event_dict(event, self.application.company_id) for event in events],
            "page": {"type": "cursor", "next_id": eventlog.encode_cursor(last), "has_next": has_next, "size": size},
        })
