"""The outbox of a machine where nothing is configured: one file per email (``.eml``) or SMS (``.txt``)
in MESSAGE_OUTBOX_DIR, so that a developer can read the code they were sent."""

import secrets
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


def write(channel: str, content: bytes, suffix: str) -> Path:
    folder = Path(settings.MESSAGE_OUTBOX_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%f")
    path = folder / f"{stamp}-{channel}-{secrets.token_hex(3)}{suffix}"
    tmp = path.with_suffix(".partial")
    tmp.write_bytes(content)
    tmp.replace(path)  # a reader never sees half a message
    return path


class EmailBackend(BaseEmailBackend):
    """Django email backend (EMAIL_BACKEND) writing each message to the outbox as an RFC 5322 file."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            write("email", message.message().as_bytes(linesep="\n"), ".eml")
        return len(email_messages)
