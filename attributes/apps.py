from django.apps import AppConfig


class AttributesConfig(AppConfig):
    name = "attributes"
    verbose_name = "Customer attributes"

    def ready(self):
        from attributes import bulk  # registers the attribute_bulk_update job handler
        from attributes.import_columns import AttributeColumns
        from users.transfers.columns import register_column_provider

        register_column_provider(AttributeColumns())  # attribute slug columns in customer import files
        from users import job_customers

        job_customers.register_kind(bulk.KIND)  # its summary event links to the customers it set a value for
