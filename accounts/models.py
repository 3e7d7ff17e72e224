"""A storefront customer's password: kept beside the customer (users.Customer stays lean for the lists
and searches of a million customers; most customers of a store never set a password)."""

from django.db import models


class Credential(models.Model):
    """The customer's password hash (Django's hashers: Argon2id first), when it was set, and the hashes
    of the previous ones for ``password_settings.history`` (newest first, at most PASSWORD_HISTORY_MAX)."""

    # No database check of its own (as contacts' application): the services write a credential only for a
    # customer they have just written or read, and an import of a million moved-in hashes would pay a
    # million checks at commit. Deleting a customer (always through the ORM) still deletes it.
    customer = models.OneToOneField("users.Customer", on_delete=models.CASCADE, primary_key=True,
                                    related_name="credential", db_constraint=False)
    password = models.CharField(max_length=256)
    password_changed_at = models.DateTimeField()
    previous_passwords = models.JSONField(default=list, blank=True)

    def __str__(self):
        return f"credential of {self.customer_id}"
