from django.contrib import admin
from django.db.transaction import non_atomic_requests
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from core.api.views import healthz
from core.metrics.views import metrics
from core.tenancy.views import TokenView, WhoAmIView
from users.job_customers import customers_csv

PLATFORM = "service/platform/user/v1.0/company/<int:company_id>/application/<str:application_id>/"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),  # docs/metrics.md: 404 unless METRICS_TOKEN / METRICS_ALLOWED_IPS
    path("service/panel/authentication/v1.0/company/<int:company_id>/oauth/token",
         TokenView.as_view(), name="oauth-token"),
    path("service/panel/authentication/v1.0/company/<int:company_id>/whoami",
         non_atomic_requests(WhoAmIView.as_view()), name="whoami"),
    path(PLATFORM, include("sessions_app.session_urls")),
    path(PLATFORM, include("users.urls")),
    path("service/application/user/authentication/v1.0/", include("sessions_app.storefront_urls")),
    path("service/application/user/", include("accounts.urls")),
    path("", include("accounts.handoff_urls")),  # sign-in tokens: platform issue + storefront loginWithToken
    path(PLATFORM, include("sessions_app.config_urls")),
    path(PLATFORM, include("attributes.urls")),
    path(PLATFORM, include("groups.urls")),
    path(PLATFORM, include("core.jobs.urls")),
    path(PLATFORM, include("webhooks.urls")),
    path("files/jobs/<str:token>/customers.csv", customers_csv, name="job-customers"),
    path("files/", include("core.files.urls")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "core.api.errors.handler400"
handler403 = "core.api.errors.handler403"
handler404 = "core.api.errors.handler404"
handler500 = "core.api.errors.handler500"
