"""Customer attributes: typed definitions per application, one value per (definition, customer), and a
typed index of every value (one row per element) so that filters run on B-tree indexes, not on JSON.

See docs/attributes.md. Every write goes through attributes.services, which keeps the three tables in
step inside one transaction.
"""

from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from core.ids import new_object_id
from core.tenancy.models import Application


class Stamped(models.Model):
    """Who created and last changed a record, when, and its version (``__v``: one more at every write)."""

    created_by = models.CharField(max_length=200, blank=True, default="")
    updated_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class AttributeDefinition(Stamped):
    """What an attribute is: its type, whether it holds a list, its validations, how it is stored."""

    TYPE_CHOICES = [("string", "string"), ("number", "number"), ("boolean", "boolean"), ("date", "date"),
                    ("datetime", "datetime"), ("json", "json")]

    id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attribute_definitions")
    name = models.CharField(max_length=200)
    slug = models.CharField(max_length=100, help_text="Unique in the application (case-insensitively).")
    description = models.TextField(blank=True, default="")
    type = models.CharField(max_length=20, choices=TYPE_CHOICES)
    multi_value = models.BooleanField(default=False, help_text="Values are lists of the type.")
    customer_editable = models.BooleanField(default=False)
    encrypted = models.BooleanField(default=False, help_text="Values are encrypted at rest (Fernet).")
    pinned = models.BooleanField(default=False)
    pin_order = models.PositiveIntegerField(default=0)
    default_value = models.JSONField(null=True, blank=True, help_text="A valid value of the definition, or null.")
    validations = models.JSONField(default=list, blank=True, help_text='[{"type": "max_length", "value": 20}, ...]')
    is_locked = models.BooleanField(default=False, help_text="Locked definitions cannot be changed or deleted.")
    icon = models.CharField(max_length=500, blank=True, default="")
    ordering_channels = models.JSONField(default=list, blank=True)
    masking = models.JSONField(default=dict, blank=True)
    registration = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["application", "-created_at", "-id"], name="attrdef_app_newest_idx")]
        constraints = [
            models.UniqueConstraint(Lower("slug"), "application", name="attrdef_app_slug_uniq"),
        ]

    def __str__(self):
        return f"{self.name} ({self.slug})"


class UserAttribute(Stamped):
    """The value of one definition for one customer. Clear values live in ``value`` (JSON); values of
    encrypted definitions only in ``ciphertext`` (``value`` is NULL)."""

    id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+", db_index=False)
    # (definition, customer) is unique: that index also serves lookups by definition.
    definition = models.ForeignKey(AttributeDefinition, on_delete=models.CASCADE, related_name="values",
                                   db_index=False)
    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="attribute_values")
    value = models.JSONField(null=True, blank=True)
    ciphertext = models.TextField(blank=True, default="")
    customer_overridden = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["definition", "customer"], name="userattr_def_customer_uniq"),
            # Never both forms, never neither: a clear value or a ciphertext.
            models.CheckConstraint(
                condition=(Q(value__isnull=False) & Q(ciphertext="")) | (Q(value__isnull=True) & ~Q(ciphertext="")),
                name="userattr_clear_xor_encrypted"),
        ]

    def __str__(self):
        return f"{self.definition_id} of {self.customer_id}"


def _typed_index(column: str, name: str, opclass: str | None = None):
    """A B-tree led by the definition on one typed column, only over the rows that fill it (partial:
    a comparison on the column implies IS NOT NULL, so the planner uses it), carrying the customer id
    so that "customers whose X ..." is an index-only scan."""
    if opclass:
        return models.Index("definition_id", OpClass(column, name=opclass), name=name, include=["customer_id"],
                            condition=Q(**{f"{column}__isnull": False}))
    return models.Index(fields=["definition_id", column], name=name, include=["customer_id"],
                        condition=Q(**{f"{column}__isnull": False}))


class UserAttributeValue(models.Model):
    """The typed index of a value: one row per element (a scalar value has one row, a list one row per
    item, an empty list none). Only one typed column is set per row, the one of the definition's type;
    encrypted values set only ``digest`` (a keyed HMAC of the canonical element, for equality)."""

    id = models.BigAutoField(primary_key=True)
    attribute = models.ForeignKey(UserAttribute, on_delete=models.CASCADE, related_name="index_rows")
    definition_id = models.CharField(max_length=24)  # denormalised from the attribute, for the indexes
    customer_id = models.CharField(max_length=24)
    position = models.PositiveIntegerField(default=0)
    text_value = models.TextField(null=True, blank=True)
    text_lower = models.TextField(null=True, blank=True)
    number_value = models.FloatField(null=True, blank=True)
    bool_value = models.BooleanField(null=True, blank=True)
    time_value = models.DateTimeField(null=True, blank=True, help_text="datetimes; dates at midnight UTC")
    digest = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        indexes = [
            _typed_index("text_value", "attrval_text_idx"),
            _typed_index("text_lower", "attrval_text_lower_idx", opclass="text_pattern_ops"),
            _typed_index("number_value", "attrval_number_idx"),
            _typed_index("bool_value", "attrval_bool_idx"),
            _typed_index("time_value", "attrval_time_idx"),
            _typed_index("digest", "attrval_digest_idx"),
            models.Index(fields=["customer_id", "definition_id"], name="attrval_customer_idx"),
        ]

    def __str__(self):
        return f"{self.definition_id}/{self.customer_id}[{self.position}]"
