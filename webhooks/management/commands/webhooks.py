"""manage.py webhooks …: an application's webhook subscriptions from the shell (docs/webhooks.md).

    webhooks list     --application <id>
    webhooks create   --application <id> --url <url> [--event-type customer.created …] [--description …]
    webhooks rotate   --application <id> <subscription_id>      (the new secret is printed once)
    webhooks pause | resume | delete --application <id> <subscription_id>
    webhooks redeliver --application <id> <subscription_id> (--event <event id> | --failed-since <ISO time>)
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from core.actors import Actor
from core.api.errors import ServiceError
from core.tenancy.models import Application
from webhooks import selectors, services


class Command(BaseCommand):
    help = "List, create, rotate, pause, resume, delete webhook subscriptions of an application; redeliver events."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("list", "create", "rotate", "pause", "resume", "delete", "redeliver"):
            action = sub.add_parser(name)
            action.add_argument("--application", required=True, help="the application (sales channel) id")
            if name == "create":
                action.add_argument("--url", required=True)
                action.add_argument("--event-type", action="append", default=[], dest="event_types",
                                    help="an event type to receive (repeat it; none: all)")
                action.add_argument("--description", default="")
            elif name != "list":
                action.add_argument("subscription_id")
            if name == "redeliver":
                action.add_argument("--event", dest="event_id")
                action.add_argument("--failed-since", dest="failed_since")

    def handle(self, *args, action, application, **options):
        found = Application.objects.filter(pk=application).first()
        if found is None:
            raise CommandError(f"No application {application}.")
        actor = Actor.system("manage.py webhooks")
        try:
            self._run(action, found, actor, options)
        except ServiceError as exc:
            raise CommandError(exc.message)

    def _run(self, action, application, actor, options):
        if action == "list":
            for s in selectors.subscriptions_of(application):
                state = "active" if s.active else f"off ({s.disabled_reason or 'paused'})"
                self.stdout.write(f"{s.pk}  {state}  {s.url}  {','.join(s.event_types) or 'all events'}")
            return
        if action == "create":
            created = services.create_subscription(application, {
                "url": options["url"], "event_types": options["event_types"], "description": options["description"]},
                actor)
            self.stdout.write(f"subscription {created.subscription.pk}\nsigning secret (shown once): {created.secret}")
            return
        subscription = selectors.get_subscription(application, options["subscription_id"])
        if action == "rotate":
            rotated = services.rotate_secret(subscription, actor)
            self.stdout.write(f"new signing secret (shown once): {rotated.secret}")
        elif action in ("pause", "resume"):
            services.update_subscription(subscription, {"active": action == "resume"}, actor)
            self.stdout.write(f"{subscription.pk}: {'resumed' if action == 'resume' else 'paused'}")
        elif action == "delete":
            services.delete_subscription(subscription, actor)
            self.stdout.write(f"{subscription.pk}: deleted")
        else:
            since = options.get("failed_since")
            failed_since = parse_datetime(since) if since else None
            if since and failed_since is None:
                raise CommandError("--failed-since must be an ISO 8601 time, e.g. 2026-11-30T08:00:00Z.")
            queued = services.redeliver(subscription, event_id=options.get("event_id"), failed_since=failed_since,
                                        actor=actor)
            self.stdout.write(f"{queued} event(s) queued again")
