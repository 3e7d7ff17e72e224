"""Files: the ones the service stores (``storage``: error reports, exports, uploaded inputs) behind signed,
expiring ``/files/`` links; the one guarded downloader of ``*_file_url`` inputs (``downloads``); CSV
reading (``csvrows``). This package re-exports the storage API: ``from core import files``."""

from core.files.storage import (  # noqa: F401
    LINK_SALT, LinkRefused, delete_file, download_name, exists, job_file_name, name_from_token, name_in_url,
    open_file, open_stream, save_file, signed_path, signed_url, write_csv,
)
