import json

from django.core.management.base import BaseCommand, CommandError

from core.api.errors import ServiceError
from core.tenancy import services


class Command(BaseCommand):
    help = ("Give an API client a new secret; the old secret and every token issued with it stop working at "
            "once. Prints client_id and the new client_secret (shown only once).")

    def add_arguments(self, parser):
        parser.add_argument("client_id")

    def handle(self, *args, client_id, **options):
        try:
            client, secret = services.rotate_api_client_secret(client_id)
        except ServiceError as exc:
            raise CommandError(exc.message)
        self.stdout.write(json.dumps({"client_id": client.client_id, "client_secret": secret}))
