from django.apps import AppConfig


class AttributesConfig(AppConfig):
    name = "attributes"
    verbose_name = "Customer attributes"

    def ready(self):
        from attributes import bulk  # noqa: F401  registers the attribute_bulk_update job handler
