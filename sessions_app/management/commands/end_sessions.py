import json

from django.core.management.base import BaseCommand, CommandError

from core.actors import Actor
from core.api.errors import ServiceError
from core.management import application_or_error
from sessions_app import services


class Command(BaseCommand):
    help = ("End one session (--session-id) or every session of a customer; the reason goes to the "
            "customer's audit trail. Prints {user_id, session_ids} as JSON.")

    def add_arguments(self, parser):
        parser.add_argument("--application-id", required=True)
        parser.add_argument("--user-id", required=True, help="the customer's id")
        parser.add_argument("--session-id", help="end only this session (default: all of them); write --session-id=<id>: an id may begin with '-'")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--operator", default="", help="who runs the command (audit trail)")

    def handle(self, *args, application_id, user_id, reason, session_id=None, operator="", **options):
        application = application_or_error(application_id)
        actor = Actor.system(f"manage.py end_sessions{f' ({operator})' if operator else ''}")
        try:
            if session_id:
                ended = [services.end_session(application, user_id, session_id, reason, actor)]
            else:
                ended = services.end_all_sessions(application, user_id, reason, actor)
        except ServiceError as exc:
            raise CommandError(exc.message)
        self.stdout.write(json.dumps({"user_id": user_id, "session_ids": ended}))
