"""The bulk_update of the API from a local CSV of user ids, with a progress bar: the same job (kind
attribute_bulk_update), run here; or handed to the Celery workers with --queue."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from attributes import bulk
from core import jobs
from core.actors import Actor
from core.api.errors import ServiceError
from core.jobs.progress import link, run_or_queue
from core.management import application_or_error


class Command(BaseCommand):
    help = ("Set the same attributes for every customer of a CSV file (a user_id column): "
            "--set slug=value, repeatable; values are JSON (10, true, [\"a\"]) or plain text.")

    def add_arguments(self, parser):
        parser.add_argument("--application-id", required=True)
        parser.add_argument("--file", required=True, type=Path, help="CSV with a user_id column")
        parser.add_argument("--set", dest="assignments", action="append", required=True, metavar="SLUG=VALUE")
        parser.add_argument("--queue", action="store_true", help="hand the job to the workers and return")

    def handle(self, *args, application_id, file, assignments, queue, **options):
        application = application_or_error(application_id)
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        actor = Actor.system("manage.py bulk_update_attributes")
        try:
            payload = bulk.BulkUpdatePayload("same", bulk.checked_attributes(
                application, bulk.attributes_from_text(application, assignments)))
            job = jobs.create_job(application, bulk.KIND, actor, payload=jobs.payload_dict(payload),
                                  file_name=file.name, file_format="csv", enqueue=False)
            with file.open("rb") as handle:
                jobs.store_job_input(job, handle, "users.csv")
        except ServiceError as exc:
            raise CommandError(exc.message)
        done = run_or_queue(self, job, queue=queue, unit="customers")
        if done is not None:
            self.stdout.write(f"job {done.pk}: {done.status}, {done.success_count} updated, {done.error_count} "
                              "errors" + (f" (error file: {link(done.error_file)})" if done.error_file else ""))
