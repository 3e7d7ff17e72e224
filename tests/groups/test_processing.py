"""groups.processing's staging rows: the lookup keys are users.contacts' (the stored forms), and the list
filters refuse NUL characters."""

import pytest

from groups import processing
from tests.helpers import assert_error


@pytest.mark.parametrize("phone,key", [
    ("9876500020", "+919876500020"), ("+91 98765 00030", "+919876500030"), ("919876500040", "+919876500040"),
    ("0091 9876500040", "+919876500040"),
    ("+39 06 6982 1234", "+390669821234"),  # an Italian number keeps its leading 0 (no trunk prefix to drop)
    ("12345", None),  # written like a number, valid nowhere: it matches nobody
])
def test_phone_keys_are_the_stored_e164(phone, key):
    row = processing.Stager(processing.REPLACE, 91).row(2, "", "", phone, None)
    assert row == (2, "phone_number", phone, key, "add", None)


def test_email_keys_are_the_stored_address():
    stager = processing.Stager(processing.REPLACE, 91)
    assert stager.row(2, "", "P1@Example.com", "", None)[3] == "p1@example.com"
    assert stager.row(3, "", "no-at-sign", "", None)[3:] == (None, None, "email is not an email address")
    assert stager.row(4, "", "", "phone?", None)[3:] == (None, None, "phone_number is not a phone number")


def test_a_nul_character_in_a_list_filter_is_a_400(api, url):
    assert_error(api.get(url("user_group"), {"name": "Gold\x00"}), 400, "name must not contain NUL characters")
    assert_error(api.get(url("user_group"), {"group_uid": "1\x00"}), 400, "group_uid must be a whole number")
    response = api.get(url("user_group"), {"name": "  "})
    assert response.status_code == 200 and response.json()["items"] == []
