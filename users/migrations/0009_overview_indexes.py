"""The console overview's indexes (users/overview.py), built without locking writes on large tables."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('users', '0008_retention_indexes'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='customer',
            index=models.Index(condition=models.Q(('active', False), ('archived', False)), fields=['application'],
                               name='customer_blocked_idx'),
        ),
        AddIndexConcurrently(
            model_name='auditevent',
            index=models.Index(condition=models.Q(('action__in', ['account.signed_up', 'account.signed_in'])),
                               fields=['application', 'action', 'created_at'], name='event_account_activity_idx'),
        ),
    ]
