"""The audit event types: every ``AuditEvent.action`` the service writes, named once.

Services record them (``users.services.record_event``, the import's COPY), the timeline titles and
details them, and the admin filters by them. Events about the application rather than one customer
(its platform config) are stored with an empty ``customer_id``.
"""

CUSTOMER_CREATED = "customer.created"
CUSTOMER_UPDATED = "customer.updated"
CUSTOMER_BLOCKED = "customer.blocked"
CUSTOMER_UNBLOCKED = "customer.unblocked"
CUSTOMER_ARCHIVED = "customer.archived"
CUSTOMER_RESTORED = "customer.restored"
CUSTOMER_PURGED = "customer.purged"

SESSION_CREATED = "session.created"
SESSION_DELETED = "session.deleted"
SESSIONS_DELETED = "sessions.deleted"

ATTRIBUTE_UPDATED = "attribute.updated"
ATTRIBUTE_DELETED = "attribute.deleted"

PLATFORM_CONFIG_UPDATED = "platform_config.updated"

# The storefront (accounts/): what customers do themselves.
SIGNED_UP = "account.signed_up"
SIGNED_IN = "account.signed_in"
SIGN_IN_FAILED = "account.sign_in_failed"
LOCKED_OUT = "account.locked"
UNLOCKED = "account.unlocked"
PASSWORD_CHANGED = "account.password_changed"
PASSWORD_RESET = "account.password_reset"
CONTACT_ADDED = "contact.added"
CONTACT_REMOVED = "contact.removed"
CONTACT_VERIFIED = "contact.verified"
ACCOUNT_DELETED = "account.deleted"
# The platform side issued a single-use sign-in token for the customer (loginWithToken, accounts/handoff.py).
SIGN_IN_TOKEN_ISSUED = "sign_in_token.issued"

# Social sign-in (accounts/social/): a provider identity linked to / unlinked from the customer.
IDENTITY_LINKED = "identity.linked"
IDENTITY_UNLINKED = "identity.unlinked"

# Customer groups (groups/): a group's own changes, and a customer entering or leaving its white / blacklist
# (single changes; a file's changes are its job's job.completed). data: group_id, uid, …
GROUP_CREATED = "group.created"
GROUP_UPDATED = "group.updated"
GROUP_DELETED = "group.deleted"
GROUP_MEMBERSHIP_CHANGED = "group.membership_changed"

# A background job ended (core.jobs): the one summary event of bulk work (imports, exports, bulk attribute
# updates, group files), with its counts and signed links to its files (docs/events.md).
JOB_COMPLETED = "job.completed"
JOB_FAILED = "job.failed"

# A webhook subscription that kept failing was turned off (webhooks/, docs/webhooks.md).
WEBHOOK_DISABLED = "webhook.subscription_disabled"

# Every event type above, for filters and subscriptions.
TYPES = frozenset(value for name, value in dict(globals()).items()
                  if name.isupper() and isinstance(value, str) and "." in value)
