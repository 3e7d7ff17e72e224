from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Customers"

    def ready(self):
        from core import jobs
        from users import job_customers, services
        from users.transfers import exports, imports  # noqa: F401  register the customer_import / _export jobs

        jobs.on_job_ended(services.record_job_event)
        job_customers.register_kind(imports.KIND)
