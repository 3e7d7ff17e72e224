import json

from django.core.management.base import BaseCommand, CommandError

from core.api.errors import ServiceError
from core.tenancy import services


class Command(BaseCommand):
    help = "Turn an API client off: it gets no new token and every token it holds stops working at once."

    def add_arguments(self, parser):
        parser.add_argument("client_id")

    def handle(self, *args, client_id, **options):
        try:
            client, revoked = services.revoke_api_client(client_id)
        except ServiceError as exc:
            raise CommandError(exc.message)
        self.stdout.write(json.dumps({"client_id": client.client_id, "active": False, "tokens_revoked": revoked}))
