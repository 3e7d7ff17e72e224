from django.db import migrations


def grant_staff_permissions(apps, schema_editor):
    """Company staff created before these models existed get their permissions too (as
    create_staff_user gives every permission of the customer_groups app to new staff)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    # Permissions are made after migrations (post_migrate); make this app's now, to grant them.
    create_permissions(global_apps.get_app_config("customer_groups"), verbosity=0, apps=apps)
    Permission = apps.get_model("auth", "Permission")
    StaffProfile = apps.get_model("core", "StaffProfile")
    permissions = list(Permission.objects.filter(content_type__app_label="customer_groups"))
    for profile in StaffProfile.objects.select_related("user"):
        profile.user.user_permissions.add(*permissions)


class Migration(migrations.Migration):

    dependencies = [
        ("customer_groups", "0002_membership_follows_customer_deletes"),
        ("core", "0002_jobs"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_staff_permissions, migrations.RunPython.noop)]
