"""The audit events become the event log (docs/events.md): published, version and sequence.

``published`` is added with a database default of false, which PostgreSQL writes for the existing rows
without rewriting the table, then the default becomes true for new rows: events recorded before the log
existed are not published (integrations start from the upgrade, not from years of history)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0006_linked_identities_old_password_hash"),
    ]

    operations = [
        migrations.RunSQL("CREATE SEQUENCE users_event_sequence", "DROP SEQUENCE users_event_sequence"),
        migrations.AddField(
            model_name="auditevent",
            name="published",
            field=models.BooleanField(default=True, db_default=False),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="published",
            field=models.BooleanField(default=True, db_default=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="version",
            field=models.PositiveSmallIntegerField(default=1, db_default=1),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="sequence",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(condition=models.Q(("sequence__isnull", False)), fields=["application", "sequence"],
                               name="event_sequence_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(condition=models.Q(("published", True), ("sequence__isnull", True)), fields=["id"],
                               name="event_unsequenced_idx"),
        ),
    ]
