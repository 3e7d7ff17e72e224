import json

from django.core.management.base import BaseCommand

from attributes import services


class Command(BaseCommand):
    help = ("Re-encrypt every encrypted attribute value with the first key of ATTRIBUTE_ENCRYPTION_KEYS and "
            "recompute its equality digests. Run it after putting a new key first; then the old keys can go.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size=500, **options):
        rewritten = services.rotate_encryption(batch_size=batch_size)
        self.stdout.write(json.dumps({"rewritten": rewritten}))
