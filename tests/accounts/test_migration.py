"""Moving customers in with their passwords (docs/migration.md): hashes made by the real libraries
(bcrypt, argon2-cffi, hashlib, Django's hashers) imported through the customer import job, each customer
then signing in through the storefront API with the password, re-hashed at that first sign-in; bad hashes
in the error file; social identity columns; createUser / updateUser with password_hash; the export."""

import base64
import csv
import hashlib
import io
import secrets

import argon2
import bcrypt
import pytest
from django.contrib.auth import hashers as django_hashers

from accounts import legacy_hashes, passwords
from accounts.models import Credential
from core import jobs
from core.actors import Actor
from core.jobs.models import Job, JobError
from tests.file_server import serve_files
from tests.helpers import assert_error
from users.models import AuditEvent, Customer, LinkedIdentity
from users.services import create_customer

ACTOR = Actor.system("tests")
LOGIN = "authentication/v1.0/login/password"

pytestmark = pytest.mark.usefixtures("local_file_urls")


# --------------------------------------------------------------------------- hashes as other platforms make them

def ab64(raw: bytes) -> str:
    """passlib's adapted base64."""
    return base64.b64encode(raw).decode().rstrip("=").replace("+", ".")


def passlib_pbkdf2(digest: str, password: str, rounds: int = 2000) -> str:
    salt = secrets.token_bytes(16)
    checksum = hashlib.pbkdf2_hmac(digest, password.encode(), salt, rounds)
    return f"$pbkdf2-{digest}${rounds}${ab64(salt)}${ab64(checksum)}"


def werkzeug_pbkdf2(password: str, rounds: int = 2000) -> str:
    salt = secrets.token_hex(8)
    return f"pbkdf2:sha256:{rounds}${salt}${hashlib.pbkdf2_hmac('sha256', password.encode(), salt.encode(), rounds).hex()}"


def salted(algorithm: str, password: str) -> str:
    salt = secrets.token_hex(6)
    return f"{algorithm}${salt}${hashlib.new(algorithm, (salt + password).encode()).hexdigest()}"


class FastBCryptSHA256(django_hashers.BCryptSHA256PasswordHasher):
    rounds = 4


class FastBCrypt(django_hashers.BCryptPasswordHasher):
    rounds = 4


def bcrypt_hash(password: str, prefix: bytes = b"2b") -> str:
    made = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4, prefix=b"2b")).decode()
    return "$" + prefix.decode() + made[3:]


MAKERS = {
    "bcrypt-2b": lambda pw: bcrypt_hash(pw),
    "bcrypt-2a": lambda pw: bcrypt_hash(pw, b"2a"),
    "bcrypt-2y": lambda pw: bcrypt_hash(pw, b"2y"),
    "argon2id": lambda pw: argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(pw),
    "argon2i": lambda pw: argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1,
                                                type=argon2.Type.I).hash(pw),
    "pbkdf2-sha256": lambda pw: passlib_pbkdf2("sha256", pw),
    "pbkdf2-sha512": lambda pw: passlib_pbkdf2("sha512", pw),
    "werkzeug": werkzeug_pbkdf2,
    "django-pbkdf2_sha256": lambda pw: django_hashers.PBKDF2PasswordHasher().encode(pw, "s4ltS4lt", 2000),
    "django-pbkdf2_sha1": lambda pw: django_hashers.PBKDF2SHA1PasswordHasher().encode(pw, "s4ltS4lt", 2000),
    "django-argon2": lambda pw: django_hashers.make_password(pw, hasher=django_hashers.Argon2PasswordHasher()),
    "django-bcrypt_sha256": lambda pw: django_hashers.make_password(pw, hasher=FastBCryptSHA256()),
    "django-bcrypt": lambda pw: django_hashers.make_password(pw, hasher=FastBCrypt()),
    "django-scrypt": lambda pw: django_hashers.make_password(pw, hasher=django_hashers.ScryptPasswordHasher()),
    "md5": lambda pw: salted("md5", pw),
    "sha1": lambda pw: salted("sha1", pw),
    "sha256": lambda pw: salted("sha256", pw),
}

BAD_HASHES = {
    "$2b$10$tooshort": "malformed bcrypt",
    "$2b$16$" + "a" * 53: "cost 16 is above the accepted maximum 15",
    "md5$$" + "0" * 32: "unsalted md5",
    "5f4dcc3b5aa765d61d8327deb882cf99": "unsalted hex digest",
    "$argon2id$v=19$m=2097152,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA": "1 GiB",
    "$pbkdf2-sha256$20000000$c2FsdA$" + "a" * 43: "rounds 20000000",
    "$6$rounds=5000$salt$hash": "SHA-crypt",
    "plain-text-password": "not a recognised hash format",
}


def password_for(name: str) -> str:
    return f"Pw-{name}-ÄÖ-9"


# --------------------------------------------------------------------------- helpers

def run_import(api, url, rows: list[dict], header: list[str]) -> Job:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    with serve_files({"/moved.csv": out.getvalue().encode()}) as base:
        response = api.post(url("users/jobs/import"), {"absolute_url": f"{base}/moved.csv", "file_format": "csv"},
                            format="json")
        assert response.status_code == 200, response.content
        jobs.run_job(response.json()["_id"])
    return Job.objects.get(pk=response.json()["_id"])


def errors_of(job) -> dict:
    return {row: (reference, message) for row, reference, message in
            JobError.objects.filter(job=job).values_list("row_number", "reference", "message")}


def soft_mobile(platform_config):
    """Imported contacts are unverified: the store lets them sign in before verifying (level soft)."""
    platform_config(required_fields={"email": {"is_required": False, "level": "soft"},
                                     "mobile": {"is_required": True, "level": "soft"},
                                     "password": {"is_required": True}})


def login(storefront, username, password):
    storefront.client.cookies.clear()
    return storefront.post(LOGIN, {"username": username, "password": password})


# --------------------------------------------------------------------------- the import, then sign-in

def test_imported_hashes_of_every_format_sign_in_once_and_are_rehashed(api, url, application, storefront,
                                                                       platform_config):
    soft_mobile(platform_config)
    header = ["first_name", "email", "phone_number", "password_hash"]
    rows, made = [], {}
    for index, (name, make) in enumerate(MAKERS.items()):
        made[name] = make(password_for(name))
        rows.append({"first_name": name, "email": f"user{index}@example.com", "phone_number": f"98765{index:05d}",
                     "password_hash": made[name]})
    bad_start = len(rows) + 2  # the file's row numbers: the header is row 1
    for index, bad in enumerate(BAD_HASHES):
        rows.append({"first_name": "bad", "email": f"bad{index}@example.com", "phone_number": f"91234{index:05d}",
                     "password_hash": bad})
    job = run_import(api, url, rows, header)
    assert (job.status, job.success_count, job.error_count) == ("completed_with_errors", len(MAKERS), len(BAD_HASHES))

    # malformed hashes: in the error file with the reason, never with the value; nothing of the row written
    found = errors_of(job)
    for index, (bad, reason) in enumerate(BAD_HASHES.items()):
        reference, message = found[bad_start + index]
        assert reference == f"bad{index}@example.com"
        assert message.startswith("password_hash: ") and reason.lower() in message.lower(), message
        assert bad not in message
    assert not Customer.objects.filter(application=application, first_name="bad").exists()
    report = api.get(url(f"users/jobs/{job.pk}")).json()
    error_file = api.get(report["links"]["error"]["absolute_url"]).getvalue().decode()
    assert "cost 16" in error_file and "$2b$16$" not in error_file

    for index, name in enumerate(MAKERS):
        email, password = f"user{index}@example.com", password_for(name)
        customer = Customer.objects.get(application=application, emails__email=email)
        stored = Credential.objects.get(customer=customer).password
        assert stored == "legacy$" + made[name], name  # as given, with our marker
        assert customer.has_old_password_hash is True
        answer = api.get(url(f"customers/{customer.id}")).json()
        assert answer["user"]["has_old_password_hash"] is True and "password_hash" not in answer["user"]

        assert_error(login(storefront, email, password + "x"), 401, code="invalid_credentials")
        assert Credential.objects.get(customer=customer).password == stored  # a wrong one changes nothing
        signed_in = login(storefront, email, password)
        assert signed_in.status_code == 200, (name, signed_in.content)
        assert signed_in.json()["user"]["_id"] == customer.id and storefront.signed_in

        customer.refresh_from_db()
        rehashed = Credential.objects.get(customer=customer).password
        assert rehashed.startswith("argon2$argon2id$") and made[name] not in rehashed, name
        assert customer.has_old_password_hash is False
        assert api.get(url(f"customers/{customer.id}")).json()["user"]["has_old_password_hash"] is False
        assert login(storefront, email, password).status_code == 200  # now against our own hash
        assert_error(login(storefront, email, "Pw-wrong"), 401)


def test_a_customer_to_verify_first_is_still_rehashed_by_the_right_password(api, url, application, storefront):
    """The default config wants the mobile verified (level hard): the right password is told to verify it
    with a code (403), and the hash is ours from then on."""
    made = bcrypt_hash("Moved-pass-1")
    job = run_import(api, url, [{"email": "asha@example.com", "phone_number": "9876543210", "password_hash": made}],
                     ["email", "phone_number", "password_hash"])
    assert job.status == "completed"
    assert_error(login(storefront, "asha@example.com", "Moved-pass-1"), 403, "Verify your mobile")
    customer = Customer.objects.get(application=application)
    assert Credential.objects.get(customer=customer).password.startswith("argon2$")
    assert not customer.has_old_password_hash


def test_a_wrong_password_against_an_imported_hash_counts_for_the_lockout(api, url, application, storefront,
                                                                        platform_config):
    soft_mobile(platform_config)
    platform_config(account_lockout={"enable": True, "attempts": 2, "duration": 600})
    run_import(api, url, [{"email": "asha@example.com", "phone_number": "9876543210",
                           "password_hash": salted("sha256", "Moved-pass-1")}], ["email", "phone_number", "password_hash"])
    for _ in range(2):
        assert_error(login(storefront, "asha@example.com", "nope"), 401)
    assert_error(login(storefront, "asha@example.com", "Moved-pass-1"), 403, code="account_locked")
    assert Customer.objects.get(application=application).has_old_password_hash  # refused before any check


def test_an_import_updating_a_customer_replaces_the_password_and_keeps_the_history(api, url, application, storefront,
                                                                                 platform_config):
    soft_mobile(platform_config)
    customer = create_customer(application, {"phone_number": "9876543210", "email": "asha@example.com"}, ACTOR)
    Credential.objects.create(customer=customer, password=passwords.hash_password("Old-pass-1"),
                              password_changed_at=customer.created_at)
    old = Credential.objects.get(customer=customer).password
    made = salted("md5", "Moved-pass-1")
    header = ["email", "phone_number", "password_hash"]
    job = run_import(api, url, [{"email": "asha@example.com", "phone_number": "", "password_hash": made}], header)
    assert (job.status, job.success_count) == ("completed", 1)
    credential = Credential.objects.get(customer=customer)
    assert credential.password == "legacy$" + made and credential.previous_passwords == [old]
    customer.refresh_from_db()
    assert customer.has_old_password_hash and customer.version == 1
    event = AuditEvent.objects.filter(customer_id=customer.id, action="customer.updated").get()
    assert event.data["changed"] == {"password_hash": "set"} and made not in str(event.data)
    # the same file again: the same hash, nothing replaced
    run_import(api, url, [{"email": "asha@example.com", "phone_number": "", "password_hash": made}], header)
    assert Credential.objects.get(customer=customer).previous_passwords == [old]
    assert_error(login(storefront, "asha@example.com", "Old-pass-1"), 401)
    assert login(storefront, "asha@example.com", "Moved-pass-1").status_code == 200


# --------------------------------------------------------------------------- social identities

def test_identity_columns_link_social_identities_and_a_clash_is_a_row_error(api, url, application):
    other = create_customer(application, {"phone_number": "9876500000", "email": "other@example.com"}, ACTOR)
    LinkedIdentity.objects.create(customer=other, application=application, provider="google", subject="g-taken")
    header = ["email", "phone_number", "google_id", "facebook_id", "apple_id"]
    job = run_import(api, url, [
        {"email": "asha@example.com", "phone_number": "9876543210", "google_id": "g-1", "facebook_id": "f-1",
         "apple_id": "001234.abcd.5678"},
        {"email": "ravi@example.com", "phone_number": "9876543211", "google_id": "g-1"},  # the row above has it
        {"email": "neha@example.com", "phone_number": "9876543212", "google_id": "g-taken"},  # another customer's
        {"email": "other@example.com", "phone_number": "", "google_id": "g-taken", "apple_id": "a-2"},  # its own
        {"email": "long@example.com", "phone_number": "9876543213", "facebook_id": "x" * 256},
    ], header)
    assert (job.status, job.success_count, job.error_count) == ("completed_with_errors", 2, 3)
    found = errors_of(job)
    assert "google_id: this google identity is already linked to another customer" in found[3][1]
    assert "google_id" in found[4][1] and other.id in found[4][1]
    assert "facebook_id: must be at most 255" in found[6][1]
    asha = Customer.objects.get(application=application, emails__email="asha@example.com")
    assert sorted(LinkedIdentity.objects.filter(customer=asha).values_list("provider", "subject")) == [
        ("apple", "001234.abcd.5678"), ("facebook", "f-1"), ("google", "g-1")]
    assert sorted(LinkedIdentity.objects.filter(customer=other).values_list("provider", "subject")) == [
        ("apple", "a-2"), ("google", "g-taken")]
    assert not Customer.objects.filter(emails__email__in=["ravi@example.com", "neha@example.com"]).exists()
    event = AuditEvent.objects.filter(customer_id=other.id, action="customer.updated").get()
    assert event.data["changed"] == {"identities_linked": ["apple"]}


# --------------------------------------------------------------------------- the export

def test_an_export_of_moved_customers_holds_no_hash(api, url, application):
    made = {name: MAKERS[name](password_for(name)) for name in ("bcrypt-2b", "argon2id", "sha1")}
    job = run_import(api, url, [{"email": f"user{i}@example.com", "phone_number": f"98765{i:05d}",
                                 "password_hash": made[name], "google_id": f"g-{i}"}
                                for i, name in enumerate(made)], ["email", "phone_number", "password_hash", "google_id"])
    assert job.status == "completed"
    response = api.post(url("users/jobs/export"), {"file_format": "csv"}, format="json")
    jobs.run_job(response.json()["_id"])
    report = api.get(url(f"users/jobs/{response.json()['_id']}")).json()
    content = b"".join(api.get(report["links"]["file"]["absolute_url"]).streaming_content).decode()
    header, *lines = list(csv.reader(io.StringIO(content)))
    assert len(lines) == 3 and not any("password" in column or "hash" in column for column in header)
    assert "legacy$" not in content and "$2b$" not in content and "argon2" not in content
    for value in made.values():
        assert value not in content and value.split("$")[-1] not in content


# --------------------------------------------------------------------------- createUser / updateUser

def test_create_and_update_user_accept_a_password_hash_and_never_return_it(api, url, application, storefront,
                                                                          platform_config):
    soft_mobile(platform_config)
    made = bcrypt_hash("Moved-pass-1")
    created = api.post(url("customers"), {"phone_number": "9876543210", "email": "asha@example.com",
                                          "password_hash": made}, format="json")
    assert created.status_code == 200, created.content
    user = created.json()["user"]
    assert user["has_old_password_hash"] is True and "password_hash" not in user and made not in created.content.decode()
    assert Credential.objects.get(customer_id=user["_id"]).password == "legacy$" + made
    event = AuditEvent.objects.get(customer_id=user["_id"], action="customer.created")
    assert event.data["password_hash"] == "set" and made not in str(event.data)

    assert_error(api.post(url("customers"), {"phone_number": "9876543211", "password_hash": "$2b$10$short"},
                          format="json"), 400, "password_hash", "malformed bcrypt")
    assert_error(api.post(url("customers"), {"phone_number": "9876543211", "password_hash": 12},
                          format="json"), 400, "password_hash")
    assert not Customer.objects.filter(phones__e164="+919876543211").exists()

    assert login(storefront, "asha@example.com", "Moved-pass-1").status_code == 200
    assert api.get(url(f"customers/{user['_id']}")).json()["user"]["has_old_password_hash"] is False

    newer = argon2.PasswordHasher(time_cost=1, memory_cost=8192).hash("Second-pass-2")
    updated = api.put(url(f"customers/{user['_id']}"), {"first_name": "Asha", "password_hash": newer}, format="json")
    assert updated.status_code == 200, updated.content
    assert updated.json()["user"]["has_old_password_hash"] is True and newer not in updated.content.decode()
    credential = Credential.objects.get(customer_id=user["_id"])
    assert credential.password == "legacy$" + newer and credential.previous_passwords[0].startswith("argon2$")
    assert_error(api.put(url(f"customers/{user['_id']}"), {"password_hash": "md5$$" + "0" * 32}, format="json"),
                 400, "unsalted")
    assert_error(login(storefront, "asha@example.com", "Moved-pass-1"), 401)
    assert login(storefront, "asha@example.com", "Second-pass-2").status_code == 200


def test_update_password_checks_the_old_password_against_an_imported_hash(api, url, application, storefront,
                                                                          platform_config):
    soft_mobile(platform_config)
    made = werkzeug_pbkdf2("Moved-pass-1")
    customer = create_customer(application, {"phone_number": "9876543210", "email": "asha@example.com",
                                             "password_hash": made}, ACTOR)
    assert login(storefront, "asha@example.com", "Moved-pass-1").status_code == 200
    Credential.objects.filter(customer=customer).update(password="legacy$" + made)  # as if still waiting
    Customer.objects.filter(pk=customer.pk).update(has_old_password_hash=True)
    bad = storefront.post("authentication/v1.0/password", {"old_password": "nope", "new_password": "New-pass-77"})
    assert bad.status_code == 401
    changed = storefront.post("authentication/v1.0/password", {"old_password": "Moved-pass-1",
                                                              "new_password": "New-pass-77"})
    assert changed.status_code == 200, changed.content
    customer.refresh_from_db()
    assert not customer.has_old_password_hash
    assert Credential.objects.get(customer=customer).password.startswith("argon2$")
    assert login(storefront, "asha@example.com", "New-pass-77").status_code == 200


# --------------------------------------------------------------------------- the recogniser itself

@pytest.mark.parametrize("name", list(MAKERS))
def test_each_format_is_recognised_and_verified_in_its_own_terms(name):
    made = MAKERS[name](password_for(name))
    assert legacy_hashes.recognise(made).scheme
    assert legacy_hashes.verify(password_for(name), made) is True
    assert legacy_hashes.verify(password_for(name)[:-1], made) is False
    assert legacy_hashes.verify("", made) is False


def test_bcrypt_uses_the_first_72_bytes_as_bcrypt_does():
    long_password = "é" * 40  # 80 bytes in UTF-8
    made = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(4)).decode()
    assert legacy_hashes.verify(long_password, made) is True


@pytest.mark.parametrize("bad,reason", list(BAD_HASHES.items()) + [
    ("", "non-empty"),
    ("x" * 300, "at most 249"),
    ("$argon2d$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", "Argon2d"),
    ("scrypt$1048576$salt$8$1$" + "A" * 86, "32 MiB"),
    ("pbkdf2:sha256:1000$salt$abcd", "64 hex digits"),
    ("sha256$salt$" + "0" * 63, "64 hex digits"),
    ("md5$salt with space$" + "0" * 32, "without spaces"),
])
def test_malformed_or_too_costly_hashes_are_refused_with_a_reason(bad, reason):
    with pytest.raises(legacy_hashes.Unrecognised) as caught:
        legacy_hashes.recognise(bad)
    assert reason.lower() in caught.value.reason.lower()
    assert bad not in caught.value.reason or not bad


def test_a_purged_customer_takes_its_moved_in_hash_and_identities_along(application):
    """Credentials have no database constraint of their own (an import writes a million): deleting the
    customer through the services still deletes them."""
    from datetime import timedelta

    from django.utils import timezone

    from users import services

    hashed = bcrypt.hashpw(b"Moved-in-1", bcrypt.gensalt(rounds=4)).decode()
    customer = create_customer(application, {"phone_number": "9876500001", "password_hash": hashed}, ACTOR)
    kept = create_customer(application, {"phone_number": "9876500002", "password_hash": hashed}, ACTOR)
    assert Credential.objects.filter(customer_id__in=[customer.id, kept.id]).count() == 2
    services.archive_customer(application, customer.id, ACTOR, reason="test")
    Customer.objects.filter(id=customer.id).update(restore_until=timezone.now() - timedelta(seconds=1))
    assert services.purge_archived_customers() == 1
    assert list(Credential.objects.values_list("customer_id", flat=True)) == [kept.id]
