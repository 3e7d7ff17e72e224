from core.errors import NotFound, ValidationFailed
from core.ids import is_object_id
from core.models import Application


def application_of_company(company_id, application_id: str) -> Application:
    """The application if it exists and belongs to the company; 404 otherwise (never 403: no leaks)."""
    if not is_object_id(application_id):
        raise ValidationFailed(f"application_id must be 24 lowercase hexadecimal characters, got {application_id[:40]!r}.")
    application = Application.objects.filter(id=application_id, company_id=company_id).only("id", "company_id").first()
    if application is None:
        raise NotFound(f"Application {application_id} not found in company {company_id}.", code="application_not_found")
    return application
