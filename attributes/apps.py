from django.apps import AppConfig


class AttributesConfig(AppConfig):
    name = "attributes"
    verbose_name = "Customer attributes"

    def ready(self):
        from attributes import bulk  # noqa: F401  registers the attribute_bulk_update job handler
        from attributes.import_columns import AttributeColumns
        from users.transfers.columns import register_column_provider

        register_column_provider(AttributeColumns())  # attribute slug columns in customer import files
