"""Customer groups: a named set of an application's customers, built from a file / JSON (``bulk``) or
from conditions on customer attributes (``conditional``). See docs/groups.md.

- ``UserGroup``: the group as the API shows it; ``job`` is its latest membership job (core.models.Job),
  whose state is the group's progress (``selectors.effective_status``).
- ``Membership``: the customers a bulk group's files and JSON put in it, one row per (group, customer),
  written set-based by ``groups.processing``. Conditional groups have none: their members are computed
  from the conditions at read time. ``whitelisted_users`` / ``blacklisted_users`` apply at read time too.
- ``GroupMemberCount``: the number of membership rows of a group, kept exact by statement-level
  triggers on the membership table (migration 0001), whoever writes it (processing, the purge of
  archived customers through migration 0002's trigger, deletions), so a million-member group's
  ``item_total`` costs one row read.
- ``GroupUidCounter``: the last ``uid`` given in an application (race-safe ``uid``: one row per
  application, incremented with ``INSERT … ON CONFLICT DO UPDATE … RETURNING``).
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from core.ids import new_object_id
from core.tenancy.models import Application
from core.jobs.models import Job


class UserGroup(models.Model):
    BULK = "bulk"
    CONDITIONAL = "conditional"
    TYPES = [(BULK, "bulk (file / JSON)"), (CONDITIONAL, "conditional (attribute conditions)")]

    PENDING = "pending"
    PROCESSING = "processing"
    ACTIVE = "active"
    FAILED = "failed"
    STATUSES = [(s, s) for s in (PENDING, PROCESSING, ACTIVE, FAILED)]

    id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="customer_groups",
                                    db_index=False)  # (application, uid) is unique: that index serves it
    uid = models.PositiveIntegerField(editable=False, help_text="Increasing number of the group in its application.")
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=2000)
    type = models.CharField(max_length=20, choices=TYPES)
    # Stored outcome of the last membership change (pending until the first one succeeds); while a job
    # runs or after it failed, the job's state wins (selectors.effective_status).
    status = models.CharField(max_length=20, choices=STATUSES, default=PENDING)
    is_active = models.BooleanField(default=True)
    file_url = models.CharField(max_length=2000, blank=True, default="",
                                help_text="The last file given (a URL, or a file uploaded in the admin).")
    conditions = models.JSONField(
        default=list, blank=True,
        help_text='[{"user_attribute_definition_id", "type", "value": "<text>"}], all must hold.')
    whitelisted_users = ArrayField(models.CharField(max_length=24), default=list, blank=True,
                                   help_text="Always members (unless blacklisted).")
    blacklisted_users = ArrayField(models.CharField(max_length=24), default=list, blank=True,
                                   help_text="Never members.")
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                            help_text="The latest membership job (file or JSON).")
    created_by = models.JSONField(default=dict, blank=True)  # {"type", "id", "name"} of core.actors.Actor
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True, help_text="When the membership last changed.")
    version = models.PositiveIntegerField(default=0, help_text="__v: one more at every change of the group.")

    class Meta:
        verbose_name = "customer group"
        constraints = [models.UniqueConstraint(fields=["application", "uid"], name="usergroup_app_uid_uniq")]

    def __str__(self):
        return f"{self.uid} {self.name}"


class Membership(models.Model):
    """A customer a bulk group's files / JSON added. Written only set-based (groups/processing.py)."""

    pk = models.CompositePrimaryKey("group_id", "customer_id")
    # No database foreign keys and no index on customer_id: a million inserted rows would otherwise run
    # a million referential checks and rewrite a customer index as large as the whole table. Rows are
    # only inserted for customers looked up in the same statement, by a transaction that holds the
    # group row (FOR KEY SHARE). Deleting a group goes through the ORM (its collector deletes the rows
    # by the primary key's group_id); deleting customers (the purge) fires the statement trigger of
    # migration 0002, which deletes their rows by primary key probes into each bulk group of their
    # application.
    group = models.ForeignKey(UserGroup, on_delete=models.CASCADE, db_constraint=False, db_index=False,
                              related_name="memberships")
    customer = models.ForeignKey("users.Customer", on_delete=models.DO_NOTHING, db_constraint=False,
                                 db_index=False, related_name="group_memberships")

    class Meta:
        verbose_name = "group membership"


class GroupMemberCount(models.Model):
    """Rows of ``Membership`` per group, maintained by triggers (never written by Python code)."""

    group = models.OneToOneField(UserGroup, on_delete=models.CASCADE, primary_key=True, related_name="member_count")
    members = models.BigIntegerField(default=0)


class GroupUidCounter(models.Model):
    application = models.OneToOneField(Application, on_delete=models.CASCADE, primary_key=True, related_name="+")
    last_uid = models.PositiveIntegerField(default=0)
