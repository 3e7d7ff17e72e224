"""users.customer_rows: one definition of a new customer's rows for the API (ORM), the import (COPY) and
the bench seed; the hooks that keep users from importing higher apps (archive window, import columns)."""

import pytest
from django.utils import timezone

from bench import seed
from core.actors import Actor
from core.api.errors import ValidationFailed
from users import customer_rows, services
from users.contacts import Phone
from users.customer_rows import AUDIT_EVENTS, CUSTOMERS, EMAILS, PHONES
from users.models import AuditEvent, Customer, CustomerEmail, CustomerPhone
from users.transfers import columns, imports
from users.transfers import rows as row_rules

ACTOR = Actor.system("tests")
HEADER = ["first_name", "email", "phone_number", "gender", "dob"]


def test_copy_tables_write_every_column_and_the_model_defaults():
    for table, model in ((CUSTOMERS, Customer), (EMAILS, CustomerEmail), (PHONES, CustomerPhone),
                         (AUDIT_EVENTS, AuditEvent)):
        assert table.table == model._meta.db_table
        # every column but those the database fills in: a serial id, a database default (has_old_password_hash),
        # except an event's published and version, which the bulk writers set (their rows are not published)
        written = {"published", "version"} if model is AuditEvent else set()
        assert set(table.columns) == {f.column for f in model._meta.concrete_fields
                                      if not f.db_returning or f.column in written}
        assert ("id" in table.columns) is (model is Customer)
    now = timezone.now()
    row = dict(zip(CUSTOMERS.columns, CUSTOMERS.row(customer_rows.customer_values(
        "a" * 24, "asha", {"first_name": "Asha", "meta": {"tier": "gold"}}, created_at=now, updated_at=now))))
    assert len(row["id"]) == 24 and row["meta"] == '{"tier":"gold"}'
    assert {k: row[k] for k in ("first_name", "last_name", "dob", "account_type", "active", "archived",
                                "archived_at", "version")} == {
        "first_name": "Asha", "last_name": "", "dob": None, "account_type": "user", "active": True, "archived": False,
        "archived_at": None, "version": 0}
    with pytest.raises(KeyError, match="created_at"):
        CUSTOMERS.row(customer_rows.customer_values("a" * 24, "asha", {}))


def _columns(instance, skip=("id", "customer_id", "created_at", "updated_at", "username")) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields
            if f.attname not in skip}


def test_the_api_and_the_import_write_the_same_new_customer(application, other_application):
    data = {"phone_number": "9876543210", "email": "asha@example.com", "first_name": "Asha", "gender": "female"}
    by_api = services.create_customer(application, data, ACTOR)
    header = row_rules.read_header(HEADER, {}, [])
    row = row_rules.parse_row(2, {"first_name": "Asha", "email": "asha@example.com", "phone_number": "9876543210",
                                  "gender": "female"}, header)
    assert imports.apply_rows(other_application, [row], ACTOR).success == 1
    by_import = Customer.objects.get(application=other_application)
    by_api.refresh_from_db()
    assert {**_columns(by_api), "application_id": None} == {**_columns(by_import), "application_id": None}
    for related in ("emails", "phones"):
        assert [{**_columns(c), "application_id": None} for c in getattr(by_api, related).all()] == \
               [{**_columns(c), "application_id": None} for c in getattr(by_import, related).all()]
    api_event, import_event = (AuditEvent.objects.get(customer_id=c.id) for c in (by_api, by_import))
    assert (api_event.action, api_event.data["phone"], api_event.data["email"]) == (
        import_event.action, import_event.data["phone"], import_event.data["email"]) == (
        "customer.created", "+919876543210", "asha@example.com")
    assert import_event.data["source"] == "import"
    assert by_api.username.startswith("asha_") and by_import.username.startswith("asha_")


def test_usernames_follow_createusers_rule():
    phone = Phone("9876543210", 91)
    assert customer_rows.username_for("  Mine ", None, phone) == "Mine"
    assert customer_rows.username_for("", "A.B+x@example.com", phone)[:-9] == "a.b_x"
    assert customer_rows.username_for(None, None, phone)[:-9] == "9876543210"


def test_the_archive_window_is_the_registered_sources_or_the_default(application, monkeypatch, settings):
    monkeypatch.setattr(services, "_archive_window_source", None)
    assert services.archive_window_days(application) == settings.DEFAULT_DELETE_ACCOUNT_DAYS
    services.register_archive_window(lambda app: 3 if app == application else None)
    assert services.archive_window_days(application) == 3
    services.register_archive_window(lambda app: None)
    assert services.archive_window_days(application) == settings.DEFAULT_DELETE_ACCOUNT_DAYS


class NicknameColumns:
    """A provider of another app: a "nickname" column, refused when it is "x", stored in the customer's meta."""

    key = "nicknames"
    hint = "nickname"

    def claim(self, application, names):
        return {"nickname"} & set(names)

    def open_chunk(self, application, names):
        return self

    def parse(self, cells):
        if cells["nickname"] == "x":
            raise ValidationFailed("nickname: too short.")
        return cells["nickname"]

    def store(self, customer_id, parsed, actor):
        Customer.objects.filter(id=customer_id).update(meta={"nickname": parsed})


def test_other_apps_read_extra_import_columns_through_a_provider(application, monkeypatch):
    monkeypatch.setattr(columns, "_providers", {"nicknames": NicknameColumns()})
    with pytest.raises(ValidationFailed, match=r"unknown column\(s\) tier: use first_name, .*, or nickname\.$"):
        row_rules.read_header(["phone_number", "tier"], {}, ["nickname"])
    header = row_rules.read_header(["phone_number", "Nickname"], {"nickname": "nicknames"}, ["nickname"])
    rows = [row_rules.parse_row(2, {"phone_number": "9876543210", "Nickname": "Ash"}, header),
            row_rules.parse_row(3, {"phone_number": "9876543211", "Nickname": "x"}, header),
            row_rules.parse_row(4, {"phone_number": "9876543212", "Nickname": ""}, header)]
    result = imports.apply_rows(application, rows, ACTOR)
    assert result.success == 2 and [(e.row_number, e.message) for e in result.errors] == [(3, "nickname: too short.")]
    assert sorted(Customer.objects.values_list("meta", flat=True), key=len) == [{}, {"nickname": "Ash"}]


def test_a_seeded_row_is_what_the_import_would_write():
    chunk = seed.generate("a" * 24, 10, 0, 2)
    customer = dict(zip(CUSTOMERS.columns, chunk.customers[0]))
    email = dict(zip(EMAILS.columns, chunk.emails[0]))
    phone = dict(zip(PHONES.columns, chunk.phones[0]))
    assert (customer["account_type"], customer["archived"], customer["version"], customer["meta"]) == (
        "user", False, 0, "{}")
    assert email["customer_id"] == phone["customer_id"] == customer["id"] and email["primary"] and phone["primary"]
    assert phone["e164"] == "+91" + phone["phone"]
