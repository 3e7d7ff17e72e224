from django.db import migrations

from core.tenancy.staff_permissions import granting


class Migration(migrations.Migration):
    """Company staff created before webhooks existed get their permissions too."""

    dependencies = [
        ("webhooks", "0002_retention_indexes"),
        ("core", "0002_jobs"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(granting("webhooks"), migrations.RunPython.noop)]
