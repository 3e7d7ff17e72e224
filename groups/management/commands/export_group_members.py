"""manage.py export_group_members: every member of a group as CSV (user_id, email, phone_number,
first_name, last_name), streamed from a server-side cursor: constant memory for a million members. The
file can be given back as a group file (user_id column)."""

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.api.errors import ServiceError
from core.management import application_or_error
from groups import selectors

HEADER = ["user_id", "email", "phone_number", "first_name", "last_name"]


class Command(BaseCommand):
    help = "Export the members of a customer group as CSV (to --output, or to stdout)."

    def add_arguments(self, parser):
        parser.add_argument("--application-id", required=True)
        parser.add_argument("group", help="the group's 24-hex _id or its uid")
        parser.add_argument("--output", type=Path, help="the CSV file to write (default: stdout)")

    def handle(self, *args, application_id, group, output, **options):
        application = application_or_error(application_id)
        try:
            found = selectors.get_group(application, group)
            handle = output.open("w", newline="", encoding="utf-8") if output else self.stdout
            try:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(HEADER)
                count = 0
                with transaction.atomic():  # the server-side cursor lives in a transaction
                    for row in selectors.member_rows(application, found):
                        writer.writerow(row)
                        count += 1
            finally:
                if output:
                    handle.close()
        except ServiceError as exc:
            raise CommandError(exc.message)
        self.stderr.write(f"group {found.uid}: {count} members exported" + (f" to {output}" if output else ""))
