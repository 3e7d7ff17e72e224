from django.db.transaction import non_atomic_requests
from django.urls import path

from sessions_app.session_views import SessionView, SessionsView

urlpatterns = [
    path("customers/session", SessionView.as_view(), name="customer-session"),
    path("customers/sessions", non_atomic_requests(SessionsView.as_view()), name="customer-sessions"),
]
