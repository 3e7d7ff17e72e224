"""Drop the ``varchar_pattern_ops`` twins Django adds beside indexes on varchar columns: nothing here
queries ids with LIKE, and each one costs an index insertion on every value written (a bulk update of
100,000 customers writes 100,000 values and 100,000 index rows)."""

from django.db import migrations

PATTERN_INDEXES = {
    "attributes_userattribute_id_5aa81ea8_like": ("attributes_userattribute", "id"),
    "attributes_userattribute_customer_id_655fd602_like": ("attributes_userattribute", "customer_id"),
    "attributes_userattributevalue_attribute_id_9811735e_like": ("attributes_userattributevalue", "attribute_id"),
}


class Migration(migrations.Migration):
    dependencies = [("attributes", "0001_initial")]

    operations = [
        migrations.RunSQL(f"DROP INDEX IF EXISTS {name}",
                          reverse_sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column} varchar_pattern_ops)")
        for name, (table, column) in PATTERN_INDEXES.items()
    ]
