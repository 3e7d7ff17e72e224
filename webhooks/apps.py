from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from core import metrics
        from users import eventlog
        from webhooks import services
        from webhooks import metrics as webhook_metrics

        eventlog.on_sequenced(services.queue_deliveries)
        metrics.register_collector(webhook_metrics.collect)
