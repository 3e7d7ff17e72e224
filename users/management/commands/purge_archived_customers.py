from django.core.management.base import BaseCommand

from users import services


class Command(BaseCommand):
    help = "Remove for good the archived customers whose restore window has passed."

    def handle(self, *args, **options):
        purged = services.purge_archived_customers()
        self.stdout.write(f"purged {purged} customer(s)")
