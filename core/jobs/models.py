"""The job record: one row per piece of background work, and its per-row errors."""

from django.db import models

from core.ids import new_object_id
from core.tenancy.models import Application, Company


class Job(models.Model):
    """One record per piece of background work (bulk updates, imports, exports, group files).

    State machine (core/jobs/runner.py moves it, docs/jobs.md explains it)::

        pending ──> processing ──> completed | completed_with_errors | failed
           └────────────┴──> cancelled
    """

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STATUSES = [(s, s.replace("_", " ")) for s in
                (PENDING, PROCESSING, COMPLETED, COMPLETED_WITH_ERRORS, FAILED, CANCELLED)]
    ACTIVE = (PENDING, PROCESSING)
    FINISHED = (COMPLETED, COMPLETED_WITH_ERRORS, FAILED, CANCELLED)

    id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="jobs")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=40)
    status = models.CharField(max_length=24, choices=STATUSES, default=PENDING)
    file_name = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=16, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    success_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    checkpoint = models.JSONField(null=True, blank=True)  # where the next run continues; None = the start
    attempts = models.PositiveSmallIntegerField(default=0)
    lease = models.CharField(max_length=32, blank=True)  # the runner that holds the job while processing
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)  # why the job failed
    result_file = models.CharField(max_length=300, blank=True)  # storage path (core.files)
    error_file = models.CharField(max_length=300, blank=True)
    created_by = models.JSONField(default=dict, blank=True)  # {"type", "id", "name"} of core.actors.Actor
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["application", "kind", "-created_at"], name="job_app_kind_created"),
            models.Index(fields=["heartbeat_at"], name="job_active_heartbeat",
                         condition=models.Q(status__in=["pending", "processing"])),
        ]

    def __str__(self):
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def progress(self) -> int:
        """Whole percent of rows processed (100 once finished, whatever the total)."""
        if self.status in (self.COMPLETED, self.COMPLETED_WITH_ERRORS):
            return 100
        if not self.total:
            return 0
        return min(100, self.processed * 100 // self.total)


class JobError(models.Model):
    """One problem with one input row, written in the same transaction as the row's chunk."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="errors")
    row_number = models.PositiveIntegerField(null=True, blank=True)  # None: not about one row
    reference = models.CharField(max_length=255, blank=True)  # e.g. the row's user id or email
    message = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["job", "row_number", "id"], name="job_error_order")]

    def __str__(self):
        return f"row {self.row_number}: {self.message}"
