"""manage.py import_customers FILE --application-id ID: the import of the API (job kind customer_import) on a
local CSV or XLSX file, run here with a progress bar; --queue hands it to the Celery workers instead."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.jobs.progress import link, run_or_queue
from core.actors import Actor
from core.api.errors import ServiceError
from core.management import application_or_error
from users.transfers import imports


class Command(BaseCommand):
    help = "Import customers from a CSV or XLSX file (columns: see docs/transfers.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--application-id", required=True)
        parser.add_argument("--format", dest="file_format", help="csv or xlsx (default: the file's extension)")
        parser.add_argument("--queue", action="store_true", help="hand the job to the workers and return")

    def handle(self, *args, file, application_id, file_format, queue, **options):
        application = application_or_error(application_id)
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        try:
            with file.open("rb") as handle:
                job = imports.start_import_of_file(application, Actor.system("manage.py import_customers"), handle,
                                                   file.name, file_format, enqueue=False)
        except ServiceError as exc:
            raise CommandError(exc.message)
        done = run_or_queue(self, job, queue=queue, unit="rows")
        if done is None:
            return
        self.stdout.write(f"job {done.pk}: {done.status}: {done.success_count} imported, {done.error_count} errors"
                          + (f" (error file: {link(done.error_file)})" if done.error_file else ""))
