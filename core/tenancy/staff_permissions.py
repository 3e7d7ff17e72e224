"""For migrations of an app that company staff use (core.tenancy.services.STAFF_APPS): give the staff who
exist already the permissions create_staff_user gives new staff."""


def granting(app_label: str):
    """A RunPython function that grants every permission of ``app_label`` to every company staff user."""

    def grant(apps, schema_editor):
        from django.apps import apps as global_apps
        from django.contrib.auth.management import create_permissions

        # Permissions are made after migrations (post_migrate); make this app's now, to grant them.
        create_permissions(global_apps.get_app_config(app_label), verbosity=0, apps=apps)
        permissions = list(apps.get_model("auth", "Permission").objects.filter(content_type__app_label=app_label))
        for profile in apps.get_model("core", "StaffProfile").objects.select_related("user"):
            profile.user.user_permissions.add(*permissions)

    return grant
