from django.db.transaction import non_atomic_requests
from django.urls import path

from sessions_app.storefront import ActiveSessionsView, LoggedInUserView, LogoutView

# Reads run outside ATOMIC_REQUESTS (one lookup each); logout writes one audit event.
urlpatterns = [
    path("session", non_atomic_requests(LoggedInUserView.as_view()), name="storefront-session"),
    path("sessions", non_atomic_requests(ActiveSessionsView.as_view()), name="storefront-sessions"),
    path("logout", LogoutView.as_view(), name="storefront-logout"),
]
