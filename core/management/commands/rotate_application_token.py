import json

from django.core.management.base import BaseCommand, CommandError

from core.tenancy import services
from core.api.errors import ServiceError


class Command(BaseCommand):
    help = ("Give an application a new storefront token (the old one stops working at once); "
            "prints its id and the new token as JSON.")

    def add_arguments(self, parser):
        parser.add_argument("application_id")

    def handle(self, *args, application_id, **options):
        try:
            application, token = services.rotate_application_token(application_id)
        except ServiceError as exc:
            raise CommandError(exc.message)
        self.stdout.write(json.dumps(
            {"application_id": application.id, "company_id": str(application.company_id), "token": token}))
