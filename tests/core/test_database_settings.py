"""DB_PREPARED_STATEMENTS' default: on for the embedded PostgreSQL (also when `serve` or the bench hand it to
their children as DATABASE_URL), off for any other server (a pooler may sit in front), and what it sets."""

import json
import os
import subprocess
import sys

from django.conf import settings

from config import embedded

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOW = ("import json; from django.conf import settings as s; "
        "o = s.DATABASES['default'].get('OPTIONS', {}); "
        "print(json.dumps([s.DB_PREPARED_STATEMENTS, {k: o[k] for k in ('server_side_binding', 'prepare_threshold') "
        "if k in o}]))")


def _settings_with(**env) -> list:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DB_PREPARED_STATEMENTS")}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(settings.VAR_DIR), **env)
    code = f"import django; django.setup(); {SHOW}"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_prepared_statements_for_the_embedded_server_only_unless_told():
    on = [True, {"server_side_binding": True, "prepare_threshold": 2}]
    assert _settings_with() == on
    assert _settings_with(DATABASE_URL=embedded.database_url(settings.VAR_DIR)) == on
    assert _settings_with(DATABASE_URL="postgresql://u:p@db.example.com:6432/customers") == [False, {}]
    assert _settings_with(DATABASE_URL="postgresql://u:p@db.example.com/customers", DB_PREPARED_STATEMENTS="1",
                          DB_PREPARE_THRESHOLD="0") == [True, {"server_side_binding": True, "prepare_threshold": 0}]
    assert _settings_with(DB_PREPARED_STATEMENTS="0") == [False, {}]
