"""Request shapes of the webhook operations; the rules (the URL's guard, known event types) are in
webhooks/services.py."""

from rest_framework import serializers

from core.api.fields import StrictBooleanField, StrictCharField


class EventTypesField(serializers.ListField):
    child = StrictCharField(max_length=60)


class SubscriptionSerializer(serializers.Serializer):
    url = StrictCharField(max_length=2000, help_text="Where events are POSTed: http or https, a public address.")
    event_types = EventTypesField(required=False, max_length=100,
                                  help_text="The event types to receive (docs/events.md); empty or absent: all.")
    description = StrictCharField(required=False, allow_blank=True, max_length=500)
    active = StrictBooleanField(required=False, help_text="false: paused (deliveries wait).")


class SubscriptionUpdateSerializer(SubscriptionSerializer):
    url = StrictCharField(required=False, max_length=2000)


class RedeliverSerializer(serializers.Serializer):
    event_id = StrictCharField(required=False, min_length=24, max_length=24,
                               help_text="One event to send again (its id).")
    failed_since = serializers.DateTimeField(required=False,
                                             help_text="Or: every event whose delivery failed since this time.")
