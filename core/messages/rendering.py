"""Messages rendered from templates: ``messages/<kind>/subject.txt``, ``body.txt``, ``body.html`` (email)
and ``sms.txt``, looked up in MESSAGE_TEMPLATE_DIRS first (a deployment's overrides), then in the
project's template folders. Plain-text templates are rendered without HTML escaping (a link keeps its
``&``); the HTML one is escaped as usual."""

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.template import Context, Engine


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=4)
def _engine(dirs: tuple) -> Engine:
    return Engine(dirs=list(dirs), app_dirs=True, debug=False)


def _dirs() -> tuple:
    project = [d for t in settings.TEMPLATES for d in t.get("DIRS", [])]
    return tuple(str(d) for d in [*settings.MESSAGE_TEMPLATE_DIRS, *project])


def _render(name: str, context: dict, *, html: bool = False) -> str:
    template = _engine(_dirs()).get_template(name)
    return template.render(Context(context, autoescape=html))


def template_context(application_id: str, application_name: str, context: dict) -> dict:
    return {**context, "application_id": application_id, "application_name": application_name}


def render_email(kind: str, context: dict) -> Email:
    subject = " ".join(_render(f"messages/{kind}/subject.txt", context).split())  # one line, whatever the template
    return Email(subject, _render(f"messages/{kind}/body.txt", context).strip() + "\n",
                 _render(f"messages/{kind}/body.html", context, html=True))


def render_sms(kind: str, context: dict) -> str:
    return " ".join(_render(f"messages/{kind}/sms.txt", context).split())
