from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0005_plural_names")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="last_latency_ms",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
