from django.db.transaction import non_atomic_requests
from django.urls import re_path

from core.jobs.views import JobView

urlpatterns = [
    # Only 24-hex ids: users/jobs/import and users/jobs/export (other apps) must never land here.
    re_path(r"^users/jobs/(?P<job_id>[0-9a-f]{24})$", non_atomic_requests(JobView.as_view()), name="users-job"),
]
