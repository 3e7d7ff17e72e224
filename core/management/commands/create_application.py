import json

from django.core.management.base import BaseCommand, CommandError

from core.tenancy import services
from core.api.errors import ServiceError


class Command(BaseCommand):
    help = "Create an application (sales channel) of a company; prints its id and storefront token as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--company-id", type=int, required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--id", dest="application_id", help="24 lowercase hex characters (default: generated)")

    def handle(self, *args, company_id, name, application_id=None, **options):
        try:
            application, token = services.create_application(
                company_id=company_id, name=name, application_id=application_id)
        except ServiceError as exc:
            raise CommandError(exc.message)
        self.stdout.write(json.dumps(
            {"application_id": application.id, "company_id": str(application.company_id), "token": token}))
