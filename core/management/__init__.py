from django.core.management.base import CommandError

from core.tenancy.selectors import application_by_id


def application_or_error(application_id: str):
    """The application that a command's --application-id names; CommandError if there is none."""
    application = application_by_id(application_id)
    if application is None:
        raise CommandError(f"No application {application_id}.")
    return application
