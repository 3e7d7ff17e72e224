"""Membership rows of deleted customers go with them, by primary key probes instead of an index on
customer_id (which every million-row insert would have to rewrite across all groups)."""

import django.db.models.deletion
from django.db import migrations, models

# A statement trigger (one DELETE per statement, whoever deletes customers: the purge, a bulk SQL
# delete): the deleted customers × the bulk groups of their applications, each pair one probe of the
# membership primary key (group_id, customer_id). The membership delete trigger then fixes the counts.
FORGET = """
CREATE FUNCTION customer_groups_forget_deleted_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM customer_groups_membership m
   USING old_rows o, customer_groups_usergroup g
   WHERE g.application_id = o.application_id AND g.type = 'bulk'
     AND m.group_id = g.id AND m.customer_id = o.id;
  RETURN NULL;
END $$;

CREATE TRIGGER customer_groups_forget_deleted_customers AFTER DELETE ON users_customer
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_groups_forget_deleted_customers();
"""

DROP_FORGET = """
DROP TRIGGER IF EXISTS customer_groups_forget_deleted_customers ON users_customer;
DROP FUNCTION IF EXISTS customer_groups_forget_deleted_customers();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('customer_groups', '0001_initial'),
        ('users', '0003_covering_prefix_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='membership',
            name='membership_customer_idx',
        ),
        migrations.AlterField(
            model_name='membership',
            name='customer',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='group_memberships', to='users.customer'),
        ),
        migrations.RunSQL(FORGET, DROP_FORGET),
    ]
