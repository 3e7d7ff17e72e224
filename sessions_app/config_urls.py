from django.urls import path

from sessions_app.config_views import PlatformConfigView

urlpatterns = [
    path("platform/config", PlatformConfigView.as_view(), name="platform-config"),
]
