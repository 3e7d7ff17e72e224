from django.contrib import admin
from django.db.transaction import non_atomic_requests
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from core import views as core_views

PLATFORM = "service/platform/user/v1.0/company/<int:company_id>/application/<str:application_id>/"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("service/panel/authentication/v1.0/company/<int:company_id>/oauth/token",
         core_views.TokenView.as_view(), name="oauth-token"),
    path("service/panel/authentication/v1.0/company/<int:company_id>/whoami",
         non_atomic_requests(core_views.WhoAmIView.as_view()), name="whoami"),
    path(PLATFORM, include("sessions_app.session_urls")),
    path(PLATFORM, include("users.urls")),
    path("service/application/user/authentication/v1.0/", include("sessions_app.storefront_urls")),
    path(PLATFORM, include("sessions_app.config_urls")),
    path(PLATFORM, include("attributes.urls")),
    path(PLATFORM, include("groups.urls")),
    path(PLATFORM, include("core.job_urls")),
    path("files/", include("core.file_urls")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "core.errors.handler400"
handler403 = "core.errors.handler403"
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
