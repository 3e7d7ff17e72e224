from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Tenancy and API access"

    def ready(self):
        from core import jobs, messages  # noqa: F401  messages: registers its Celery task in web and worker
        from core.tenancy import schema  # noqa: F401  registers the OpenAPI auth extension

        jobs.load_handler_modules()
