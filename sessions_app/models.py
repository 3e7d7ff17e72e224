"""The platform config of an application (getPlatformConfig / updatePlatformConfig).

One row per application. The whole ``PlatformSchema`` document lives in ``document`` (a JSON object,
validated and merged by :mod:`sessions_app.platform_config`); ``version`` is its ``__v``.
"""

from django.db import models

from core.ids import new_object_id


class PlatformConfig(models.Model):
    id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    application = models.OneToOneField("core.Application", on_delete=models.CASCADE, related_name="platform_config")
    document = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "platform config"
        verbose_name_plural = "platform configs"

    def __str__(self):
        return f"Platform config of {self.application_id}"
