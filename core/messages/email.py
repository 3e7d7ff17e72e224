"""Email through Django's email framework (EMAIL_BACKEND: SMTP when configured, else the outbox)."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from core.messages.errors import DeliveryError
from core.messages.rendering import Email


def send(to: str, email: Email) -> None:
    message = EmailMultiAlternatives(email.subject, email.text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(email.html, "text/html")
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        raise DeliveryError(f"the SMTP server refused the recipient ({', '.join(map(str, codes))})",
                            temporary=not any(code >= 500 for code in codes)) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"the SMTP server answered {exc.smtp_code}", temporary=exc.smtp_code < 500) from None
    except (smtplib.SMTPException, OSError) as exc:  # connection refused or lost, timeouts, TLS
        raise DeliveryError(f"SMTP failed: {type(exc).__name__}: {str(exc)[:200]}", temporary=True) from None
