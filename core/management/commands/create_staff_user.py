import getpass
import json

from django.core.management.base import BaseCommand, CommandError

from core.tenancy import services
from core.api.errors import ServiceError


class Command(BaseCommand):
    help = "Create a company staff user for the admin console (sees only that company's data)."

    def add_arguments(self, parser):
        parser.add_argument("--company-id", type=int, required=True)
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", help="prompted for when absent")
        parser.add_argument("--email", default="")
        parser.add_argument("--read-only", action="store_true",
                            help="sees everything of the company in the admin console, changes nothing")

    def handle(self, *args, company_id, username, password=None, email="", read_only=False, **options):
        password = password or getpass.getpass("Password: ")
        try:
            user = services.create_staff_user(company_id=company_id, username=username, password=password,
                                              email=email, role="read_only" if read_only else "full")
        except ServiceError as exc:
            raise CommandError(exc.message)
        self.stdout.write(json.dumps({"username": user.username, "company_id": str(company_id),
                                      "role": user.staff_profile.role}))
