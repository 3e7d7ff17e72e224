"""manage.py process_group: (re)process a bulk group's membership here, or on the workers with --queue.

Without --file: the group's last file again (its URL is fetched anew, an upload is read from storage),
replacing the membership. With --file: a local CSV, stored by the service like an admin upload, as a
replace (default) or --mode patch (its action column adds / removes). The same job (kind group_file)
as the API's, so the same rules, counts and error file."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.actors import Actor
from core.api.errors import ServiceError
from core.api.pagination import PageRequest
from core.jobs.progress import link, run_or_queue
from core.management import application_or_error
from groups import processing, selectors, services
from groups.models import UserGroup


class Command(BaseCommand):
    help = "Process a customer group's file again (or a local CSV) and report the result."

    def add_arguments(self, parser):
        parser.add_argument("--application-id", required=True)
        parser.add_argument("group", help="the group's 24-hex _id or its uid")
        parser.add_argument("--file", type=Path, help="a local CSV (user_id, email or phone_number column)")
        parser.add_argument("--mode", choices=[processing.REPLACE, processing.PATCH], default=processing.REPLACE,
                            help="replace: the file is the whole membership (default); patch: by its action column")
        parser.add_argument("--queue", action="store_true", help="hand the job to the workers and return")

    def handle(self, *args, application_id, group, file, mode, queue, **options):
        application = application_or_error(application_id)
        if file is not None and not file.is_file():
            raise CommandError(f"{file} is not a file.")
        actor = Actor.system("manage.py process_group")
        try:
            if file is not None:
                with file.open("rb") as handle:
                    job = services.upload_file(application, group, handle, actor, mode=mode, enqueue=False).job
            else:
                job = services.reprocess_group(application, group, actor, enqueue=False)
        except ServiceError as exc:
            raise CommandError(exc.message)
        if job is None:
            found = selectors.get_group(application, group)
            _customers, total = selectors.group_members(application, found, PageRequest(1, 1))
            self.stdout.write(f"group {found.uid} has no file to process ({found.type}); {total} members now")
            return
        started = time.perf_counter()
        done = run_or_queue(self, job, queue=queue, unit="rows", follow=f"…/user_group/{group}")
        if done is None:
            return
        found = UserGroup.objects.select_related("job").get(pk=processing.payload_of(done).group_id)
        _customers, total = selectors.group_members(application, found, PageRequest(1, 1))
        self.stdout.write(
            f"group {found.uid}: {done.status} in {time.perf_counter() - started:.1f} s; {done.total} rows, "
            f"{done.success_count} applied, {done.error_count} rejected; {total} members"
            + (f" (error file: {link(done.error_file)})" if done.error_file else ""))
