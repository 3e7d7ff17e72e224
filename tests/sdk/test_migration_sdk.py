"""Customers moved in with their passwords, through the official Fynd JavaScript SDK (tests/sdk/migration.test.js):
a CSV with one hash of each accepted format, made by the real libraries (tests/accounts/test_migration.py's
makers: bcrypt, argon2-cffi, hashlib, Django's hashers), imported with bulkImportStoreFrontUsers; each
customer signs in with loginWithEmailAndPassword of the ApplicationClient and is re-hashed."""

import csv
import io
import json

from django.test import override_settings

from accounts.models import Credential
from config import celery_app
from core.jobs import tasks as _tasks  # noqa: F401  registers the job task with celery_app
from tests.accounts.test_migration import MAKERS, password_for
from tests.delivery import clear_account_keys
from tests.file_server import serve_files
from tests.sdk.runner import run_sdk_script
from users.models import Customer

STEPS = 4


def test_fynd_javascript_sdk_signs_in_customers_moved_in_with_every_hash_format(live_server, transactional_db,
                                                                               tmp_path, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    clear_account_keys()
    moved, out = [], io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["first_name", "email", "phone_number", "password_hash"])
    for index, (name, make) in enumerate(MAKERS.items()):
        email, password = f"moved{index}@example.com", password_for(name)
        writer.writerow([name, email, f"98765{index:05d}", make(password)])
        moved.append({"format": name, "email": email, "password": password})
    try:
        with override_settings(MEDIA_ROOT=str(tmp_path / "media"), FILE_URL_ALLOWED_HOSTS=["localhost"]), \
                serve_files({"/moved.csv": out.getvalue().encode()}) as base:
            result = run_sdk_script(live_server, "migration.test.js", "sdk migration", {
                "FDK_IMPORT_URL": f"{base}/moved.csv", "FDK_MOVED": json.dumps(moved)})
    finally:
        clear_account_keys()
    assert "FAIL" not in result.stdout and f"all {STEPS} steps passed" in result.stdout, result.stdout
    stored = Credential.objects.filter(customer__emails__email__startswith="moved").values_list("password", flat=True)
    assert len(stored) == len(MAKERS) and all(p.startswith("argon2$argon2id$") for p in stored)
    assert not Customer.objects.filter(has_old_password_hash=True).exists()
