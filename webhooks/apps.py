from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from users import eventlog
        from webhooks import services

        eventlog.on_sequenced(services.queue_deliveries)
