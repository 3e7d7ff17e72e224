"""Webhook subscriptions under …/application/{application_id}/webhooks/: reads need customers/read,
writes application/webhooks/write (docs/webhooks.md)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import Actor
from core.api.pagination import PageRequest, page_info
from core.api.schema import PAGE_PARAMS, Success, object_id_param, platform_answers
from core.api.views import validated
from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_WEBHOOKS_WRITE
from core.tenancy.views import ApplicationScopedMixin
from webhooks import selectors, services
from webhooks.presenters import delivery_dict, subscription_dict
from webhooks.schema import Redelivered, WebhookDeliveryList, WebhookSubscription, WebhookSubscriptionList
from webhooks.serializers import RedeliverSerializer, SubscriptionSerializer, SubscriptionUpdateSerializer

SUBSCRIPTION_ID = object_id_param("subscription_id", "The subscription's id.")
SCOPES = {"GET": SCOPE_CUSTOMERS_READ, "POST": SCOPE_WEBHOOKS_WRITE, "PUT": SCOPE_WEBHOOKS_WRITE,
          "DELETE": SCOPE_WEBHOOKS_WRITE}


class SubscriptionsView(ApplicationScopedMixin, APIView):
    required_scopes = SCOPES

    @extend_schema(operation_id="getWebhookSubscriptions", summary="The application's webhook subscriptions",
                   parameters=PAGE_PARAMS, responses=platform_answers(WebhookSubscriptionList, 400))
    def get(self, request, **kwargs):
        page = PageRequest.from_query(request.query_params)
        subscriptions = selectors.subscriptions_of(self.application)
        total = subscriptions.count()
        items = subscriptions[page.offset:page.offset + page.size]
        return Response({"items": [subscription_dict(s) for s in items], "page": page_info(page, total)})

    @extend_schema(operation_id="createWebhookSubscription", summary="Subscribe a URL to the application's events "
                   "(the answer shows the signing secret, once)", request=SubscriptionSerializer,
                   responses=platform_answers(WebhookSubscription, 400, status=201))
    def post(self, request, **kwargs):
        data = validated(SubscriptionSerializer, request)
        created = services.create_subscription(self.application, data, Actor.from_request(request))
        return Response(subscription_dict(created.subscription, secret=created.secret), status=201)


class SubscriptionView(ApplicationScopedMixin, APIView):
    required_scopes = SCOPES

    @extend_schema(operation_id="getWebhookSubscription", summary="One webhook subscription",
                   parameters=[SUBSCRIPTION_ID], responses=platform_answers(WebhookSubscription, 400, 404))
    def get(self, request, subscription_id, **kwargs):
        return Response(subscription_dict(selectors.get_subscription(self.application, subscription_id)))

    @extend_schema(operation_id="updateWebhookSubscription", summary="Change a webhook subscription (active: "
                   "false pauses it, true turns a disabled one on again)", parameters=[SUBSCRIPTION_ID],
                   request=SubscriptionUpdateSerializer, responses=platform_answers(WebhookSubscription, 400, 404))
    def put(self, request, subscription_id, **kwargs):
        subscription = selectors.get_subscription(self.application, subscription_id)
        data = validated(SubscriptionUpdateSerializer, request)
        return Response(subscription_dict(services.update_subscription(subscription, data, Actor.from_request(request))))

    @extend_schema(operation_id="deleteWebhookSubscription", summary="Delete a webhook subscription and its "
                   "delivery log", parameters=[SUBSCRIPTION_ID], responses=platform_answers(Success, 400, 404))
    def delete(self, request, subscription_id, **kwargs):
        subscription = selectors.get_subscription(self.application, subscription_id)
        services.delete_subscription(subscription, Actor.from_request(request))
        return Response({"success": True})


class SecretView(ApplicationScopedMixin, APIView):
    required_scopes = SCOPES

    @extend_schema(operation_id="rotateWebhookSecret", summary="A new signing secret (shown once); the old one "
                   "keeps signing beside it for WEBHOOK_SECRET_GRACE_SECONDS", parameters=[SUBSCRIPTION_ID],
                   request=None, responses=platform_answers(WebhookSubscription, 400, 404))
    def post(self, request, subscription_id, **kwargs):
        subscription = selectors.get_subscription(self.application, subscription_id)
        rotated = services.rotate_secret(subscription, Actor.from_request(request))
        return Response(subscription_dict(rotated.subscription, secret=rotated.secret))


class DeliveriesView(ApplicationScopedMixin, APIView):
    required_scopes = SCOPES

    @extend_schema(operation_id="getWebhookDeliveries", summary="The subscription's delivery log, newest first",
                   parameters=[SUBSCRIPTION_ID, OpenApiParameter("status", str, enum=["pending", "succeeded", "failed"]),
                               *PAGE_PARAMS],
                   responses=platform_answers(WebhookDeliveryList, 400, 404))
    def get(self, request, subscription_id, **kwargs):
        subscription = selectors.get_subscription(self.application, subscription_id)
        page = PageRequest.from_query(request.query_params)
        deliveries = selectors.deliveries_of(subscription, request.query_params.get("status"))
        total = deliveries.count()
        items = list(deliveries[page.offset:page.offset + page.size])
        event_ids = selectors.event_ids_of(items)
        return Response({"items": [delivery_dict(d, event_ids[d.event_id]) for d in items],
                         "page": page_info(page, total)})


class RedeliverView(ApplicationScopedMixin, APIView):
    required_scopes = SCOPES

    @extend_schema(operation_id="redeliverWebhookEvents", summary="Send one event again, or every event whose "
                   "delivery failed since a time", parameters=[SUBSCRIPTION_ID], request=RedeliverSerializer,
                   responses=platform_answers(Redelivered, 400, 404))
    def post(self, request, subscription_id, **kwargs):
        subscription = selectors.get_subscription(self.application, subscription_id)
        data = validated(RedeliverSerializer, request)
        queued = services.redeliver(subscription, event_id=data.get("event_id"), failed_since=data.get("failed_since"),
                                    actor=Actor.from_request(request))
        return Response({"queued": queued})
