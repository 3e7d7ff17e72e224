"""Signing secrets: Standard Webhooks' ``whsec_`` + base64 of 24 random bytes, shown once, stored encrypted
(a key derived from SECRET_KEY: the service signs with them, so they cannot be hashed)."""

import base64
import secrets as random
from datetime import datetime

from standardwebhooks.webhooks import Webhook

from core.crypto import secret_key_fernet

PREFIX = "whsec_"
_INFO = b"webhook-signing-secrets/v1"


def new_secret() -> str:
    return PREFIX + base64.b64encode(random.token_bytes(24)).decode()


def seal(secret: str) -> str:
    return secret_key_fernet(_INFO).encrypt(secret.encode()).decode()


def unseal(ciphertext: str) -> str:
    return secret_key_fernet(_INFO).decrypt(ciphertext.encode()).decode()


def signing_secrets(subscription, now: datetime) -> list[str]:
    """The secrets a delivery is signed with: the current one, and the previous one during its grace
    period (a receiver that has not switched yet still verifies)."""
    secrets_ = [unseal(subscription.secret_ciphertext)]
    if subscription.previous_secret_ciphertext and subscription.previous_secret_until and \
            subscription.previous_secret_until > now:
        secrets_.append(unseal(subscription.previous_secret_ciphertext))
    return secrets_


class Signer:
    """Signs a batch's deliveries: the secrets unsealed once, a ``Webhook`` per secret made once."""

    def __init__(self, subscription, now: datetime):
        self._webhooks = [Webhook(secret) for secret in signing_secrets(subscription, now)]

    def signature(self, message_id: str, timestamp: datetime, body: str) -> str:
        return " ".join(webhook.sign(message_id, timestamp, body) for webhook in self._webhooks)
