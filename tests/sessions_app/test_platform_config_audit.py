"""Platform config changes are audited: one platform_config.updated event per change (API and admin),
naming who changed which top-level keys, never a value; the admin shows the refusals of the service."""

import json

import pytest

from sessions_app import platform_config
from sessions_app.models import PlatformConfig
from users import events
from users.models import AuditEvent

CONFIGS = "/admin/sessions_app/platformconfig/"


@pytest.fixture
def config_url(url):
    return url("platform/config")


def config_events(application):
    return list(AuditEvent.objects.filter(application=application, action=events.PLATFORM_CONFIG_UPDATED)
                .order_by("created_at", "id"))


def test_an_api_change_is_recorded_with_its_keys_and_client(api, config_url, application):
    response = api.post(config_url, {"display": "Demo", "session_config": {"duration": 12},
                                     "social_tokens": {"google": {"app_id": "gid", "app_secret": "g-s3cret"}}},
                        format="json")
    assert response.status_code == 200, response.content
    [event] = config_events(application)
    assert event.customer_id == ""
    assert sorted(event.data["changed"]) == ["display", "session_config", "social_tokens"]
    assert "g-s3cret" not in json.dumps(event.data)
    assert event.actor_type == "api_client" and event.actor_id == api.record.client_id


def test_no_change_no_event_and_a_refusal_no_event(api, config_url, application):
    assert api.post(config_url, {"display": ""}, format="json").status_code == 200  # the default: no change
    assert api.post(config_url, {"login": {"password": False, "otp": False}}, format="json").status_code == 400
    assert api.post(config_url, {"register": "yes"}, format="json").status_code == 400
    assert config_events(application) == []


def test_a_direct_service_call_is_recorded_as_the_system(application):
    platform_config.update_platform_config(application, {"delete_account_day": 3})
    [event] = config_events(application)
    assert event.actor_type == "system" and event.data == {"changed": ["delete_account_day"]}


def test_an_admin_change_is_recorded_with_the_staff_user(staff_client, application):
    config = platform_config.get_platform_config(application)
    response = staff_client.post(f"{CONFIGS}{config.pk}/change/",
                                 {"settings_json": '{"flash_card": {"text": "Hello"}}'})
    assert response.status_code == 302, response.content[:2000]
    [event] = config_events(application)
    assert event.data == {"changed": ["flash_card"]}
    assert event.actor_type == "staff" and event.actor_id == str(staff_client.staff.pk)


def test_admin_shows_a_rule_across_fields_and_stores_nothing(staff_client, application):
    config = platform_config.get_platform_config(application)
    response = staff_client.post(f"{CONFIGS}{config.pk}/change/",
                                 {"settings_json": '{"display": "x", "session_config": {"duration": 400}}'})
    assert response.status_code == 200
    assert b"session_config.duration: must be at most 365 days (a year)." in response.content
    config.refresh_from_db()
    assert config.version == 0 and config.document.get("display", "") == ""
    assert config_events(application) == []


def test_admin_names_the_first_bad_field(staff_client, application):
    config = PlatformConfig.objects.get(pk=platform_config.get_platform_config(application).pk)
    response = staff_client.post(f"{CONFIGS}{config.pk}/change/",
                                 {"settings_json": '{"delete_account_reasons": [{"reason_text": ""}]}'})
    assert response.status_code == 200
    assert b"delete_account_reasons[0].reason_text: is required." in response.content
