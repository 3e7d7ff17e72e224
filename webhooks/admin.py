"""Webhook subscriptions in the admin console (company-scoped): their state and delivery log, and the
actions staff need when a receiver misbehaves: pause, turn on again, redeliver what failed. Creating a
subscription and rotating its secret (shown once) go through the API or ``manage.py webhooks``."""

from datetime import timedelta

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils import timezone

from core.actors import Actor
from core.api.errors import ServiceError
from core.tenancy.scoping import CompanyScopedAdminMixin, ReadOnlyAdminMixin
from webhooks import services
from webhooks.models import Delivery, Subscription


@admin.register(Delivery)
class DeliveryAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The delivery log: every event sent to a subscription, its attempts' outcome."""

    company_field = "subscription__application__company"
    list_display = ("id", "subscription", "event_id", "status", "attempts", "last_status_code", "last_error",
                    "next_attempt_at", "held", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("=subscription__id",)
    list_select_related = ("subscription",)
    show_full_result_count = False  # a busy subscription has millions


@admin.register(Subscription)
class SubscriptionAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    company_field = "application__company"
    list_display = ("url", "application", "active", "event_types", "failing_since", "disabled_at", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "description")
    fields = ("application", "url", "event_types", "description", "active", "failing_since", "disabled_at",
              "disabled_reason", "created_by", "created_at", "updated_at", "delivery_log")
    readonly_fields = fields
    actions = ["pause", "turn_on", "redeliver_failed"]

    @admin.display(description="deliveries")
    def delivery_log(self, subscription):
        url = reverse("admin:webhooks_delivery_changelist") + f"?q={subscription.pk}"
        return format_html('<a href="{}">the delivery log</a>', url)

    def has_add_permission(self, request):
        return False  # a secret is shown once: created through the API or manage.py webhooks

    def has_change_permission(self, request, obj=None):
        return False

    def has_manage_permission(self, request):
        return request.user.has_perm("webhooks.change_subscription")

    def delete_model(self, request, obj):
        services.delete_subscription(obj, Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            services.delete_subscription(subscription, Actor.from_request(request))

    def get_deleted_objects(self, objs, request):
        """The confirmation page lists the subscriptions, not each of their (possibly millions of) deliveries."""
        objs = list(objs)
        perms_needed = set() if self.has_delete_permission(request) else {"webhook subscription"}
        return [str(o) for o in objs], {"webhook subscriptions": len(objs)}, perms_needed, []

    def _each(self, request, queryset, verb: str, apply) -> None:
        actor, done, errors = Actor.from_request(request), 0, []
        for subscription in queryset:
            try:
                apply(subscription, actor)
            except ServiceError as exc:
                errors.append(f"{subscription}: {exc.message}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{verb}: {done} subscription(s).", messages.SUCCESS)
        for error in errors:
            self.message_user(request, error, messages.ERROR)

    @admin.action(description="Pause selected subscriptions (deliveries wait)", permissions=["manage"])
    def pause(self, request, queryset):
        self._each(request, queryset, "Paused", lambda s, actor: services.update_subscription(s, {"active": False}, actor))

    @admin.action(description="Turn selected subscriptions on (again)", permissions=["manage"])
    def turn_on(self, request, queryset):
        self._each(request, queryset, "Turned on", lambda s, actor: services.update_subscription(s, {"active": True}, actor))

    @admin.action(description="Redeliver what failed in the last 24 hours", permissions=["manage"])
    def redeliver_failed(self, request, queryset):
        since = timezone.now() - timedelta(hours=24)
        self._each(request, queryset, "Queued again",
                   lambda s, actor: services.redeliver(s, failed_since=since, actor=actor))
