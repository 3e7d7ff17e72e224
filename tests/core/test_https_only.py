"""HTTPS_ONLY (docs/deployment.md): plain HTTP redirected except the probes, secure cookies, HSTS; and the
production settings pass Django's deployment checklist (`manage.py check --deploy`)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
HTTPS = {"SECURE_SSL_REDIRECT": True, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
         "SECURE_HSTS_SECONDS": 31536000}


def test_the_production_settings_pass_check_deploy(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG", "PYTEST_VERSION")}
    env.update(VAR_DIR=str(tmp_path), SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="customers.example.com",
               HTTPS_ONLY="1", HSTS_INCLUDE_SUBDOMAINS="1", HSTS_PRELOAD="1")
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "no issues" in done.stdout, done.stdout + done.stderr
    env.pop("HTTPS_ONLY")
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "SECURE_SSL_REDIRECT" in done.stderr + done.stdout  # the checklist is real


@pytest.mark.django_db
def test_plain_http_is_redirected_except_the_probes(settings, api, url):
    for name, value in HTTPS.items():
        setattr(settings, name, value)
    client = Client()
    answer = client.get("/service/platform/user/v1.0/company/1/application/000000000000000000000001/customers/list")
    assert answer.status_code == 301 and answer["Location"].startswith("https://testserver/")
    assert client.get("/healthz").status_code == 200  # a load balancer's probe over plain HTTP
    secure = api.get(url("customers/list"), HTTP_X_FORWARDED_PROTO="https")  # from the proxy (127.0.0.1)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
