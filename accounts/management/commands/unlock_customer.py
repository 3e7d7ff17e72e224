"""manage.py unlock_customer --application <id> <user_id> …: lift the sign-in lockouts of customers."""

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from core.actors import Actor
from core.api.errors import ServiceError
from core.tenancy.models import Application


class Command(BaseCommand):
    help = "Lift the storefront sign-in lockouts (password and one-time code) of customers of an application."

    def add_arguments(self, parser):
        parser.add_argument("--application", required=True, help="the application (sales channel) id")
        parser.add_argument("user_ids", nargs="+", help="customer ids")

    def handle(self, *args, application, user_ids, **options):
        found = Application.objects.filter(pk=application).first()
        if found is None:
            raise CommandError(f"No application {application}.")
        actor = Actor.system("manage.py unlock_customer")
        for user_id in user_ids:
            try:
                lifted = services.unlock(found, user_id, actor)
            except ServiceError as exc:
                raise CommandError(exc.message)
            self.stdout.write(f"{user_id}: {'unlocked' if lifted else 'was not locked'}")
