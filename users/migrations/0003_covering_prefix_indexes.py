"""Prefix-search indexes that lead with the application and cover what a page of matches needs.

The indexes of 0001 put the lower-cased text first and made PostgreSQL visit the table for every
match; at a million customers a name fragment such as ``priya`` (thousands of matches through first
name, username and email) took ~350 ms for getCustomers. These lead with ``application_id`` (one
tenant's range only) and INCLUDE the columns the page query of users/search.py reads, so it runs on
index-only scans (docs/bench.md). Built CONCURRENTLY: writes go on while they are built.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


def _prefix_index(expression, name, include):
    return models.Index(
        models.F("application"),
        django.contrib.postgres.indexes.OpClass(expression, name="varchar_pattern_ops"),
        include=include,
        name=name,
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0001_initial"),
        ("users", "0002_customer_count_triggers"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="customer",
            index=_prefix_index(django.db.models.functions.text.Lower("first_name"), "customer_first_prefix_idx",
                                ("first_name", "archived", "created_at", "id")),
        ),
        AddIndexConcurrently(
            model_name="customer",
            index=_prefix_index(django.db.models.functions.text.Lower("last_name"), "customer_last_prefix_idx",
                                ("last_name", "archived", "created_at", "id")),
        ),
        AddIndexConcurrently(
            model_name="customer",
            index=_prefix_index(django.db.models.functions.text.Lower("username"), "customer_username_prefix_idx",
                                ("username", "archived", "created_at", "id")),
        ),
        AddIndexConcurrently(
            model_name="customeremail",
            index=_prefix_index("email", "email_app_prefix_idx", ("customer",)),
        ),
        AddIndexConcurrently(
            model_name="customerphone",
            index=_prefix_index("phone", "phone_app_prefix_idx", ("country_code", "customer")),
        ),
        RemoveIndexConcurrently(model_name="customer", name="customer_first_name_idx"),
        RemoveIndexConcurrently(model_name="customer", name="customer_last_name_idx"),
        RemoveIndexConcurrently(model_name="customer", name="customer_username_idx"),
        RemoveIndexConcurrently(model_name="customeremail", name="email_prefix_idx"),
        RemoveIndexConcurrently(model_name="customerphone", name="phone_prefix_idx"),
    ]
