"""Platform config of an application: read it, change it (selectors and the service).

The stored document is the SDK's ``PlatformSchema`` (seed 002, "Website Authentication") without its
bookkeeping keys (``_id``, ``created_at``, ``updated_at``, ``__v``), which come from the row.

- :func:`get_platform_config` returns the row, creating it with the defaults on first read.
- :func:`update_platform_config` merges validated changes (``PlatformConfigSerializer``) into the
  stored document (nested objects key by key, lists replaced whole), checks the rules across fields,
  bumps ``__v``, saves and records a ``platform_config.updated`` audit event; a refusal stores nothing.
- :func:`present` is the API / admin view of a row: every key of ``PlatformSchema``, strings never
  null, social app secrets masked.
- :func:`present_for_storefront` is the storefront's view (getPlatformConfig of the ApplicationClient):
  the keys a sign-in page needs, social apps by their public app_id only; no secret, not even masked.

See docs/platform-config.md for the defaults and the rules.
"""

import functools
import json

from django.db import connection, transaction

from core.actors import Actor
from core.ids import is_object_id
from core.tenancy.models import Application
from core.timefmt import iso
from sessions_app.models import PlatformConfig
from sessions_app.platform_document import (
    APPLE, DEFAULT_SESSION_CONFIG, SECRET_MASK, check_whole, default_document, full_document, keep_secrets, masked,
    merge,
)
from sessions_app.schema import PlatformConfig as PlatformSchema  # the answer's TypedDict, not the model
from users import events
from users.services import record_event

__all__ = ["SECRET_MASK", "get_platform_config", "stored_value", "session_settings", "update_platform_config",
           "present", "present_for_storefront"]

SESSION_UNIT_SECONDS = {"Days": 24 * 3600, "Hours": 3600, "Minutes": 60}


def get_platform_config(application) -> PlatformConfig:
    """The application's config, created with the defaults on first read."""
    config, _created = PlatformConfig.objects.get_or_create(
        application=application, defaults={"document": default_document()})
    return config


# Model.from_db takes a subset of the columns in the model's field order.
_APPLICATION_FIELDS = [f.attname for f in Application._meta.concrete_fields
                       if f.attname in ("id", "company_id", "token_hash", "name")]
_APPLICATION_WITH_CONFIG_SQL = (
    f"SELECT {', '.join('a.' + name for name in _APPLICATION_FIELDS)}, pc.document::text "
    f"FROM {Application._meta.db_table} a LEFT JOIN {PlatformConfig._meta.db_table} pc "
    "ON pc.application_id = a.id WHERE a.id = %s")
_CONFIG_TEXT = "_platform_config_text"


def application_with_config(application_id: str) -> Application | None:
    """application_by_id's application, with its name (messages name the store) and the text of its stored
    config read in the same query: the storefront's flows then read the config (stored_value) without
    another one."""
    if not is_object_id(application_id):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_APPLICATION_WITH_CONFIG_SQL, [application_id])
        row = cursor.fetchone()
    if row is None:
        return None
    application = Application.from_db(connection.alias, _APPLICATION_FIELDS, row[:-1])
    setattr(application, _CONFIG_TEXT, row[-1] or "")
    return application


def stored_value(application, *path, default=None):
    """One value of the config without creating it: the stored value, else the default. Plain SQL: every
    storefront sign-in reads it (the ORM's query compilation showed in the locked-account bench); none
    when the application came from application_with_config (the text read with it)."""
    text = getattr(application, _CONFIG_TEXT, None)
    if text is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT document::text FROM {PlatformConfig._meta.db_table} WHERE application_id = %s",
                           [application.id])
            row = cursor.fetchone()
        text = row[0] if row else ""
    value = _full_document_of(text)
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return default
        value = value[key]
    return value


@functools.lru_cache(maxsize=256)
def _full_document_of(text: str) -> dict:
    """The full document of a stored one (its JSON text): parsed and merged over the defaults once per
    distinct text (the deep merge cost more than the query). Shared: callers read it, never change it."""
    return full_document(json.loads(text) if text else None)


def session_settings(application) -> tuple[int, bool]:
    """(lifetime in seconds, is_rolling) of the application's session_config, without creating the row.

    Read on every createUserSession: only the session_config part, in plain SQL."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT document -> 'session_config' FROM {PlatformConfig._meta.db_table} "
                       "WHERE application_id = %s", [application.id])
        row = cursor.fetchone()
    stored = row[0] if row else None
    if isinstance(stored, str):  # a driver that hands jsonb over as text
        stored = json.loads(stored)
    return session_settings_of(stored)


def session_settings_of(session_config) -> tuple[int, bool]:
    """(lifetime in seconds, is_rolling) of a ``session_config`` (defaults for what it lacks)."""
    session = {**DEFAULT_SESSION_CONFIG, **(session_config if isinstance(session_config, dict) else {})}
    return session["duration"] * SESSION_UNIT_SECONDS[session["type"]], bool(session["is_rolling"])


def update_platform_config(application, changes: dict, actor: Actor | None = None) -> PlatformConfig:
    """Merge ``changes`` (validated by ``PlatformConfigSerializer``) into the stored config.

    Nothing changed: nothing saved, ``__v`` kept, no event. The event names the changed top-level
    keys, never their values (secrets)."""
    actor = actor or Actor.system("update_platform_config")
    with transaction.atomic():
        get_platform_config(application)
        config = PlatformConfig.objects.select_for_update().get(application=application)
        stored = full_document(config.document)
        merged = merge(stored, keep_secrets(changes, stored))
        check_whole(merged)
        changed = [key for key in merged if merged[key] != stored.get(key)]
        if changed:
            config.document = merged
            config.version += 1
            config.save(update_fields=["document", "version", "updated_at"])
            record_event("", application.id, events.PLATFORM_CONFIG_UPDATED, actor, data={"changed": changed})
    return config


def present(config: PlatformConfig) -> PlatformSchema:
    """The PlatformSchema answer: every key, strings never null, secrets masked; the SDK's schema has no
    ``social_tokens.apple`` (stored, and shown to the storefront and the admin, not here)."""
    shown = masked(full_document(config.document))
    shown["social_tokens"].pop(APPLE, None)
    return {
        "_id": config.id,
        **shown,
        "created_at": iso(config.created_at),
        "updated_at": iso(config.updated_at),
        "__v": config.version,
    }


# What the storefront is shown: the keys of the SDK's storefront PlatformSchema and the password rules its
# forms explain; not account_lockout (how fast a guesser may go), never a social app_secret.
STOREFRONT_KEYS = (
    "display", "name", "subtext", "active", "register", "forgot_password", "skip_captcha", "skip_login",
    "mobile_image", "desktop_image", "look_and_feel", "login", "password_settings", "meta", "social",
    "required_fields", "register_required_fields", "flash_card", "delete_account_day", "delete_account_reasons",
    "delete_account_consent", "session_config",
)


def present_for_storefront(config: PlatformConfig) -> dict:
    """The storefront's PlatformSchema (accounts.account_schema.StorefrontPlatformSchema): a whitelist of the
    document, social_tokens reduced to each provider's app_id."""
    document = full_document(config.document)
    return {
        "_id": config.id,
        **{key: document[key] for key in STOREFRONT_KEYS},
        "social_tokens": {provider: {"app_id": values.get("app_id") or ""}
                          for provider, values in document["social_tokens"].items()},
        "created_at": iso(config.created_at),
        "updated_at": iso(config.updated_at),
        "__v": config.version,
    }
