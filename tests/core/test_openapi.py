"""/openapi.json tells the truth: Schemathesis sends every platform and storefront operation generated requests (valid
and invalid ones, derived from the document itself) over HTTP to the live server and checks each answer
against the document: no 5xx, every status documented, every body as documented (objects closed: no key the
document does not describe), and invalid requests refused."""

import base64
import collections
import json
import urllib.request

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from core.ids import OBJECT_ID_RE
from core.tenancy import services as core_services
from core.tenancy.models import ALL_SCOPES
from tests.helpers import APP_ID, COMPANY_ID, assert_error, platform_path

CHECKS = [checks.not_a_server_error, checks.response_schema_conformance, checks.status_code_conformance,
          checks.negative_data_rejection]
EXAMPLES = 20  # per operation and mode, derandomized, no shrinking: about 45 s for all of them on 2 cores
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                         print_blob=False)


def closed(node):
    """A schema with every described object closed (additionalProperties: false) unless it says otherwise."""
    if isinstance(node, list):
        return [closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: closed(value) for key, value in node.items()}
    if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


def with_closed_answers(document: dict) -> dict:
    """The document with the answers' components closed, so that an answer carrying a key the document does
    not describe fails the check. Request components (*Request) stay as declared: most bodies ignore unknown keys,
    those that refuse them say ``additionalProperties: false`` themselves."""
    schemas = document["components"]["schemas"]
    closed_schemas = {name: schema if name.endswith("Request") else closed(schema) for name, schema in schemas.items()}
    return {**document, "components": {**document["components"], "schemas": closed_schemas}}


def spelled_as_text(case, operation) -> bool:
    """A "wrong type" for a text query parameter (the number 0 for a string or a list of strings) is, once in
    the URL, the text "0": a valid value, not the invalid request Schemathesis meant to send."""
    textual = {parameter.name for parameter in operation.query
               if parameter.definition.get("schema", {}).get("type") in ("string", "array")}
    return any(name in textual and not isinstance(value, (str, list)) for name, value in (case.query or {}).items())


def fuzz(operation, mode, path_parameters: dict, fixed_paths: set, statuses: set | None = None,
         **credentials) -> str | None:
    """Run one operation in one mode; the first failure as text, or None. A generated id that spells another
    operation's path (customers/{user_id} as customers/search) reaches that operation: such cases are left out.
    ``statuses`` collects the status codes answered; ``credentials`` (headers, cookies) replace the platform's."""
    path_parameters = {name: value for name, value in path_parameters.items() if f"{{{name}}}" in operation.path}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
    if operation.path.count("{") > len(path_parameters):  # some path parameters are generated
        strategy = strategy.filter(lambda case: case.formatted_path not in fixed_paths)
    if mode is GenerationMode.NEGATIVE:
        strategy = strategy.filter(lambda case: not spelled_as_text(case, operation))

    @FUZZ_SETTINGS
    @given(strategy)
    def run(case):
        response = case.call_and_validate(checks=CHECKS, **credentials)
        if statuses is not None:
            statuses.add(response.status_code)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE:  # nothing to make invalid (e.g. only fixed path parameters)
            return None
        return f"{operation.label} [{mode.value}]: no request could be generated"
    except (AssertionError, BaseExceptionGroup) as exc:  # a check's failure (or several)
        return f"{operation.label} [{mode.value}]: {exc}"
    return None


def existing_records(base: str, token: str) -> dict:
    """A customer with a session and an attribute value, a definition, a group and a job, made through the API:
    their ids fill the path parameters of a second round, so that requests reach past the lookups (and the
    session's cookie, for the storefront)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def call(method, suffix, body):
        response = session.request(method, base + suffix, json=body, timeout=30)
        assert response.status_code in (200, 201), (suffix, response.status_code, response.text[:300])
        return response.json()

    user = call("POST", "customers", {"phone_number": "9876543210", "email": "fuzz@example.com"})["user"]
    definition = call("POST", "user_attribute/definition", {"name": "Points", "type": "number"})
    attribute = call("PUT", f"user_attribute/definition/{definition['_id']}/user/{user['_id']}",
                     {"attribute": {"value": 60}})
    group = call("POST", "user_group", {"name": "High points", "description": "points >= 50", "type": "conditional",
                                        "conditions": [{"user_attribute_definition_id": definition["_id"],
                                                        "type": "gte", "value": 50}]})
    job = call("POST", "users/jobs/export", {"file_format": "csv"})
    session = call("POST", "customers/session", {"user_id": user["_id"], "domain": "shop.example.com"})
    return {"user_id": user["_id"], "attribute_def_id": definition["_id"], "attribute_id": attribute["_id"],
            "group_id": group["_id"], "job_id": job["_id"], "session_cookie": session["cookie"]["f.session"]}


@pytest.fixture
def api_schema(live_server, transactional_db):
    application, storefront_token = core_services.create_application(company_id=COMPANY_ID, name="Fuzzed Store",
                                                                     application_id=APP_ID)
    client, _secret = core_services.create_api_client(company_id=COMPANY_ID, name="fuzzer", scopes=list(ALL_SCOPES))
    token = core_services.issue_token(client).access_token
    with urllib.request.urlopen(f"{live_server.url}/openapi.json") as response:
        document = json.load(response)
    config = SchemathesisConfig.from_dict({
        "base-url": live_server.url,
        "headers": {"Authorization": f"Bearer {token}"},
    })
    schema = schemathesis.openapi.from_dict(with_closed_answers(document), config=config)
    schema.tenant = {"company_id": COMPANY_ID, "application_id": application.id}
    schema.existing = existing_records(live_server.url + platform_path(COMPANY_ID, application.id), token)
    schema.storefront = {  # as the SDK's ApplicationClient sends them (sessions_app.storefront)
        "headers": {"Authorization": "Bearer " + base64.b64encode(f"{application.id}:{storefront_token}".encode())
                    .decode()},
        "cookies": {"f.session": schema.existing.pop("session_cookie")},
    }
    return schema


def test_every_platform_operation_answers_as_documented(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    platform = [op for op in operations if op.path.startswith("/service/platform/")]
    assert len(platform) > 40
    platform.sort(key=lambda op: op.method.upper() == "DELETE")  # deletions last: the records stay for the rest
    tenant, existing = api_schema.tenant, {**api_schema.tenant, **api_schema.existing}
    fixed_paths = {op.path.format(**tenant) for op in platform if op.path.count("{") == len(tenant)}
    failures = []
    for operation in platform:
        for mode in GenerationMode:
            failures.append(fuzz(operation, mode, tenant, fixed_paths))
        if any(f"{{{name}}}" in operation.path for name in api_schema.existing):
            failures.append(fuzz(operation, GenerationMode.POSITIVE, existing, fixed_paths))
    failures = [failure for failure in failures if failure]
    assert not failures, "\n\n".join(failures)


def test_every_storefront_operation_answers_as_documented(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    storefront = [op for op in operations if op.path.startswith("/service/application/")]
    assert len(storefront) == 47  # 41 + loginWithToken + the five social sign-ins
    storefront.sort(key=lambda op: op.path.endswith("/logout"))  # the session ends last
    statuses: set[int] = set()
    failures = []
    for operation in storefront:
        failures.append(fuzz(operation, GenerationMode.POSITIVE, {}, set(), statuses, **api_schema.storefront))
        # Invalid requests keep the application's credentials but not the session: they leave out (or spoil)
        # the f.session cookie, which the test must not put back.
        failures.append(fuzz(operation, GenerationMode.NEGATIVE, {}, set(), headers=api_schema.storefront["headers"]))
    failures = [failure for failure in failures if failure]
    assert not failures, "\n\n".join(failures)
    assert 200 in statuses, statuses  # the credentials reached past the authentication


def test_every_answer_is_described_exactly(client, db):
    """No operation answers a bare object or an undocumented error: each body is a component, and every
    platform operation documents the errors of its URL (token, company / scope, application)."""
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for status, answer in operation["responses"].items():
                schema = answer["content"]["application/json"]["schema"]
                assert set(schema) == {"$ref"}, (where, status, schema)
                if not status.startswith("2"):
                    assert schema["$ref"].endswith(("/Error", "/Unauthorized")), (where, status)
            if path.startswith("/service/platform/"):
                assert {"401", "403", "404"} <= set(operation["responses"]), where
            assert "Retry-After" in operation["responses"]["503"]["headers"], where  # the database or Redis away
    customers = document["paths"]["/service/platform/user/v1.0/company/{company_id}/application/{application_id}/"
                                  "customers/list"]["get"]["responses"]["200"]
    assert customers["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CustomerListResponseSchema"}
    assert document["components"]["schemas"]["CustomerListResponseSchema"]["type"] == "object"


def test_every_platform_operation_refuses_a_malformed_application_id_alike(client, api):
    """The document gives application_id the 24-hex pattern of every platform path: each operation refuses any
    other value the same way (a 400, before it reads anything)."""
    document = client.get("/openapi.json").json()
    other_ids = collections.defaultdict(lambda: "0" * 24, company_id=COMPANY_ID, application_id="Not-An-Id")
    checked = 0
    for path, operations in document["paths"].items():
        if not path.startswith("/service/platform/"):
            continue
        for method, operation in operations.items():
            application_id = next(p for p in operation["parameters"] if p["name"] == "application_id")
            assert application_id["schema"]["pattern"] == OBJECT_ID_RE.pattern, (method, path)
            response = api.generic(method.upper(), path.format_map(other_ids), "{}", "application/json")
            assert_error(response, 400, "application_id must be 24 lowercase hexadecimal characters, got "
                                        "'Not-An-Id'.")
            checked += 1
    assert checked > 40
