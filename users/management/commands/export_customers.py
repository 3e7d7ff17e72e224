"""manage.py export_customers --application-id ID --format csv|xlsx: the export of the API (job kind
customer_export), run here with a progress bar; prints the signed link of the file (--output also copies it)."""

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import files
from core.jobs.progress import link, run_or_queue
from core.actors import Actor
from core.api.errors import ServiceError
from core.management import application_or_error
from users.transfers import exports


class Command(BaseCommand):
    help = "Export every live customer of an application to CSV or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("--application-id", required=True)
        parser.add_argument("--format", dest="file_format", default="csv", help="csv (default) or xlsx")
        parser.add_argument("--output", type=Path, help="also copy the file here")
        parser.add_argument("--queue", action="store_true", help="hand the job to the workers and return")

    def handle(self, *args, application_id, file_format, output, queue, **options):
        application = application_or_error(application_id)
        try:
            job = exports.start_export(application, Actor.system("manage.py export_customers"),
                                       file_format=file_format, enqueue=False)
        except ServiceError as exc:
            raise CommandError(exc.message)
        done = run_or_queue(self, job, queue=queue, unit="customers")
        if done is None:
            return
        if output:
            with files.open_file(done.result_file) as source, output.open("wb") as target:
                shutil.copyfileobj(source, target)
        self.stdout.write(f"job {done.pk}: {done.status}: {done.success_count} customers exported to "
                          f"{done.result_file} ({link(done.result_file)})" + (f", copied to {output}" if output else ""))
