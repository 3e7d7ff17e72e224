"""A group's type and status: the spellings the API accepts, and the status a list filters on (the
latest job's state while it runs or after it failed, else the stored one; selectors.effective_status
is the same rule for one loaded group)."""

from django.db.models import Case, CharField, F, Value, When

from core.api.errors import ValidationFailed
from core.jobs.models import Job
from groups.models import UserGroup

TYPE_SPELLINGS = {
    UserGroup.BULK: ("bulk", "file", "file_url", "csv", "json", "manual", "static", "upload"),
    UserGroup.CONDITIONAL: ("conditional", "condition", "conditions", "attribute", "attributes", "dynamic", "rule",
                            "rules"),
}
_TYPE_OF = {spelling: kind for kind, spellings in TYPE_SPELLINGS.items() for spelling in spellings}
STATUS_VALUES = [status for status, _ in UserGroup.STATUSES]
TYPE_MESSAGE = ("{field} must be bulk (a file or JSON of customers; also file, csv, json) or conditional (conditions "
                "on customer attributes).")


def normalize_type(raw, field: str = "type") -> str:
    """``bulk`` or ``conditional`` from any accepted spelling (file, csv, json → bulk; conditions → conditional)."""
    if not isinstance(raw, str) or raw.strip().lower() not in _TYPE_OF:
        raise ValidationFailed(TYPE_MESSAGE.format(field=field), code="invalid_group_type")
    return _TYPE_OF[raw.strip().lower()]


STATUS_EXPRESSION = Case(
    When(job__status=Job.PENDING, then=Value(UserGroup.PENDING)),
    When(job__status=Job.PROCESSING, then=Value(UserGroup.PROCESSING)),
    When(job__status__in=[Job.FAILED, Job.CANCELLED], then=Value(UserGroup.FAILED)),
    default=F("status"), output_field=CharField())
