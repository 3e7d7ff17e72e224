"""Webhook subscriptions in the admin console (company-scoped), at parity with the API, always through
webhooks.services:

- **create** (full staff and superusers, for an application of their company): URL, event types (none: all),
  description, active; the request checked by the API's serializer (its errors on the form), the URL's guard
  and the event types by the service (a refusal shown on the form); the signing secret on the next page,
  once (``core.tenancy.admin.shown_once``: not stored in clear, not cached, never shown again);
- **edit** URL, event types, description, active (``services.update_subscription``, only what changed: an
  unchanged ``active`` does not restart the failure clock);
- actions: pause, turn on again, **rotate the secret** (the new one shown once; the old one keeps signing for
  WEBHOOK_SECRET_GRACE_SECONDS), redeliver the last day's failures, delete (with the delivery log);
- the **delivery log** (read-only), per subscription, and its action "Redeliver selected deliveries"
  (``services.redeliver_deliveries``: the same ``webhook-id``, the event's id, as every redelivery).

Read-only staff see subscriptions and deliveries, with no add page, no save button, no action, and never a
secret; staff of another company see none of them."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils import timezone

from core.actors import Actor
from core.api.errors import ServiceError
from core.tenancy.admin import shown_once
from core.tenancy.admin_forms import ServiceAdminForm, ServiceAdminMixin, checked_by_serializer
from core.tenancy.scoping import CompanyScopedAdminMixin, ReadOnlyAdminMixin, manages_integrations
from users import events
from webhooks import selectors, services
from webhooks.models import Delivery, Subscription
from webhooks.serializers import SubscriptionSerializer, SubscriptionUpdateSerializer

MANAGE_PERMISSION = "webhooks.change_subscription"
MAX_REDELIVERED = 1000  # selected deliveries per action; more: "Redeliver what failed …" on the subscription
ATTEMPTS_SHOWN = 50  # on a delivery's page, newest first


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


@admin.register(Delivery)
class DeliveryAdmin(CompanyScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The delivery log: every event sent to a subscription, its attempts' outcome."""

    company_field = "subscription__application__company"
    list_display = ("id", "subscription", "webhook_id", "status", "attempts", "last_status_code", "last_error",
                    "next_attempt_at", "held", "created_at", "finished_at")
    fields = ("subscription", "webhook_id", "event_id", "status", "attempts", "next_attempt_at", "held",
              "last_status_code", "last_error", "created_at", "finished_at", "attempt_log_shown")
    readonly_fields = fields
    list_filter = ("status",)
    search_fields = ("=subscription__id",)
    search_help_text = "A subscription's id: its delivery log."
    list_select_related = ("subscription",)
    show_full_result_count = False  # a busy subscription has millions
    actions = ["redeliver_selected"]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        event_ids = selectors.event_ids_of(changelist.result_list)  # the page's events' ids in one query
        for row in changelist.result_list:
            row.webhook_id = event_ids[row.event_id]
        return changelist

    @admin.display(description="event id (webhook-id)")
    def webhook_id(self, obj):
        found = getattr(obj, "webhook_id", None)
        return found if found is not None else selectors.event_ids_of([obj])[obj.event_id]

    @admin.display(description="attempts, newest first")
    def attempt_log_shown(self, obj):
        attempts = selectors.attempts_of(obj, ATTEMPTS_SHOWN)
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td><td>{}</td></tr>", (
            (_when(a.attempted_at), a.status_code or "no answer", a.latency_ms, a.error or "-",
             _when(a.next_attempt_at) if a.next_attempt_at else "-") for a in attempts))
        if not rows:
            return "none yet"
        return format_html("<table><thead><tr><th>at</th><th>status</th><th>latency</th><th>error</th>"
                           "<th>next attempt</th></tr></thead><tbody>{}</tbody></table>", rows)

    def has_redeliver_permission(self, request):
        return request.user.has_perm(MANAGE_PERMISSION)

    @admin.action(description="Redeliver selected deliveries (their events queued again, same webhook-id)",
                  permissions=["redeliver"])
    def redeliver_selected(self, request, queryset):
        selected = list(queryset.select_related(None).only("id", "subscription_id", "event_id")[:MAX_REDELIVERED + 1])
        if len(selected) > MAX_REDELIVERED:
            self.message_user(request, f"Select at most {MAX_REDELIVERED} deliveries (for more, use “Redeliver "
                                       "what failed in the last 24 hours” on the subscriptions).", messages.ERROR)
            return
        try:
            queued = services.redeliver_deliveries(selected, Actor.from_request(request))
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Queued again: {queued} event(s).", messages.SUCCESS)
        if queued < len({(d.subscription_id, d.event_id) for d in selected}):
            self.message_user(request, "Events no longer in the event log (trimmed) cannot be sent again.",
                              messages.WARNING)


class SubscriptionForm(ServiceAdminForm):
    """What the API's createWebhookSubscription / updateWebhookSubscription take, checked by their serializer
    (clean) and saved by webhooks.services (write)."""

    url = forms.CharField(max_length=2000, label="URL", widget=forms.TextInput(attrs={"class": "vURLField"}),
                          help_text="Where events are POSTed: http or https, a public address.")
    event_types = forms.MultipleChoiceField(
        choices=[(t, t) for t in sorted(events.TYPES)], required=False, widget=forms.CheckboxSelectMultiple,
        help_text="The event types to receive (docs/events.md); none ticked: all.")
    description = forms.CharField(max_length=500, required=False)
    active = forms.BooleanField(required=False, initial=True, help_text="Off: paused (deliveries wait).")

    FIELDS = ("url", "event_types", "description", "active")

    class Meta:
        model = Subscription
        fields = ("application",)

    secret = None  # the new signing secret, once created (shown on the next page)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if self.instance._state.adding:
            data, serializer = {name: cleaned[name] for name in self.FIELDS}, SubscriptionSerializer
        else:  # only what changed: an unchanged "active" must not restart a failing subscription's clock
            data = {name: cleaned[name] for name in self.FIELDS if name in self.changed_data}
            serializer = SubscriptionUpdateSerializer
        self.validated = checked_by_serializer(self, serializer, data)
        return cleaned

    def write(self, actor: Actor) -> Subscription:
        if self.instance._state.adding:
            created = services.create_subscription(self.cleaned_data["application"], self.validated, actor)
            self.secret = created.secret
            return created.subscription
        if not self.validated:
            return self.instance  # nothing changed
        return services.update_subscription(self.instance, self.validated, actor)


@admin.register(Subscription)
class SubscriptionAdmin(ServiceAdminMixin, CompanyScopedAdminMixin, admin.ModelAdmin):
    company_field = "application__company"
    form = SubscriptionForm
    change_form_template = "admin/webhooks/subscription/change_form.html"
    list_display = ("url", "application", "active", "event_types_shown", "failing_since", "disabled_at",
                    "created_at")
    list_filter = ("active",)
    search_fields = ("url", "description")
    EDITABLE = SubscriptionForm.FIELDS
    STATE = ("failing_since", "disabled_at", "disabled_reason", "previous_secret_until", "created_by", "created_at",
             "updated_at", "delivery_log")
    actions = ["pause", "turn_on", "rotate_secret", "redeliver_failed"]

    @admin.display(description="deliveries")
    def delivery_log(self, subscription):
        url = reverse("admin:webhooks_delivery_changelist") + f"?q={subscription.pk}"
        return format_html('<a href="{}">the delivery log</a>', url)

    @admin.display(description="event types")
    def event_types_shown(self, subscription):
        return ", ".join(subscription.event_types) or "all"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("application", *self.EDITABLE)
        if not self.has_change_permission(request, obj):
            return ("id", "application", "url", "event_types_shown", "description", "active", *self.STATE)
        return ("id", "application", *self.EDITABLE, *self.STATE)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if not self.has_change_permission(request, obj):
            return self.get_fields(request, obj)
        return ("id", "application", *self.STATE)

    # --- who writes: full staff of the company (the webhooks permissions of their role) and superusers

    def has_add_permission(self, request):
        return super().has_add_permission(request) and manages_integrations(request)

    def has_manage_permission(self, request):
        return request.user.has_perm(MANAGE_PERMISSION)

    def has_rotate_permission(self, request):
        return self.has_manage_permission(request) and manages_integrations(request)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)  # form.write(): through the services
        if not change:
            request._new_secrets = [(obj, form.secret)]

    def response_add(self, request, obj, post_url_continue=None):
        return self._secrets_page(request, request._new_secrets, "Webhook subscription created",
                                  "Configure your receiver to verify each delivery with it (Standard Webhooks: "
                                  "the webhook-id, webhook-timestamp and webhook-signature headers). A lost "
                                  "secret is replaced with the “Rotate the signing secret” action.")

    def _secrets_page(self, request, issued, title, note):
        return shown_once(self, request, title, secret_name="signing secret", rows=issued, note=note,
                          cells=(("id", "subscription-id", lambda s, _: s.pk),
                                 ("signing secret", "signing-secret", lambda _, secret: secret),
                                 ("event types", "event-types", lambda s, _: ", ".join(s.event_types) or "all")))

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

    # --- actions

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

    @admin.action(description="Rotate the signing secret of selected subscriptions (the old one signs for the "
                              "grace period)", permissions=["rotate"])
    def rotate_secret(self, request, queryset):
        actor = Actor.from_request(request)
        rotated = [services.rotate_secret(subscription, actor) for subscription in queryset[:100]]
        for new in rotated:
            self.log_change(request, new.subscription, "Rotated the signing secret.")
        until = rotated[0].subscription.previous_secret_until if rotated else None
        note = ("The previous secret keeps signing beside the new one until "
                f"{until:%Y-%m-%d %H:%M} UTC: switch the receiver to the new one before then." if until else "")
        return self._secrets_page(request, [(r.subscription, r.secret) for r in rotated], "New signing secrets",
                                  note)

    @admin.action(description="Redeliver what failed in the last 24 hours", permissions=["manage"])
    def redeliver_failed(self, request, queryset):
        since = timezone.now() - timedelta(hours=24)
        self._each(request, queryset, "Queued again",
                   lambda s, actor: services.redeliver(s, failed_since=since, actor=actor))
