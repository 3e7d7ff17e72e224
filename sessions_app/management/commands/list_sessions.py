import json

from django.core.management.base import BaseCommand, CommandError

from core.api.errors import ServiceError
from core.management import application_or_error
from sessions_app import selectors


class Command(BaseCommand):
    help = "List a customer's live sessions (one JSON object per line: session_id, domain, ip, user_agent, expire_in)."

    def add_arguments(self, parser):
        parser.add_argument("--application-id", required=True)
        parser.add_argument("--user-id", required=True, help="the customer's id")

    def handle(self, *args, application_id, user_id, **options):
        application = application_or_error(application_id)
        try:
            sessions = selectors.live_sessions(application, user_id)
        except ServiceError as exc:
            raise CommandError(exc.message)
        for session in sessions:
            self.stdout.write(json.dumps(selectors.session_dict(session)))
        self.stderr.write(f"{len(sessions)} live session(s)")
