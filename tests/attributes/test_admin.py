"""The admin console's attribute pages: definitions and values are saved through attributes.services
(same rules, errors shown on the form), scoped to the staff user's company, encrypted values masked."""

import json

import pytest

from attributes import crypto, selectors
from attributes import services as attribute_services
from attributes.models import AttributeDefinition, UserAttribute, UserAttributeValue
from core.actors import Actor
from users import services as user_services
from users.models import AuditEvent

DEFINITIONS = "/admin/attributes/attributedefinition/"
VALUES = "/admin/attributes/userattribute/"
CUSTOMERS = "/admin/users/customer/"
SYSTEM = Actor.system("test")


@pytest.fixture
def asha(application):
    return user_services.create_customer(application, {"phone_number": "9876500001", "first_name": "Asha"}, SYSTEM)


def make_definition(application, **data):
    return attribute_services.create_definition(application, {"type": "string", **data}, SYSTEM)


def definition_form(**fields):
    form = {"name": "", "slug": "", "description": "", "type": "string", "pin_order": "0", "default_value": "",
            "validations": "", "icon": "", "ordering_channels": "", "masking": "", "registration": ""}
    form.update({k: v for k, v in fields.items() if v is not False})
    return {k: v for k, v in form.items() if v is not None}


def form_errors(response) -> str:
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    form = response.context["adminform"].form
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --------------------------------------------------------------------------- definitions


def test_staff_adds_a_definition_through_the_service(staff_client, application):
    response = staff_client.post(f"{DEFINITIONS}add/", definition_form(
        application=application.id, name="Loyalty tier", type="string", pinned="on", pin_order="2",
        validations='[{"type": "enum", "value": ["gold", "silver"]}]', default_value='"gold"',
        ordering_channels="web, pos", masking='{"enabled": true, "type": "default"}'))
    assert response.status_code == 302, form_errors(response)
    definition = AttributeDefinition.objects.get()
    assert definition.slug == "loyalty_tier" and definition.pinned and definition.pin_order == 2
    assert definition.validations == [{"type": "enum", "value": ["gold", "silver"]}]
    assert definition.default_value == "gold" and definition.ordering_channels == ["web", "pos"]
    assert definition.masking == {"enabled": True, "type": "default"}
    assert definition.created_by == str(staff_client.staff.pk)
    assert response["Location"].endswith(DEFINITIONS)


@pytest.mark.parametrize("fields,fragment", [
    ({"name": "X", "type": "number", "validations": '[{"type": "regex", "value": "^1"}]'}, "does not apply"),
    ({"name": "X", "validations": '[{"type": "regex", "value": "(a)\\\\1"}]'}, "backreferences"),
    ({"name": "X", "validations": "[not json"}, "Not valid JSON"),
    ({"name": "X", "type": "number", "default_value": '"many"'}, "default_value"),
    ({"name": "X", "slug": "bad slug"}, "slug"),
])
def test_definition_form_shows_the_service_errors(staff_client, application, fields, fragment):
    response = staff_client.post(f"{DEFINITIONS}add/", definition_form(application=application.id, **fields))
    assert fragment in form_errors(response)
    assert not AttributeDefinition.objects.exists()


def test_change_a_definition_converts_values_or_shows_why_not(staff_client, application, asha):
    definition = make_definition(application, name="Score")
    attribute_services.set_value(application, definition.id, asha.id, "12", SYSTEM)
    url = f"{DEFINITIONS}{definition.id}/change/"
    page = staff_client.get(url)
    assert page.status_code == 200 and "Score" in page.content.decode()
    response = staff_client.post(url, definition_form(name="Score", slug="score", type="number"))
    assert response.status_code == 302, form_errors(response)
    definition.refresh_from_db()
    assert definition.type == "number" and definition.version == 1
    assert UserAttribute.objects.get().value == 12
    attribute_services.set_value(application, definition.id, asha.id, 2.5, SYSTEM)
    response = staff_client.post(url, definition_form(name="Score", slug="score", type="boolean"))
    assert "do not convert" in form_errors(response)
    definition.refresh_from_db()
    assert definition.type == "number"


def test_a_locked_definition_is_read_only_until_unlocked(staff_client, application):
    definition = make_definition(application, name="System", is_locked=True)
    url = f"{DEFINITIONS}{definition.id}/change/"
    form = staff_client.get(url).context["adminform"].form
    assert all(form.fields[name].disabled for name in form.fields if name != "is_locked")
    assert not form.fields["is_locked"].disabled
    response = staff_client.post(url, definition_form(name="Renamed", is_locked="on"))
    assert "locked" in form_errors(response)
    assert staff_client.get(f"{DEFINITIONS}{definition.id}/delete/").status_code == 403
    response = staff_client.post(url, definition_form(name="Renamed"))  # is_locked unchecked
    assert response.status_code == 302, form_errors(response)
    definition.refresh_from_db()
    assert definition.is_locked is False and definition.name == "System"  # only unlocked


def test_delete_a_definition_and_its_values(staff_client, application, asha):
    definition = make_definition(application, name="Tier")
    attribute_services.set_value(application, definition.id, asha.id, "gold", SYSTEM)
    page = staff_client.get(f"{DEFINITIONS}{definition.id}/delete/").content.decode()
    assert "1 customer values" in page
    response = staff_client.post(f"{DEFINITIONS}{definition.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AttributeDefinition.objects.exists() and not UserAttribute.objects.exists()
    assert not UserAttributeValue.objects.exists()


def test_definitions_are_scoped_to_the_company(staff_client, application, foreign_application):
    mine = make_definition(application, name="Mine")
    theirs = make_definition(foreign_application, name="Theirs")
    page = staff_client.get(DEFINITIONS)
    assert {d.pk for d in page.context["cl"].result_list} == {mine.pk}
    response = staff_client.get(f"{DEFINITIONS}{theirs.pk}/change/")
    assert response.status_code == 302 and theirs.pk not in response["Location"]
    add = staff_client.get(f"{DEFINITIONS}add/").content.decode()
    assert "Demo Store" in add and "Foreign Store" not in add
    response = staff_client.post(f"{DEFINITIONS}add/", definition_form(application=foreign_application.id,
                                                                       name="Sneaky"))
    assert "application" in response.context["adminform"].form.errors
    assert AttributeDefinition.objects.count() == 2


# --------------------------------------------------------------------------- values


def test_customer_page_lists_values_with_encrypted_ones_masked(staff_client, application, asha):
    tier = make_definition(application, name="Tier")
    secret = make_definition(application, name="PAN", encrypted=True)
    attribute_services.set_value(application, tier.id, asha.id, "gold", SYSTEM)
    attribute_services.set_value(application, secret.id, asha.id, "ABCDE1234F", SYSTEM)
    page = staff_client.get(f"{CUSTOMERS}{asha.pk}/change/").content.decode()
    assert "Attribute values" in page and "gold" in page and "•••••• (encrypted)" in page
    assert "ABCDE1234F" not in page
    assert f"{CUSTOMERS}{asha.pk}/attributes/set/" in page  # set a value without leaving the page
    listing = staff_client.get(f"{VALUES}?q={asha.pk}").content.decode()
    assert "gold" in listing and "ABCDE1234F" not in listing
    value = UserAttribute.objects.get(definition=secret)
    change = staff_client.get(f"{VALUES}{value.pk}/change/").content.decode()
    assert "ABCDE1234F" not in change and "•••••• (encrypted)" in change


def test_staff_sets_a_value_through_the_service(staff_client, application, asha):
    tier = make_definition(application, name="Tier", validations=[{"type": "enum", "value": ["gold", "silver"]}])
    tags = make_definition(application, name="Tags", multi_value=True)
    response = staff_client.get(f"{VALUES}add/?customer={asha.pk}")
    assert response.status_code == 200 and "Tier" in response.content.decode()
    response = staff_client.post(f"{VALUES}add/", {"customer": asha.pk, "definition": tier.pk, "value": "platinum"})
    assert "tier" in form_errors(response) and "enum" in form_errors(response)
    response = staff_client.post(f"{VALUES}add/", {"customer": asha.pk, "definition": tags.pk, "value": "a, b"})
    assert "JSON" in form_errors(response)
    assert not UserAttribute.objects.exists()
    response = staff_client.post(f"{VALUES}add/", {"customer": asha.pk, "definition": tier.pk, "value": "gold"})
    assert response.status_code == 302, form_errors(response)
    response = staff_client.post(f"{VALUES}add/", {"customer": asha.pk, "definition": tags.pk,
                                                   "value": '["a", "b"]', "customer_overridden": "on"})
    assert response.status_code == 302, form_errors(response)
    assert {a.definition_id: a.value for a in UserAttribute.objects.all()} == {tier.pk: "gold", tags.pk: ["a", "b"]}
    assert UserAttributeValue.objects.filter(definition_id=tags.pk).count() == 2
    event = AuditEvent.objects.filter(customer_id=asha.pk, action="attribute.updated").latest("id")
    assert event.actor_type == "staff" and event.actor_name == "staff559"
    value = UserAttribute.objects.get(definition=tier)
    response = staff_client.post(f"{VALUES}{value.pk}/change/", {"value": "silver"})
    assert response.status_code == 302, form_errors(response)
    value.refresh_from_db()
    assert value.value == "silver" and value.version == 1


def test_an_encrypted_value_keeps_its_mask(staff_client, application, asha):
    secret = make_definition(application, name="PAN", encrypted=True)
    attribute, _ = attribute_services.set_value(application, secret.id, asha.id, "ABCDE1234F", SYSTEM)
    url = f"{VALUES}{attribute.pk}/change/"
    response = staff_client.post(url, {"value": "•••••• (encrypted)", "customer_overridden": "on"})
    assert response.status_code == 302, form_errors(response)
    attribute.refresh_from_db()
    assert attribute.customer_overridden is True and attribute.value is None
    assert json.loads(crypto.decrypt(attribute.ciphertext)) == "ABCDE1234F"
    response = staff_client.post(url, {"value": "ZZZZZ9999Z"})
    assert response.status_code == 302
    assert selectors.value_of(UserAttribute.objects.get()) == "ZZZZZ9999Z"


def test_a_value_cannot_mix_applications_or_companies(staff_client, application, other_application,
                                                      foreign_application, asha):
    theirs = make_definition(other_application, name="Theirs")
    response = staff_client.post(f"{VALUES}add/", {"customer": asha.pk, "definition": theirs.pk, "value": "x"})
    assert "another application" in form_errors(response)
    foreign_customer = user_services.create_customer(foreign_application, {"phone_number": "9876500009"}, SYSTEM)
    mine = make_definition(application, name="Mine")
    response = staff_client.post(f"{VALUES}add/", {"customer": foreign_customer.pk, "definition": mine.pk,
                                                   "value": "x"})
    assert "No such customer" in form_errors(response)
    foreign_definition = make_definition(foreign_application, name="Foreign")
    response = staff_client.post(f"{VALUES}add/", {"customer": asha.pk, "definition": foreign_definition.pk,
                                                   "value": "x"})
    assert "definition" in response.context["adminform"].form.errors
    assert not UserAttribute.objects.exists()


def test_a_refusal_at_write_time_is_shown_on_the_form_and_nothing_is_written(staff_client, application, asha):
    """The form's clean() only validates; the service refuses when it writes (here: the customer was
    archived, a slug taken in the meantime). The page comes back with the input and the service's message."""
    tier = make_definition(application, name="Tier", slug="tier")
    user_services.archive_customer(application, asha.pk, SYSTEM)
    response = staff_client.post(f"{VALUES}add/", {"customer": asha.pk, "definition": tier.pk, "value": "gold"})
    assert asha.pk in form_errors(response) and "value" not in response.context["adminform"].form.errors
    assert response.context["adminform"].form["value"].value() == "gold"
    assert not UserAttribute.objects.exists() and not UserAttributeValue.objects.exists()
    assert not AuditEvent.objects.filter(customer_id=asha.pk, action="attribute.updated").exists()
    response = staff_client.post(f"{DEFINITIONS}add/", definition_form(application=application.id, name="Tier 2",
                                                                       slug="TIER"))
    assert "already used" in form_errors(response)
    assert list(AttributeDefinition.objects.values_list("slug", flat=True)) == ["tier"]


def test_delete_a_value(staff_client, application, asha):
    tier = make_definition(application, name="Tier")
    attribute, _ = attribute_services.set_value(application, tier.id, asha.id, "gold", SYSTEM)
    assert staff_client.get(f"{VALUES}{attribute.pk}/delete/").status_code == 200
    response = staff_client.post(f"{VALUES}{attribute.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not UserAttribute.objects.exists() and not UserAttributeValue.objects.exists()
    assert AuditEvent.objects.filter(customer_id=asha.pk, action="attribute.deleted").exists()


# --------------------------------------------------------------------------- set / clear on the customer's page


def test_staff_set_and_clear_values_from_the_customer_page(staff_client, application, asha):
    tier = make_definition(application, name="Tier", validations=[{"type": "enum", "value": ["gold", "silver"]}])
    visits = make_definition(application, name="Visits", type="number")
    page_url = f"{CUSTOMERS}{asha.pk}/change/"
    page = staff_client.get(page_url).content.decode()
    set_url = f"{CUSTOMERS}{asha.pk}/attributes/set/"
    assert set_url in page and 'id="attribute-form"' in page
    assert 'id="set-attribute"' in page and "Tier (tier, string)" in page

    # The definition's validation, as a message on the customer's page; nothing written.
    response = staff_client.post(set_url, {"definition": tier.pk, "value": "platinum"}, follow=True)
    assert response.redirect_chain[-1][0].startswith(page_url)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "The value was not set" in text and "enum" in text
    response = staff_client.post(set_url, {"definition": visits.pk, "value": "many"}, follow=True)
    assert "JSON" in " ".join(str(m) for m in response.context["messages"])
    assert not UserAttribute.objects.exists()

    response = staff_client.post(set_url, {"definition": tier.pk, "value": "gold"}, follow=True)
    assert "Tier set to gold." in " ".join(str(m) for m in response.context["messages"])
    assert staff_client.post(set_url, {"definition": visits.pk, "value": "12"}).status_code == 302
    assert {a.definition_id: a.value for a in UserAttribute.objects.all()} == {tier.pk: "gold", visits.pk: 12}
    event = AuditEvent.objects.filter(customer_id=asha.pk, action="attribute.updated").latest("id")
    assert event.actor_type == "staff" and event.actor_name == "staff559"

    clear_url = f"{CUSTOMERS}{asha.pk}/attributes/{tier.pk}/clear/"
    assert clear_url in staff_client.get(page_url).content.decode()
    assert staff_client.get(clear_url).status_code == 405  # a change is a POST
    response = staff_client.post(clear_url, follow=True)
    assert "The value was cleared." in " ".join(str(m) for m in response.context["messages"])
    assert list(UserAttribute.objects.values_list("definition_id", flat=True)) == [visits.pk]
    assert AuditEvent.objects.filter(customer_id=asha.pk, action="attribute.deleted", actor_type="staff").exists()
    response = staff_client.post(clear_url, follow=True)  # nothing left to clear: a message, not a 500
    assert "The value was not cleared" in " ".join(str(m) for m in response.context["messages"])


def test_values_of_another_company_customer_cannot_be_set(staff_client, foreign_application):
    foreign = user_services.create_customer(foreign_application, {"phone_number": "9876500009"}, SYSTEM)
    definition = make_definition(foreign_application, name="Tier")
    response = staff_client.post(f"{CUSTOMERS}{foreign.pk}/attributes/set/", {"definition": definition.pk,
                                                                               "value": "gold"})
    assert response.status_code == 404
    response = staff_client.post(f"{CUSTOMERS}{foreign.pk}/attributes/{definition.pk}/clear/")
    assert response.status_code == 404
    assert not UserAttribute.objects.exists()


def test_a_definition_of_another_application_is_refused(staff_client, application, other_application, asha):
    elsewhere = make_definition(other_application, name="Tier")
    response = staff_client.post(f"{CUSTOMERS}{asha.pk}/attributes/set/", {"definition": elsewhere.pk,
                                                                            "value": "gold"}, follow=True)
    assert "The value was not set" in " ".join(str(m) for m in response.context["messages"])
    assert not UserAttribute.objects.exists()


def test_read_only_staff_cannot_set_or_clear(client, application, asha):
    from core.tenancy import services as core_services
    tier = make_definition(application, name="Tier")
    attribute_services.set_value(application, tier.id, asha.id, "gold", SYSTEM)
    auditor = core_services.create_staff_user(company_id=application.company_id, username="auditor",
                                              password="Auditor-pass-123!", role="read_only")
    client.force_login(auditor)
    page = client.get(f"{CUSTOMERS}{asha.pk}/change/").content.decode()
    assert "gold" in page and "/attributes/set/" not in page and "/clear/" not in page
    assert client.post(f"{CUSTOMERS}{asha.pk}/attributes/set/", {"definition": tier.pk, "value": "x"}).status_code == 403
    assert client.post(f"{CUSTOMERS}{asha.pk}/attributes/{tier.pk}/clear/").status_code == 403
    assert UserAttribute.objects.get().value == "gold"
