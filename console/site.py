"""The admin site of the console: Django's, with the overview of one application as its first page."""

from django.contrib import admin

from console.overview import overview_context


class ConsoleAdminSite(admin.AdminSite):
    index_template = "admin/console/index.html"

    def index(self, request, extra_context=None):
        return super().index(request, {**overview_context(request), **(extra_context or {})})
