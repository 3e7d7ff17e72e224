"""manage.py issue_sign_in_token --application <id> --user <user_id> [--expires-in N]: a single-use sign-in
token for one customer (accounts.handoff, the same service as the platform operation), printed with a
ready loginWithToken call. The token is shown once and stored nowhere but as its SHA-256."""

import json
import shlex

from django.core.management.base import BaseCommand, CommandError

from accounts import handoff
from core.actors import Actor
from core.api.errors import ServiceError
from core.tenancy.models import Application
from core.timefmt import iso


class Command(BaseCommand):
    help = ("Issue a single-use sign-in token (loginWithToken) for a customer of an application: printed on the "
            "first line, followed by a storefront curl example.")

    def add_arguments(self, parser):
        parser.add_argument("--application", required=True, help="the application (sales channel) id")
        parser.add_argument("--user", required=True, help="the customer's id (_id)")
        parser.add_argument("--expires-in", type=int, default=None,
                            help=f"seconds the token stays valid (default SIGN_IN_TOKEN_SECONDS, at most "
                                 f"{handoff.MAX_SECONDS})")
        parser.add_argument("--base-url", default="http://localhost:8000",
                            help="the service's address, for the curl example (default http://localhost:8000)")

    def handle(self, *args, application, user, expires_in, base_url, **options):
        found = Application.objects.filter(pk=application).first()
        if found is None:
            raise CommandError(f"No application {application}.")
        try:
            issued = handoff.issue_sign_in_token(found, user, Actor.system("manage.py issue_sign_in_token"),
                                                 expires_in=expires_in)
        except ServiceError as exc:
            raise CommandError(exc.message)
        self.stdout.write(issued.token)
        self.stderr.write(f"Valid for {issued.expires_in} s (until {iso(issued.expires_at)}), once. Sign in with:")
        url = base_url.rstrip("/") + "/service/application/user/authentication/v1.0/login/token"
        body = json.dumps({"token": issued.token})
        self.stderr.write(
            f"curl -sS -c cookies.txt -X POST {shlex.quote(url)} \\\n"
            f"  -H \"Authorization: Bearer $(printf '%s' '{found.id}:<storefront token>' | base64 -w0)\" \\\n"
            f"  -H 'Content-Type: application/json' -d {shlex.quote(body)}")
