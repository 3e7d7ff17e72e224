import json

from django.core.management.base import BaseCommand, CommandError

from core.tenancy import services
from core.api.errors import ServiceError


class Command(BaseCommand):
    help = "Create an OAuth API client of a company; prints client_id and client_secret (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("--company-id", type=int, required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", help="comma separated; default: all scopes")

    def handle(self, *args, company_id, name, scopes=None, **options):
        try:
            client, secret = services.create_api_client(
                company_id=company_id, name=name, scopes=services.parse_scopes(scopes))
        except ServiceError as exc:
            raise CommandError(exc.message)
        self.stdout.write(json.dumps({"client_id": client.client_id, "client_secret": secret}))
