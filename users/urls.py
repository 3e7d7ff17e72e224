from django.db.transaction import non_atomic_requests
from django.urls import path

from users.transfers.views import ExportJobsView, ImportJobsView
from users.views import CustomerViewSet, EventLogView

urlpatterns = [
    # Read-only endpoints skip ATOMIC_REQUESTS: a single read needs no transaction (two round trips less).
    path("customers/list", non_atomic_requests(CustomerViewSet.as_view({"get": "list"})), name="customers-list"),
    path("customers/search", non_atomic_requests(CustomerViewSet.as_view({"get": "search"})),
         name="customers-search"),
    path("customers", CustomerViewSet.as_view({"post": "create"}), name="customers-create"),
    path("events", non_atomic_requests(EventLogView.as_view()), name="events"),
    path("customers/activation", CustomerViewSet.as_view({"put": "activation"}), name="customers-activation"),
    path("customers/archive", CustomerViewSet.as_view({"put": "archive"}), name="customers-archive"),
    path("customers/undelete", CustomerViewSet.as_view({"put": "undelete"}), name="customers-undelete"),
    path("customers/<str:user_id>/timeline", non_atomic_requests(CustomerViewSet.as_view({"get": "timeline"})),
         name="customers-timeline"),
    # users/jobs/<24-hex id> is core.jobs.urls (getUsersJobByJobId); these two names never match it.
    path("users/jobs/import", ImportJobsView.as_view(), name="users-jobs-import"),
    path("users/jobs/export", ExportJobsView.as_view(), name="users-jobs-export"),
    path("customers/<str:user_id>", CustomerViewSet.as_view({"get": "retrieve", "put": "update"}),
         name="customers-detail"),
]
