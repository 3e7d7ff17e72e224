"""Platform config: getPlatformConfig / updatePlatformConfig, defaults, merge, validation, secrets, scopes,
tenancy, the archive window it drives, and the admin page."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from core.tenancy import services as core_services
from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE, SCOPE_SETTINGS_WRITE
from sessions_app import platform_config
from sessions_app.models import PlatformConfig

from tests.helpers import COMPANY_ID, platform_path

ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ADMIN_PASSWORD = "Adm1n-console-pass!"
CONFIGS = "/admin/sessions_app/platformconfig/"


@pytest.fixture
def config_url(url):
    return url("platform/config")


def get_config(api, config_url):
    response = api.get(config_url)
    assert response.status_code == 200, response.content
    return response.json()


def post_config(api, config_url, body, status=200):
    response = api.post(config_url, body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def walk(value, path=""):
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from walk(sub, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from walk(sub, f"{path}[{index}]")
    else:
        yield path, value


# --------------------------------------------------------------------------- defaults

def test_first_read_creates_the_documented_defaults(api, config_url, application):
    assert not PlatformConfig.objects.filter(application=application).exists()
    body = get_config(api, config_url)
    assert PlatformConfig.objects.filter(application=application).count() == 1
    assert body["register"] is True and body["active"] is True and body["forgot_password"] is True
    assert body["login"] == {"password": True, "otp": True, "via": ""}
    assert body["session_config"] == {"duration": 30, "type": "Days", "is_rolling": False}
    assert body["delete_account_day"] == 7
    assert body["delete_account_reasons"] == []
    assert body["account_lockout"] == {"enable": False, "attempts": 5, "duration": 30}
    assert body["password_settings"]["configs"]["length"] == 8
    assert body["required_fields"]["mobile"] == {"is_required": True, "level": "hard"}
    assert body["social_tokens"]["google"] == {"app_id": "", "app_secret": ""}
    assert body["__v"] == 0
    assert re.fullmatch(r"[0-9a-f]{24}", body["_id"])
    assert ISO_MS_Z.match(body["created_at"]) and ISO_MS_Z.match(body["updated_at"])
    for path, value in walk(body):
        assert value is not None, path
    # A second read answers the same row.
    again = get_config(api, config_url)
    assert again["_id"] == body["_id"] and again["__v"] == 0


# --------------------------------------------------------------------------- merge and version

def test_update_merges_nested_objects_and_bumps_version(api, config_url):
    before = get_config(api, config_url)
    body = post_config(api, config_url, {"session_config": {"duration": 12, "type": "Hours"},
                                         "flash_card": {"text": "Welcome"}, "display": "Demo"})
    assert body["session_config"] == {"duration": 12, "type": "Hours", "is_rolling": False}
    assert body["flash_card"] == {"text": "Welcome", "text_color": "#FFFFFF", "background_color": "#EF5350"}
    assert body["display"] == "Demo"
    assert body["login"] == before["login"]
    assert body["__v"] == 1
    body = post_config(api, config_url, {"password_settings": {"history": {"count": 5}}})
    assert body["password_settings"]["history"] == {"required": False, "count": 5}
    assert body["password_settings"]["configs"]["length"] == 8
    assert body["session_config"]["duration"] == 12  # earlier change kept
    assert body["__v"] == 2
    # The same values again are no change: __v stays.
    assert post_config(api, config_url, {"display": "Demo"})["__v"] == 2
    # Read back.
    read = get_config(api, config_url)
    assert read["__v"] == 2 and read["display"] == "Demo" and read["flash_card"]["text"] == "Welcome"


def test_lists_are_replaced_and_reason_ids_filled(api, config_url):
    body = post_config(api, config_url, {"delete_account_reasons": [
        {"reason_text": "Too many emails", "show_text_area": False},
        {"reason_text": "Other", "reason_id": "other", "show_text_area": True}]})
    reasons = body["delete_account_reasons"]
    assert [r["reason_text"] for r in reasons] == ["Too many emails", "Other"]
    assert reasons[0]["reason_id"] and reasons[1]["reason_id"] == "other"
    body = post_config(api, config_url, {"delete_account_reasons": [{"reason_text": "Only", "reason_id": "x"}]})
    assert body["delete_account_reasons"] == [{"reason_text": "Only", "reason_id": "x", "show_text_area": False}]


def test_a_document_read_back_can_be_posted_whole(api, config_url):
    post_config(api, config_url, {"social_tokens": {"google": {"app_id": "gid", "app_secret": "g-secret"}}})
    document = get_config(api, config_url)
    document["display"] = "Round trip"
    body = post_config(api, config_url, document)
    assert body["display"] == "Round trip"
    stored = PlatformConfig.objects.get()
    assert stored.document["social_tokens"]["google"]["app_secret"] == "g-secret"


def test_null_images_are_empty_strings(api, config_url):
    body = post_config(api, config_url, {"mobile_image": None, "desktop_image": "https://cdn.example/d.png"})
    assert body["mobile_image"] == "" and body["desktop_image"] == "https://cdn.example/d.png"


def test_seed_spelling_accountkit_is_accepted(api, config_url):
    body = post_config(api, config_url, {"social_tokens": {"accountkit": {"app_id": "ak"}}})
    assert body["social_tokens"]["account_kit"]["app_id"] == "ak"


# --------------------------------------------------------------------------- validation

BAD_INPUTS = [
    ({"register": "yes"}, "register"),
    ({"active": 1}, "active"),
    ({"display": 5}, "display"),
    ({"display": None}, "display"),
    ({"display": "x" * 1001}, "display"),
    ({"session_config": {"duration": 0}}, "session_config.duration"),
    ({"session_config": {"duration": -3}}, "session_config.duration"),
    ({"session_config": {"duration": "30"}}, "session_config.duration"),
    ({"session_config": {"duration": 1.5}}, "session_config.duration"),
    ({"session_config": {"type": "Weeks"}}, "session_config.type"),
    ({"session_config": {"duration": 400}}, "session_config.duration"),  # 400 days > a year
    ({"session_config": {"is_rolling": "true"}}, "session_config.is_rolling"),
    ({"session_config": "30 days"}, "session_config"),
    ({"account_lockout": {"attempts": 0}}, "account_lockout.attempts"),
    ({"account_lockout": {"duration": 0}}, "account_lockout.duration"),
    ({"password_settings": {"configs": {"length": 3}}}, "password_settings.configs.length"),
    ({"password_settings": {"configs": {"length": 500}}}, "password_settings.configs.length"),
    ({"password_settings": {"expiry": {"duration": 0}}}, "password_settings.expiry.duration"),
    ({"password_settings": {"history": {"count": True}}}, "password_settings.history.count"),
    ({"look_and_feel": {"background_color": "red"}}, "look_and_feel.background_color"),
    ({"look_and_feel": {"background_color": "#12345"}}, "look_and_feel.background_color"),
    ({"look_and_feel": {"card_position": "top"}}, "look_and_feel.card_position"),
    ({"flash_card": {"text_color": "#ggg"}}, "flash_card.text_color"),
    ({"required_fields": {"email": {"level": "medium"}}}, "required_fields.email.level"),
    ({"login": {"via": "pigeon"}}, "login.via"),
    ({"login": {"password": False, "otp": False}}, "login"),
    ({"delete_account_day": 0}, "delete_account_day"),
    ({"delete_account_day": 1000}, "delete_account_day"),
    ({"delete_account_day": "7"}, "delete_account_day"),
    ({"delete_account_reasons": {"reason_text": "x"}}, "delete_account_reasons"),
    ({"delete_account_reasons": [{"reason_text": ""}]}, "delete_account_reasons[0].reason_text"),
    ({"delete_account_reasons": [{"reason_text": "a", "colour": 1}]}, "delete_account_reasons[0].colour"),
    ({"social_tokens": {"google": {"app_secret": 42}}}, "social_tokens.google.app_secret"),
    ({"social_tokens": {"twitter": {}}}, "social_tokens.twitter"),
    ({"meta": {"fynd_default": "no"}}, "meta.fynd_default"),
    ({"unknown_field": True}, "unknown_field"),
]


@pytest.mark.parametrize("body,field", BAD_INPUTS, ids=[f for _, f in BAD_INPUTS])
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(api, config_url, body, field):
    before = get_config(api, config_url)
    # A valid change alongside the bad one must not be stored either.
    error = post_config(api, config_url, {"display": "Should not stick", **body}, status=400)
    assert error["success"] is False and error["code"] == "validation_error"
    assert field in error["message"]
    assert field in error["meta"]["errors"]
    after = get_config(api, config_url)
    assert after == before


@pytest.mark.parametrize("body", ["[]", '"x"', "5", "null", "{nope"])
def test_body_must_be_an_object(api, config_url, body):
    response = api.post(config_url, body, content_type="application/json")
    assert response.status_code == 400, response.content


# --------------------------------------------------------------------------- secrets

def test_social_secrets_are_write_only(api, config_url):
    body = post_config(api, config_url, {"social_tokens": {"facebook": {"app_id": "fb-id", "app_secret": "fb-s3cret"}}})
    assert body["social_tokens"]["facebook"]["app_id"] == "fb-id"
    assert "fb-s3cret" not in str(body)
    assert body["social_tokens"]["facebook"]["app_secret"] == platform_config.SECRET_MASK
    read = get_config(api, config_url)
    assert "fb-s3cret" not in str(read)
    # Not resent: kept. Sent as the mask: kept. Changing the app id only: kept.
    post_config(api, config_url, {"social_tokens": {"facebook": {"app_id": "fb-id-2"}}})
    post_config(api, config_url, {"social_tokens": {"facebook": {"app_secret": platform_config.SECRET_MASK}}})
    stored = PlatformConfig.objects.get()
    assert stored.document["social_tokens"]["facebook"] == {"app_id": "fb-id-2", "app_secret": "fb-s3cret"}
    # Sent again: replaced; sent empty: cleared.
    post_config(api, config_url, {"social_tokens": {"facebook": {"app_secret": "new-secret"}}})
    assert PlatformConfig.objects.get().document["social_tokens"]["facebook"]["app_secret"] == "new-secret"
    body = post_config(api, config_url, {"social_tokens": {"facebook": {"app_secret": ""}}})
    assert body["social_tokens"]["facebook"]["app_secret"] == ""


# --------------------------------------------------------------------------- scopes and tenancy

def test_read_only_token_reads_but_cannot_update(make_client, application, config_url):
    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    assert reader.get(config_url).status_code == 200
    response = reader.post(config_url, {"display": "x"}, format="json")
    assert response.status_code == 403
    assert SCOPE_SETTINGS_WRITE in response.json()["message"]
    writer = make_client(scopes=[SCOPE_CUSTOMERS_WRITE])
    assert writer.post(config_url, {"display": "x"}, format="json").status_code == 403
    assert PlatformConfig.objects.get().document.get("display", "") == ""


def test_settings_write_scope_alone_can_update(make_client, application, config_url):
    settings_only = make_client(scopes=[SCOPE_SETTINGS_WRITE])
    response = settings_only.post(config_url, {"display": "Settings"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["display"] == "Settings"
    assert settings_only.get(config_url).status_code == 403  # reading needs customers/read


def test_no_token_is_401(client, application, config_url):
    assert client.get(config_url).status_code == 401
    assert client.post(config_url, {}, content_type="application/json").status_code == 401


def test_each_application_has_its_own_config(api, url, application, other_application):
    post_config(api, url("platform/config"), {"display": "First", "delete_account_day": 3})
    other = get_config(api, url("platform/config", application_id=other_application.id))
    assert other["display"] == "" and other["delete_account_day"] == 7 and other["__v"] == 0
    assert get_config(api, url("platform/config"))["display"] == "First"


def test_foreign_company_is_refused(api, make_client, url, application, foreign_application):
    # Another company's application under our company id: 404.
    response = api.get(url("platform/config", application_id=foreign_application.id))
    assert response.status_code == 404
    response = api.post(url("platform/config", application_id=foreign_application.id), {"display": "x"},
                        format="json")
    assert response.status_code == 404
    # Our token on the other company's path: 403.
    response = api.post(platform_path(777, foreign_application.id, "platform/config"), {"display": "x"},
                        format="json")
    assert response.status_code == 403
    # A foreign token on our path: 403.
    foreign = make_client(company_id=777)
    assert foreign.get(url("platform/config")).status_code == 403
    assert not PlatformConfig.objects.filter(application=foreign_application).exists()


# --------------------------------------------------------------------------- archive window

def test_archive_window_follows_delete_account_day(api, url, config_url, create_customer):
    customer = create_customer(email="window@example.com")
    post_config(api, config_url, {"delete_account_day": 2})
    response = api.put(url("customers/archive"), {"user_id": customer["_id"]}, format="json")
    assert response.status_code == 200, response.content
    from users.models import Customer

    restore_until = Customer.objects.get(pk=customer["_id"]).restore_until
    assert abs(restore_until - (timezone.now() + timedelta(days=2))) < timedelta(minutes=1)


def test_archive_window_defaults_without_a_config(application):
    from users.services import archive_window_days

    assert archive_window_days(application) == 7
    assert not PlatformConfig.objects.filter(application=application).exists()  # reading did not create it


# --------------------------------------------------------------------------- admin

def _form_data(document: str) -> dict:
    return {"settings_json": document}


def test_admin_staff_edits_with_validation(staff_client, application, foreign_application):
    response = staff_client.get(CONFIGS)
    assert response.status_code == 200
    shown = {c.application_id for c in response.context["cl"].result_list}
    assert application.id in shown and foreign_application.id not in shown
    config = PlatformConfig.objects.get(application=application)
    change_url = f"{CONFIGS}{config.pk}/change/"
    page = staff_client.get(change_url)
    assert page.status_code == 200
    assert b"session_config" in page.content

    bad = staff_client.post(change_url, _form_data('{"session_config": {"type": "Weeks"}}'))
    assert bad.status_code == 200  # the form again, with the error
    assert b"session_config.type" in bad.content
    assert PlatformConfig.objects.get(pk=config.pk).version == 0

    not_json = staff_client.post(change_url, _form_data("{nope"))
    assert not_json.status_code == 200 and b"Not valid JSON" in not_json.content

    good = staff_client.post(change_url, _form_data('{"delete_account_day": 3, "session_config": {"duration": 6}}'))
    assert good.status_code == 302, good.content[:2000]
    config.refresh_from_db()
    assert config.version == 1
    assert config.document["delete_account_day"] == 3
    assert config.document["session_config"] == {"duration": 6, "type": "Days", "is_rolling": False}


def test_admin_staff_cannot_see_another_company_config(staff_client, foreign_application):
    foreign = platform_config.get_platform_config(foreign_application)
    response = staff_client.get(f"{CONFIGS}{foreign.pk}/change/")
    assert response.status_code == 302  # Django's "doesn't exist" redirect to the admin index
    response = staff_client.post(f"{CONFIGS}{foreign.pk}/change/", _form_data('{"display": "hacked"}'))
    assert response.status_code == 302
    foreign.refresh_from_db()
    assert foreign.version == 0 and "hacked" not in str(foreign.document)


def test_admin_masks_secrets(staff_client, application):
    platform_config.update_platform_config(application, {"social_tokens": {"google": {"app_secret": "top-secret"}}})
    config = PlatformConfig.objects.get(application=application)
    page = staff_client.get(f"{CONFIGS}{config.pk}/change/")
    assert b"top-secret" not in page.content
    # Saving the page as shown keeps the secret.
    document = page.context["adminform"].form.initial.get("settings_json") or \
        page.context["adminform"].form.fields["settings_json"].initial
    response = staff_client.post(f"{CONFIGS}{config.pk}/change/", _form_data(document))
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.document["social_tokens"]["google"]["app_secret"] == "top-secret"


def test_session_settings_follow_session_config(api, config_url, application):
    assert platform_config.session_settings(application) == (30 * 24 * 3600, False)
    post_config(api, config_url, {"session_config": {"duration": 90, "type": "Minutes", "is_rolling": True}})
    assert platform_config.session_settings(application) == (90 * 60, True)


def test_migration_grants_existing_staff_the_config_permissions(application):
    import importlib

    from django.apps import apps

    staff = core_services.create_staff_user(company_id=COMPANY_ID, username="oldstaff", password=ADMIN_PASSWORD)
    staff.user_permissions.remove(*staff.user_permissions.filter(content_type__model="platformconfig"))
    staff = type(staff).objects.get(pk=staff.pk)
    assert not staff.has_perm("sessions_app.change_platformconfig")
    migration = importlib.import_module("sessions_app.migrations.0001_initial")
    migration.grant_staff_permissions(apps, None)
    staff = type(staff).objects.get(pk=staff.pk)
    assert staff.has_perm("sessions_app.change_platformconfig")
    assert staff.has_perm("sessions_app.view_platformconfig")


def test_openapi_lists_the_platform_config_operations(client, db):
    paths = client.get("/openapi.json").json()["paths"]
    path = "/service/platform/user/v1.0/company/{company_id}/application/{application_id}/platform/config"
    assert paths[path]["get"]["operationId"] == "getPlatformConfig"
    assert paths[path]["post"]["operationId"] == "updatePlatformConfig"
