"""One delivery attempt: render the kind's templates with the application's name, hand the result to
the channel's backend. Every failure comes out as a ``DeliveryError``."""

from django.template import TemplateDoesNotExist, TemplateSyntaxError

from core.messages import email, rendering, sms
from core.messages.errors import DeliveryError


def deliver_now(kind: str, channel: str, to: str, application_id: str, application_name: str,
                context: dict) -> None:
    variables = rendering.template_context(application_id, application_name, context)
    try:
        if channel == "email":
            rendered = rendering.render_email(kind, variables)
        else:
            rendered = rendering.render_sms(kind, variables)
    except (TemplateDoesNotExist, TemplateSyntaxError) as exc:
        raise DeliveryError(f"template {type(exc).__name__}: {str(exc)[:200]}", temporary=False) from None
    if channel == "email":
        email.send(to, rendered)
    else:
        sms.send(to, rendered, application_id)
