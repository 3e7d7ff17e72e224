"""Groups, their memberships, the uid counter, and the triggers that keep GroupMemberCount exact."""

import core.ids
import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

# Statement-level triggers with transition tables: one UPDATE per statement (not per row), whoever
# writes the membership table (the set-based processing, the purge's cascade, group deletion).
COUNT_TRIGGERS = """
CREATE FUNCTION customer_groups_count_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO customer_groups_groupmembercount AS c (group_id, members)
  SELECT group_id, count(*) FROM new_rows GROUP BY group_id
  ON CONFLICT (group_id) DO UPDATE SET members = c.members + EXCLUDED.members;
  RETURN NULL;
END $$;

CREATE FUNCTION customer_groups_count_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE customer_groups_groupmembercount AS c SET members = c.members - d.members
    FROM (SELECT group_id, count(*) AS members FROM old_rows GROUP BY group_id) AS d
   WHERE c.group_id = d.group_id;
  RETURN NULL;
END $$;

CREATE TRIGGER customer_groups_membership_count_insert AFTER INSERT ON customer_groups_membership
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_groups_count_after_insert();
CREATE TRIGGER customer_groups_membership_count_delete AFTER DELETE ON customer_groups_membership
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_groups_count_after_delete();
"""

DROP_COUNT_TRIGGERS = """
DROP TRIGGER IF EXISTS customer_groups_membership_count_insert ON customer_groups_membership;
DROP TRIGGER IF EXISTS customer_groups_membership_count_delete ON customer_groups_membership;
DROP FUNCTION IF EXISTS customer_groups_count_after_insert();
DROP FUNCTION IF EXISTS customer_groups_count_after_delete();
"""


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('core', '0002_jobs'),
        ('users', '0003_covering_prefix_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='UserGroup',
            fields=[
                ('id', models.CharField(default=core.ids.new_object_id, editable=False, max_length=24, primary_key=True, serialize=False)),
                ('uid', models.PositiveIntegerField(editable=False, help_text='Increasing number of the group in its application.')),
                ('name', models.CharField(max_length=200)),
                ('description', models.CharField(max_length=2000)),
                ('type', models.CharField(choices=[('bulk', 'bulk (file / JSON)'), ('conditional', 'conditional (attribute conditions)')], max_length=20)),
                ('status', models.CharField(choices=[('pending', 'pending'), ('processing', 'processing'), ('active', 'active'), ('failed', 'failed')], default='pending', max_length=20)),
                ('is_active', models.BooleanField(default=True)),
                ('file_url', models.CharField(blank=True, default='', help_text='The last file given (a URL, or a file uploaded in the admin).', max_length=2000)),
                ('conditions', models.JSONField(blank=True, default=list, help_text='[{"user_attribute_definition_id", "type", "value": "<text>"}], all must hold.')),
                ('whitelisted_users', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=24), blank=True, default=list, help_text='Always members (unless blacklisted).', size=None)),
                ('blacklisted_users', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=24), blank=True, default=list, help_text='Never members.', size=None)),
                ('tags', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=100), blank=True, default=list, size=None)),
                ('created_by', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True)),
                ('processed_at', models.DateTimeField(blank=True, help_text='When the membership last changed.', null=True)),
                ('version', models.PositiveIntegerField(default=0, help_text='__v: one more at every change of the group.')),
                ('application', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='customer_groups', to='core.application')),
                ('job', models.ForeignKey(blank=True, help_text='The latest membership job (file or JSON).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='core.job')),
            ],
            options={
                'verbose_name': 'customer group',
            },
        ),
        migrations.CreateModel(
            name='GroupUidCounter',
            fields=[
                ('application', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='core.application')),
                ('last_uid', models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='GroupMemberCount',
            fields=[
                ('group', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='member_count', serialize=False, to='customer_groups.usergroup')),
                ('members', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='Membership',
            fields=[
                ('pk', models.CompositePrimaryKey('group_id', 'customer_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('customer', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='group_memberships', to='users.customer')),
                ('group', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='customer_groups.usergroup')),
            ],
            options={
                'verbose_name': 'group membership',
                'indexes': [models.Index(fields=['customer'], name='membership_customer_idx')],
            },
        ),
        migrations.AddConstraint(
            model_name='usergroup',
            constraint=models.UniqueConstraint(fields=('application', 'uid'), name='usergroup_app_uid_uniq'),
        ),
        migrations.RunSQL(COUNT_TRIGGERS, DROP_COUNT_TRIGGERS),
    ]
