"""A storefront customer's password: kept beside the customer (users.Customer stays lean for the lists
and searches of a million customers; most customers of a store never set a password)."""

from django.db import models


class Credential(models.Model):
    """The customer's password hash (Django's hashers: Argon2id first), when it was set, and the hashes
    of the previous ones for ``password_settings.history`` (newest first, at most PASSWORD_HISTORY_MAX)."""

    customer = models.OneToOneField("users.Customer", on_delete=models.CASCADE, primary_key=True,
                                    related_name="credential")
    password = models.CharField(max_length=256)
    password_changed_at = models.DateTimeField()
    previous_passwords = models.JSONField(default=list, blank=True)

    def __str__(self):
        return f"credential of {self.customer_id}"
