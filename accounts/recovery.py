"""Forgotten passwords, governed by the platform config's ``active`` and ``forgot_password``
(docs/accounts.md, "Forgotten passwords").

* By link: sendResetPasswordEmail / sendResetPasswordMobile send a link (settings.PASSWORD_RESET_URL)
  holding a single-use "reset" code; sendResetToken checks the code, forgotPassword uses it to set the
  new password and signs the customer in.
* By one-time code: sendForgotOTPOnEmail / sendForgotOTPOnMobile send a code of purpose "forgot";
  verifyEmailForgotOTP / verifyMobileForgotOTP exchange it for a ``forgot_token`` (a "reset" code too),
  and resetForgotPassword uses that, or the code an expired password got at sign-in, to set the password.

Every reset code is bound to the application and the customer and remembers when the password last
changed: once it changes (by any reset or update) the older codes stop working. A reset passes
``password_settings`` (services.set_password: rules and history), ends every session of the customer
(the thief's too), lifts their sign-in lockout and tells them by email. An unknown, blocked or archived
contact gets the same answers as a customer's, and nothing is sent to it.
"""

from django.conf import settings
from django.db import transaction

from accounts import limits, secrets, services
from accounts.models import Credential
from accounts.services import RESET_TOKEN_SECONDS, Contact, Outcome, Visit
from core import messages
from core.actors import Actor
from core.api.errors import ValidationFailed
from sessions_app import services as session_services
from users import events
from users import services as customer_services
from users.models import Customer
from users.selectors import customer_with_contacts

SESSIONS_ENDED_REASON = "Password reset"


def _require_recovery(application) -> dict:
    config = services.config_of(application)
    services.require_active(config)
    if not config.get("forgot_password", True):
        raise services.forbidden("Resetting a forgotten password is turned off for this store.",
                                 "forgot_password_disabled")
    return config


def _customer_actor(customer: Customer) -> Actor:
    return Actor("customer", customer.id, customer.username)


def _recoverable(application, contact: Contact) -> Customer | None:
    """The active customer ``contact`` belongs to; None for an unknown, blocked or archived one."""
    customer_id = services.find_customer_id(application, contact)
    customer = customer_with_contacts(application.id, customer_id) if customer_id else None
    return customer if customer is not None and customer.active and not customer.archived else None


def _password_stamp(customer_id: str) -> str:
    changed = Credential.objects.filter(customer_id=customer_id).values_list("password_changed_at", flat=True).first()
    return changed.isoformat() if changed else ""


def _issue_reset_code(application, customer: Customer, contact: Contact) -> str:
    data = {"customer_id": customer.id, "contact": contact.as_data(), "stamp": _password_stamp(customer.id)}
    return secrets.issue_token("reset", application.id, data, RESET_TOKEN_SECONDS)


def _required(value, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"{name} is required.")
    return value.strip()


def _customer_of_code(application, code: str) -> tuple[Customer, dict]:
    """The customer a live reset code was issued for (the code left in place), and the code's data."""
    data = secrets.peek_token("reset", application.id, code)
    customer = customer_with_contacts(application.id, str(data.get("customer_id") or ""))
    if customer is None or customer.archived or not customer.active:
        raise services.forbidden("This account cannot reset its password.", "account_unavailable")
    if "stamp" in data and data["stamp"] != _password_stamp(customer.id):
        raise secrets.TokenInvalid()  # the password changed since the code was issued
    return customer, data


def reset_link(application, code: str) -> str:
    return settings.PASSWORD_RESET_URL.replace("{code}", code).replace("{application_id}", application.id)


# ----------------------------------------------------------------------------- by link

def send_reset_link(visit: Visit, contact: Contact) -> Outcome:
    """sendResetPasswordEmail / sendResetPasswordMobile: a reset link to the contact, if a customer can use it."""
    _require_recovery(visit.application)
    limits.check("reset", ip=visit.ip, identifier=contact.address)
    customer = _recoverable(visit.application, contact)
    if customer is not None:
        code = _issue_reset_code(visit.application, customer, contact)
        context = {"link": reset_link(visit.application, code), "minutes": max(1, RESET_TOKEN_SECONDS // 60),
                   "first_name": customer.first_name}
        messages.send("reset_link", channel=contact.channel, to=contact.address, application=visit.application,
                      context=context)
    return Outcome({"status": "sent"})


def check_reset_code(visit: Visit, code) -> Outcome:
    """sendResetToken: whether a reset link's code still works (it stays usable)."""
    _require_recovery(visit.application)
    limits.check("reset", ip=visit.ip)
    _customer_of_code(visit.application, _required(code, "code"))
    return Outcome({"status": "success"})


def _reset(visit: Visit, config: dict, code, password) -> Customer:
    """The new password for the code's customer; the code is used up only when the password is accepted."""
    application = visit.application
    code = _required(code, "code")
    if not isinstance(password, str) or not password:
        raise ValidationFailed("password is required.")
    customer, data = _customer_of_code(application, code)
    actor = _customer_actor(customer)
    with transaction.atomic():
        services.set_password(application, customer, password, config, actor, event=events.PASSWORD_RESET)
        secrets.take_token("reset", application.id, code)  # of two concurrent resets one wins, the other rolls back
        if data.get("contact"):
            proven = services.contact_from_data(data["contact"])
            customer_services.mark_verified(application, customer.id, email=proven.email, phone=proven.phone,
                                            actor=actor)
    session_services.end_all_sessions(application, customer.id, SESSIONS_ENDED_REASON, actor)
    services.unlock(application, customer.id, actor)
    return customer


def forgot_password(visit: Visit, code, password) -> Outcome:
    """forgotPassword: the new password with a reset code, then a new session (LoginSuccess)."""
    config = _require_recovery(visit.application)
    limits.check("reset", ip=visit.ip)
    customer = _reset(visit, config, code, password)
    return Outcome({}, services.sign_in(visit, customer, "password_reset"))


def reset_forgot_password(visit: Visit, code, password) -> Outcome:
    """resetForgotPassword: the new password with a forgot_token or an expired password's code; no sign-in."""
    config = _require_recovery(visit.application)
    limits.check("reset", ip=visit.ip)
    _reset(visit, config, code, password)
    return Outcome({"success": True})


# ----------------------------------------------------------------------------- by one-time code

def send_forgot_code(visit: Visit, contact: Contact) -> Outcome:
    """sendForgotOTPOnEmail / sendForgotOTPOnMobile: a code of purpose "forgot" (EmailOtpSuccess / SendOtpSuccess).
    For a contact nobody can recover a code is issued all the same, never sent, so that the answer, the
    resend timer and the hourly cap do not tell it apart."""
    _require_recovery(visit.application)
    limits.check("reset", ip=visit.ip, identifier=contact.address)
    customer = _recoverable(visit.application, contact)
    if customer is not None:
        issued = services.send_code(visit, contact, "forgot", name=customer.first_name)
    else:
        issued = services.issue_code(visit, contact, "forgot")
    if contact.email:
        return Outcome({"success": True, "resend_email_token": issued.request_id})
    return Outcome(services.code_fields(contact, issued))


def verify_forgot_code(visit: Visit, *, code, request_id: str | None = None, contact: Contact | None = None) -> Outcome:
    """verifyEmailForgotOTP (email) / verifyMobileForgotOTP (request_id): a right code gives a single-use
    ``forgot_token`` for resetForgotPassword. Wrong codes count toward the "otp" lockout."""
    _require_recovery(visit.application)
    limits.check("reset", ip=visit.ip)
    proven = services.check_code(visit, contact, "forgot", request_id, code)
    customer = _recoverable(visit.application, proven)
    if customer is None:  # no code was sent there: only a blind guess gets here
        raise secrets.CodeExpired()
    return Outcome({"success": True, "forgot_token": _issue_reset_code(visit.application, customer, proven)})
