from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Storefront accounts"

    def ready(self):
        from accounts.passwords import PasswordHashField
        from users.hooks import register_customer_field

        # password_hash of createUser / updateUser and of the customer import (docs/migration.md)
        register_customer_field(PasswordHashField())
