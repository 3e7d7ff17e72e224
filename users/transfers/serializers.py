"""Request bodies of bulkImportStoreFrontUsers and createBulkExportUsers.

Their fields are documented with their types, but passed on as sent: ``imports.start_import`` and
``exports.start_export`` check them, with their own messages and codes, because the admin, the commands
and the bench start jobs through them too.
"""

from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from users.transfers.formats import FORMATS


class _CheckedByTheService:
    def run_validation(self, data=empty):
        if data is empty:
            raise SkipField()
        return data


class _Text(_CheckedByTheService, serializers.CharField):
    pass


class _FileFormat(_CheckedByTheService, serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=list(FORMATS), **kwargs)


class ImportRequestSerializer(serializers.Serializer):
    absolute_url = _Text(help_text="http(s) URL of the file (fetched by the guarded downloader), or a /files/ "
                                   "link of this service.")
    relative_url = _Text(required=False, help_text="Its name; the job's file_name.")
    file_format = _FileFormat()

    class Meta:
        ref_name = "CreateStoreFrontUsersPayload"


class ExportRequestSerializer(serializers.Serializer):
    file_format = _FileFormat()

    class Meta:
        ref_name = "BulkUserExportSchema"
