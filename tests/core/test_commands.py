"""Management commands that set a deployment up: applications, API clients, staff users."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from core.tenancy.models import ALL_SCOPES, SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE, ApiClient, Application, hash_secret
from core.tenancy.services import STAFF_APPS
from tests.helpers import bearer_client, request_token


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


# =========================================================================== create_application


def test_create_application_with_id(db):
    out = run("create_application", "--company-id", "559", "--name", "  Demo Store ", "--id",
              "00000000000000000000abcd")
    data = json.loads(out)
    assert data["application_id"] == "00000000000000000000abcd"
    assert data["company_id"] == "559"
    assert isinstance(data["token"], str) and len(data["token"]) >= 32
    application = Application.objects.get(id="00000000000000000000abcd")
    assert application.company_id == 559 and application.name == "Demo Store"
    assert application.token_hash == hash_secret(data["token"]) != data["token"]


def test_create_application_generates_an_id(db):
    data = json.loads(run("create_application", "--company-id", "42", "--name", "Shop"))
    assert len(data["application_id"]) == 24 and int(data["application_id"], 16) >= 0
    assert Application.objects.get(id=data["application_id"]).company.id == 42


def test_create_application_usable_through_the_api(db, make_client):
    data = json.loads(run("create_application", "--company-id", "559", "--name", "Shop"))
    client = make_client()
    path = f"/service/platform/user/v1.0/company/559/application/{data['application_id']}/customers/list"
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("args,fragment", [
    (["--id", "XYZ"], "24 lowercase hexadecimal"),
    (["--id", "00000000000000000000ABCD"], "24 lowercase hexadecimal"),
])
def test_create_application_rejects_bad_ids(db, args, fragment):
    with pytest.raises(CommandError, match=fragment):
        run("create_application", "--company-id", "559", "--name", "Shop", *args)
    assert not Application.objects.exists()


def test_rotate_application_token_replaces_the_storefront_token(db):
    created = json.loads(run("create_application", "--company-id", "559", "--name", "Shop"))
    rotated = json.loads(run("rotate_application_token", created["application_id"]))
    assert rotated["application_id"] == created["application_id"] and rotated["company_id"] == "559"
    assert rotated["token"] != created["token"]
    application = Application.objects.get(id=created["application_id"])
    assert application.token_hash == hash_secret(rotated["token"]) != hash_secret(created["token"])


@pytest.mark.parametrize("application_id", ["00000000000000000000dead", "not-an-id"])
def test_rotate_application_token_of_an_unknown_application(db, application_id):
    with pytest.raises(CommandError, match="does not exist"):
        run("rotate_application_token", application_id)


def test_create_application_rejects_duplicate_id(db):
    run("create_application", "--company-id", "559", "--name", "Shop", "--id", "00000000000000000000abcd")
    with pytest.raises(CommandError, match="already exists"):
        run("create_application", "--company-id", "559", "--name", "Again", "--id", "00000000000000000000abcd")
    assert Application.objects.get().name == "Shop"


def test_create_application_rejects_blank_name(db):
    with pytest.raises(CommandError, match="name"):
        run("create_application", "--company-id", "559", "--name", "   ")
    assert not Application.objects.exists()


def test_create_application_requires_company(db):
    with pytest.raises(CommandError):
        run("create_application", "--name", "Shop")


# =========================================================================== create_api_client


def test_create_api_client_with_all_scopes_by_default(db):
    data = json.loads(run("create_api_client", "--company-id", "559", "--name", "ERP"))
    assert set(data) >= {"client_id", "client_secret"}
    client = ApiClient.objects.get(client_id=data["client_id"])
    assert client.company_id == 559 and client.name == "ERP" and client.is_active
    assert sorted(client.scopes) == sorted(ALL_SCOPES)
    # Stored hashed, never in clear.
    assert client.secret_hash != data["client_secret"]
    assert client.secret_hash == hash_secret(data["client_secret"])


def test_create_api_client_with_scopes(db):
    data = json.loads(run("create_api_client", "--company-id", "559", "--name", "Reporting",
                          "--scopes", f" {SCOPE_CUSTOMERS_READ} , {SCOPE_CUSTOMERS_WRITE}"))
    client = ApiClient.objects.get(client_id=data["client_id"])
    assert client.scopes == [SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE]


def test_create_api_client_rejects_unknown_scopes(db):
    with pytest.raises(CommandError, match="customers/delete"):
        run("create_api_client", "--company-id", "559", "--name", "X",
            "--scopes", f"{SCOPE_CUSTOMERS_READ},application/customers/delete")
    assert not ApiClient.objects.exists()


def test_created_api_client_credentials_work(application, url):
    data = json.loads(run("create_api_client", "--company-id", "559", "--name", "Reader",
                          "--scopes", SCOPE_CUSTOMERS_READ))
    token = request_token(data["client_id"], data["client_secret"])
    assert token.status_code == 200, token.content
    assert token.json()["scope"] == [SCOPE_CUSTOMERS_READ]
    client = bearer_client(token.json()["access_token"])
    assert client.get(url("customers/list")).status_code == 200
    assert client.post(url("customers"), {"phone_number": "9876543210"}, format="json").status_code == 403
    # Its company only.
    assert request_token(data["client_id"], data["client_secret"], company_id=777).status_code == 401


def test_each_api_client_gets_its_own_secret(db):
    a = json.loads(run("create_api_client", "--company-id", "559", "--name", "A"))
    b = json.loads(run("create_api_client", "--company-id", "559", "--name", "B"))
    assert a["client_id"] != b["client_id"] and a["client_secret"] != b["client_secret"]


def _client_with_token(url):
    data = json.loads(run("create_api_client", "--company-id", "559", "--name", "Integration"))
    token = request_token(data["client_id"], data["client_secret"]).json()
    assert bearer_client(token["access_token"]).get(url("customers/list")).status_code == 200
    return data, token


def test_rotate_api_client_secret_ends_the_old_secret_and_its_tokens(application, url):
    data, token = _client_with_token(url)
    rotated = json.loads(run("rotate_api_client_secret", data["client_id"]))
    assert rotated["client_id"] == data["client_id"] and rotated["client_secret"] != data["client_secret"]
    assert ApiClient.objects.get(pk=data["client_id"]).secret_hash == hash_secret(rotated["client_secret"])
    assert bearer_client(token["access_token"]).get(url("customers/list")).status_code == 401
    assert request_token(data["client_id"], data["client_secret"]).status_code == 401
    again = request_token(data["client_id"], rotated["client_secret"])
    assert again.status_code == 200
    assert bearer_client(again.json()["access_token"]).get(url("customers/list")).status_code == 200


def test_revoke_api_client_stops_it_at_once(application, url):
    data, token = _client_with_token(url)
    revoked = json.loads(run("revoke_api_client", data["client_id"]))
    assert revoked == {"client_id": data["client_id"], "active": False, "tokens_revoked": 2}  # access + refresh
    assert bearer_client(token["access_token"]).get(url("customers/list")).status_code == 401
    assert request_token(data["client_id"], data["client_secret"]).status_code == 401
    # a new secret does not turn it on again by itself
    rotated = json.loads(run("rotate_api_client_secret", data["client_id"]))
    assert request_token(data["client_id"], rotated["client_secret"]).status_code == 401


@pytest.mark.parametrize("command", ["rotate_api_client_secret", "revoke_api_client"])
@pytest.mark.parametrize("client_id", ["0" * 24, "not-an-id"])
def test_api_client_commands_refuse_an_unknown_client(db, command, client_id):
    with pytest.raises(CommandError, match="does not exist"):
        run(command, client_id)


# =========================================================================== create_staff_user


def test_create_staff_user(db):
    out = run("create_staff_user", "--company-id", "559", "--username", "meera", "--password", "Corr3ct-Horse-42",
              "--email", "meera@example.com")
    assert json.loads(out) == {"username": "meera", "company_id": "559", "role": "full"}
    user = get_user_model().objects.get(username="meera")
    assert user.is_staff and not user.is_superuser and user.email == "meera@example.com"
    assert user.check_password("Corr3ct-Horse-42")
    assert user.staff_profile.company_id == 559
    apps = set(user.user_permissions.values_list("content_type__app_label", flat=True))
    assert apps and apps <= set(STAFF_APPS)
    assert "users" in apps
    assert user.has_perm("users.view_customer")
    assert not user.has_perm("core.change_apiclient")


def test_a_read_only_staff_user_gets_the_view_permissions_only(db):
    out = run("create_staff_user", "--company-id", "559", "--username", "auditor", "--password", "Corr3ct-Horse-42",
              "--read-only")
    assert json.loads(out)["role"] == "read_only"
    user = get_user_model().objects.get(username="auditor")
    codenames = set(user.user_permissions.values_list("codename", flat=True))
    assert codenames and all(c.startswith("view_") for c in codenames)
    assert user.has_perm("users.view_customer") and user.has_perm("webhooks.view_subscription")
    assert not user.has_perm("users.change_customer") and not user.has_perm("webhooks.add_subscription")


def test_a_staff_users_role_can_change(db):
    from core.tenancy import services

    run("create_staff_user", "--company-id", "559", "--username", "meera", "--password", "Corr3ct-Horse-42",
        "--read-only")
    user = get_user_model().objects.get(username="meera")
    services.set_staff_role(user, "full")
    user = get_user_model().objects.get(username="meera")
    assert user.staff_profile.role == "full" and user.has_perm("users.change_customer")
    services.set_staff_role(user, "read_only")
    user = get_user_model().objects.get(username="meera")
    assert user.staff_profile.role == "read_only" and not user.has_perm("users.change_customer")
    assert user.has_perm("users.view_customer")


def test_create_staff_user_prompts_for_password(db, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "Prompted-Pass-77")
    run("create_staff_user", "--company-id", "559", "--username", "ravi")
    assert get_user_model().objects.get(username="ravi").check_password("Prompted-Pass-77")


@pytest.mark.parametrize("password", ["123", "password", "12345678901"])
def test_create_staff_user_rejects_weak_passwords(db, password):
    with pytest.raises(CommandError):
        run("create_staff_user", "--company-id", "559", "--username", "weak", "--password", password)
    assert not get_user_model().objects.filter(username="weak").exists()


def test_create_staff_user_rejects_duplicates(db):
    run("create_staff_user", "--company-id", "559", "--username", "meera", "--password", "Corr3ct-Horse-42")
    with pytest.raises(CommandError, match="already exists"):
        run("create_staff_user", "--company-id", "777", "--username", "meera", "--password", "Corr3ct-Horse-43")
    user = get_user_model().objects.get(username="meera")
    assert user.staff_profile.company_id == 559 and user.check_password("Corr3ct-Horse-42")
