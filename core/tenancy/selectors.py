from django.db import connection

from core.api.errors import NotFound
from core.api.fields import require_object_id
from core.ids import is_object_id
from core.tenancy.models import Application

# Every API request looks its application up: plain SQL, not a compiled ORM query (it showed in profiles).
_APPLICATION_SQL = f"SELECT id, company_id, token_hash FROM {Application._meta.db_table} WHERE id = %s"
_APPLICATION_FIELDS = ["id", "company_id", "token_hash"]


def application_by_id(application_id: str) -> Application | None:
    """The application (only id, company_id and token_hash loaded), or None."""
    if not is_object_id(application_id):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_APPLICATION_SQL, [application_id])
        row = cursor.fetchone()
    return Application.from_db(connection.alias, _APPLICATION_FIELDS, row) if row else None


def application_of_company(company_id, application_id: str) -> Application:
    """The application if it exists and belongs to the company; 404 otherwise (never 403: no leaks)."""
    require_object_id(application_id, "application_id")
    application = application_by_id(application_id)
    if application is None or application.company_id != company_id:
        raise NotFound(f"Application {application_id} not found in company {company_id}.", code="application_not_found")
    return application
