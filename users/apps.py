from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Customers"

    def ready(self):
        from users.transfers import exports, imports  # noqa: F401  register the customer_import / _export jobs
