from django.db.transaction import non_atomic_requests
from django.urls import path

from sessions_app.session_views import SessionView, SessionsView

# Outside ATOMIC_REQUESTS: each operation is one Redis write plus at most one audit row (autocommitted);
# there is nothing to roll back together, and BEGIN / COMMIT would be two more round trips per request.
urlpatterns = [
    path("customers/session", non_atomic_requests(SessionView.as_view()), name="customer-session"),
    path("customers/sessions", non_atomic_requests(SessionsView.as_view()), name="customer-sessions"),
]
