from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Customer sessions"

    def ready(self):
        from sessions_app import receivers  # noqa: F401  (connects the block / archive receiver)
        from sessions_app import schema  # noqa: F401  (registers the storefront's OpenAPI auth)
        from sessions_app.platform_config import stored_value
        from users.services import register_archive_window

        register_archive_window(lambda application: stored_value(application, "delete_account_day"))
