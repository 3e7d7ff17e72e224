"""The permissions of company staff: every permission of the staff apps (core.tenancy.services.STAFF_APPS)
for the ``full`` role, only their ``view_*`` permissions for ``read_only`` (Django's admin then shows every
page without a way to change anything, and the actions that change customers need ``change_customer``).
``granting`` is for the migration of an app that staff use: it gives the staff who exist already the
permissions of their role."""

READ_ONLY = "read_only"  # = StaffProfile.READ_ONLY


def of_role(permissions, role: str):
    """``permissions`` (a queryset of auth.Permission) narrowed to what ``role`` gets."""
    return permissions.filter(codename__startswith="view_") if role == READ_ONLY else permissions


def granting(app_label: str):
    """A RunPython function that grants every company staff user the permissions of ``app_label`` their
    role gets."""

    def grant(apps, schema_editor):
        from django.apps import apps as global_apps
        from django.contrib.auth.management import create_permissions

        # Permissions are made after migrations (post_migrate); make this app's now, to grant them.
        create_permissions(global_apps.get_app_config(app_label), verbosity=0, apps=apps)
        permissions = apps.get_model("auth", "Permission").objects.filter(content_type__app_label=app_label)
        for profile in apps.get_model("core", "StaffProfile").objects.select_related("user"):
            # a historical model from before roles has no role: its staff were all full
            profile.user.user_permissions.add(*of_role(permissions, getattr(profile, "role", "full")))

    return grant
