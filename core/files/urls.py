from django.urls import path

from core.files.views import download_file

urlpatterns = [
    path("<str:token>", download_file, name="file-download"),
]
