"""The issue 13 parts of `make bench` that run without load: the stand-in Google JWKS and its tokens (checked by
PyJWT and by the service itself), the social sign-in scenario's seed and requests against the real storefront
API, the import file with bcrypt hashes (accepted by the import's own row check), and the registered targets."""

import csv
import json
import time
import urllib.request

import bcrypt
import jwt
import pytest
from rest_framework.test import APIClient

from accounts import keyspace, legacy_hashes
from accounts.social import jwks, providers
from bench import __main__ as bench_main
from bench import job_scenarios, report, social, transfers, verdicts
from bench.verdicts import JOB, RatioTarget
from core.actors import Actor
from users import services as customer_services
from users.models import LinkedIdentity
from users.transfers import rows as row_rules


@pytest.fixture
def stand_in():
    with social.JwksStandIn() as server:
        yield server


@pytest.fixture
def google_settings(settings, stand_in):
    settings.GOOGLE_JWKS_URL = stand_in.url
    settings.SOCIAL_ALLOWED_HOSTS = ["127.0.0.1"]
    yield settings
    client = keyspace.connection()
    for key in client.scan_iter(match=keyspace.key("jwks*"), count=1000):
        client.delete(key)


def fetch(url):
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.status, dict(answer.headers), json.loads(answer.read())


# ----------------------------------------------------------------------------- the stand-in Google

def test_the_stand_in_serves_one_rsa_key_as_a_jwks_cached_for_an_hour(stand_in):
    assert stand_in.url.startswith("http://127.0.0.1:") and stand_in.url.endswith(social.JWKS_PATH)
    status, headers, body = fetch(stand_in.url)
    assert status == 200 and headers["Cache-Control"] == "public, max-age=3600"
    (key,) = body["keys"]
    assert (key["kty"], key["kid"], key["alg"], key["use"]) == ("RSA", social.KID, "RS256", "sig")
    assert "d" not in key and "p" not in key  # the public half only
    assert stand_in.hits == 1
    assert jwks.lifetime(headers["Cache-Control"]) == 3600  # the service keeps it that long
    assert stand_in.server_env() == {"GOOGLE_JWKS_URL": stand_in.url, "SOCIAL_ALLOWED_HOSTS": "127.0.0.1"}


def test_pyjwt_verifies_the_tokens_with_the_published_key(stand_in):
    _, _, body = fetch(stand_in.url)
    public = jwt.PyJWKSet.from_dict(body)[social.KID].key
    token = stand_in.id_token("bench-google-7", "asha.rao7@gmail.com")
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": social.KID, "typ": "JWT"}
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=social.CLIENT_ID, issuer=social.ISSUER)
    assert (claims["sub"], claims["email"], claims["email_verified"]) == ("bench-google-7", "asha.rao7@gmail.com", True)
    assert claims["exp"] - time.time() == pytest.approx(3 * 3600, abs=30)
    assert claims["iat"] <= time.time()
    other = social.JwksStandIn()  # another key (not started): its tokens do not verify with this JWKS
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(other.id_token("bench-google-7", "a@b.co"), public, algorithms=["RS256"], audience=social.CLIENT_ID)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(stand_in.id_token("s", "a@b.co", now=int(time.time()) - 4 * 3600), public, algorithms=["RS256"],
                   audience=social.CLIENT_ID)


def test_the_service_accepts_the_tokens_and_fetches_the_keys_once(google_settings, stand_in):
    config = {"social": {"google": True}, "social_tokens": {"google": {"app_id": social.CLIENT_ID}}}
    for n in range(3):
        identity = providers.verify("google", {"oauth2": {"access_token": stand_in.id_token(f"bench-google-{n}",
                                                                                             f"c{n}@example.com")}},
                                    config)
        assert (identity.subject, identity.email, identity.email_verified) == (f"bench-google-{n}", f"c{n}@example.com",
                                                                               True)
    assert stand_in.hits == 1  # cached in Redis after the first: what the scenario measures


# ----------------------------------------------------------------------------- the social_login scenario

def customers(application, count):
    actor = Actor.system("test")
    return [customer_services.register_customer(application, profile={"first_name": f"C{n}"},
                                                email=f"bench{n}@example.com", phone=None, actor=actor).id
            for n in range(count)]


def test_seed_links_the_newest_customers_once_and_keeps_the_lockout_policy(application):
    from django.db import connection

    from sessions_app.platform_config import get_platform_config, update_platform_config

    update_platform_config(application, {"account_lockout": {"enable": True, "attempts": 5, "duration": 60}})
    ids = customers(application, 4)
    connection.ensure_connection()
    logged = []
    sample = social.seed(connection.connection, application.id, logged.append, customers=3)
    newest = sorted(ids, reverse=True)[:3]
    assert [customer_id for customer_id, _ in sample] == newest
    rows = sorted(LinkedIdentity.objects.filter(application=application).values_list("subject", "customer_id", "email",
                                                                                     "provider"))
    assert rows == sorted((f"bench-google-{i}", c, e, "google") for i, (c, e) in enumerate(sample))
    assert len(logged) == 1
    assert social.seed(connection.connection, application.id, logged.append, customers=3) == sample
    assert len(logged) == 1  # already linked: nothing written again
    document = get_platform_config(application).document
    assert document["social"]["google"] is True
    assert document["social_tokens"]["google"]["app_id"] == social.CLIENT_ID
    assert document["account_lockout"] == {"enable": True, "attempts": 5, "duration": 60}
    with pytest.raises(RuntimeError, match="only 4 live customers"):
        social.seed(connection.connection, application.id, logged.append, customers=5)


def test_the_scenarios_requests_sign_the_linked_customers_in(application, google_settings, stand_in,
                                                              django_capture_on_commit_callbacks):
    from django.db import connection

    customers(application, 3)
    connection.ensure_connection()
    sample = social.seed(connection.connection, application.id, lambda _: None, customers=3)
    (scenario,) = social.scenarios(application.id, application.storefront_token, sample, stand_in)
    assert (scenario.key, scenario.target_p95_ratio, scenario.expected_status) == ("social_login", 3, 200)
    assert len(scenario.requests) == 3 and scenario.refresh is not None
    assert len({dict(r.headers)["X-Forwarded-For"] for r in scenario.requests}) == 3  # another client each
    assert scenario.refresh() is scenario.requests  # tokens are made again only when old
    client = APIClient()
    for index, request in enumerate(scenario.requests):
        assert request.method == "POST"
        assert request.path == "/service/application/user/authentication/v1.0/login/google-token"
        assert json.loads(request.body)["oauth2"]["access_token"].count(".") == 2
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(request.path, request.body, content_type="application/json",
                                   HTTP_AUTHORIZATION=scenario.authorization, **{
                                       "HTTP_X_FORWARDED_FOR": dict(request.headers)["X-Forwarded-For"]})
        assert response.status_code == 200, response.content
        assert scenario.check(response.json(), index) is None
        assert scenario.check(response.json(), (index + 1) % 3) is not None  # another customer's answer is wrong
    assert stand_in.hits == 1


# ----------------------------------------------------------------------------- import_csv_hashes

def test_bcrypt_hashes_are_real_cost_10_2b_hashes_the_import_recognises():
    hashes = transfers.bcrypt_hashes(3)
    assert len(set(hashes)) == 3
    for k, value in enumerate(hashes):
        assert value.startswith("$2b$10$") and len(value) == 60
        assert bcrypt.checkpw(transfers.BCRYPT_PASSWORD.format(k).encode(), value.encode())
        assert legacy_hashes.recognise(value).scheme == "bcrypt"


def test_the_file_with_hashes_is_the_import_file_plus_a_valid_password_hash_column(tmp_path):
    hashes = transfers.bcrypt_hashes(4, cost=4)  # cheap here; the bench's are cost 10
    plain = transfers.write_import_csv(tmp_path / "plain.csv", 50)
    hashed = transfers.write_import_csv_with_hashes(tmp_path / "hashed.csv", 50, hashes=hashes)
    assert not list(tmp_path.glob("*.partial"))
    with plain.open(newline="") as a, hashed.open(newline="") as b:
        plain_rows, hashed_rows = list(csv.reader(a)), list(csv.reader(b))
    assert hashed_rows[0] == [*transfers.IMPORT_HEADER, "password_hash"]
    assert [row[:-1] for row in hashed_rows] == plain_rows  # the same customers, in the same order
    header = row_rules.read_header(hashed_rows[0], {}, [])
    assert header.hooked == {"password_hash": "password_hash"}
    for number, cells in enumerate(hashed_rows[1:], start=2):
        parsed = row_rules.parse_row(number, dict(zip(hashed_rows[0], cells)), header)
        assert parsed.hooked == {"password_hash": hashes[(number - 2) % 4]}


def test_drop_customers_takes_the_moved_in_hashes_and_identities_with_them(application, other_application):
    from django.db import connection

    from accounts.models import Credential
    from users.models import Customer

    ids = customers(application, 2)
    kept = customers(other_application, 1)
    moved_in = legacy_hashes.stored(transfers.bcrypt_hashes(1, 4)[0])
    for customer_id in ids + kept:
        Credential.objects.create(customer_id=customer_id, password=moved_in, password_changed_at="2026-01-01T00:00:00Z")
    customer_services.link_identity(application, ids[0], provider="google", subject="g-1", email="",
                                    actor=Actor.system("test"))
    transfers.drop_customers(application)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys checked now, as a commit would
    assert not Customer.objects.filter(application=application).exists()
    assert not LinkedIdentity.objects.filter(application=application).exists()
    assert list(Credential.objects.values_list("customer_id", flat=True)) == kept


# ----------------------------------------------------------------------------- targets

def test_the_issue_13_targets_are_registered():
    assert job_scenarios.TARGETS["import_csv_hashes"] == [RatioTarget(JOB + "import_csv", 1.1)]
    assert "import_csv_hashes" in job_scenarios.SCENARIOS and "import_csv_hashes" in bench_main.JOB_SCENARIOS
    assert "social_login" in bench_main.HTTP_SCENARIOS and social.TARGET_RATIO == 3
    assert bench_main.parse_args(["--only", "import_csv_hashes"]).only == ["import_csv_hashes"]
    assert bench_main.wanted_scenarios(["import_csv_hashes"]) == {"import_csv_hashes", "import_csv"}
    assert bench_main.wanted_scenarios(["social_login"]) == {"social_login", "whoami"}
    assert {"import_csv_hashes", "social_login"} <= bench_main.wanted_scenarios([])


def test_the_import_with_hashes_is_judged_beside_the_plain_import_of_the_run():
    def row(key, seconds):
        return report.JobRow(key, "op", "what", 1_000_000, seconds, 120, 150, references=[],
                             targets=list(job_scenarios.TARGETS.get(key, [])) if key == "import_csv_hashes" else [])

    plain, fast, slow = row("import_csv", 100.0), row("import_csv_hashes", 109.0), row("import_csv_hashes", 112.0)
    verdicts.judge_jobs([plain, fast])
    verdicts.judge_jobs([plain, slow])
    assert fast.judged[0].ratio == pytest.approx(1.09) and fast.passed
    assert slow.judged[0].ratio == pytest.approx(1.12) and not slow.passed
    alone = row("import_csv_hashes", 50.0)
    verdicts.judge_jobs([alone])
    assert alone.judged[0].passed is None  # import_csv not measured: shown, not judged


def test_the_imports_beside_import_csv_are_judged_by_the_means_of_their_interleaved_runs():
    def run(seconds, peak=120, delivered=1):
        return {"status": "completed", "seconds": seconds, "peak_rss_mb": peak, "bytes": 132 * 2**20,
                "delivered": delivered}

    plain = job_scenarios.job_row("import_csv", "op", "what", 1_000_000,
                                  job_scenarios._mean_of([run(113.6), run(130.0), run(118.4, peak=131)]), [], [])
    assert plain.seconds == pytest.approx(120.67, abs=0.01) and plain.peak_mb == 131
    hashes = job_scenarios.hashes_row([run(139.1), run(118.0)], 1_000_000)  # one slow run alone: 1.15x
    # the subscribed import is judged beside the same import without the subscription, taken in turn with it
    # (the worker and beat running in both); beside import_csv only reported
    webhook = job_scenarios.subscription_row([run(142.8), run(121.0)], [run(125.0), run(124.0)], 1_000_000)
    verdicts.judge_jobs([plain, hashes, webhook])
    assert hashes.judged[0].ratio == pytest.approx(128.55 / 120.67, rel=1e-3) and hashes.passed
    assert webhook.judged[0].ratio == pytest.approx(131.9 / 124.5, rel=1e-3) and not webhook.passed
    assert webhook.judged[1].ratio == pytest.approx(131.9 / 120.67, rel=1e-3) and webhook.judged[1].passed is None
    assert "139.1, 118.0 s" in hashes.description and "125.0, 124.0 s" in webhook.references[0].description
    cheap = job_scenarios.subscription_row([run(128.0), run(127.0)], [run(125.0), run(124.0)], 1_000_000)
    verdicts.judge_jobs([plain, cheap])
    assert cheap.judged[0].ratio == pytest.approx(127.5 / 124.5, rel=1e-3) and cheap.passed
    flooded = job_scenarios.subscription_row([run(121.0), run(121.0, delivered=310_551)], [run(121.0)], 1_000_000)
    verdicts.judge_jobs([plain, flooded])
    assert not flooded.passed and "310,551 events delivered" in flooded.description
