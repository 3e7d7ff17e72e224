"""Customer groups API: createUserGroup, getUserGroups, getUserGroupById, updateUserGroup (PUT),
updateUserGroupPartially (PATCH) and the users of a group; bulk groups from CSV files and JSON, conditional
groups from attribute conditions, whitelists and blacklists, errors. Jobs run in-process here
(jobs.run_job); tests/groups/test_worker.py runs them on real Celery workers."""

import pytest
from django.test import override_settings

from attributes import services as attribute_services
from core import jobs
from core.actors import Actor
from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_SETTINGS_WRITE
from core.jobs.models import Job, JobError
from groups.models import GroupMemberCount, Membership, UserGroup
from tests.file_server import serve_files
from tests.helpers import assert_error

ACTOR = Actor.system("tests")
UNKNOWN = "0123456789abcdef01234567"


pytestmark = pytest.mark.usefixtures("local_file_urls")  # FILE_URL_ALLOWED_HOSTS = ["localhost"]


@pytest.fixture
def people(create_customer):
    """Six customers: p0 … p5, with emails p<n>@example.com and phones 98765000<n>0."""
    return [create_customer(first_name=f"p{n}", email=f"p{n}@example.com", phone_number=f"98765000{n}0")
            for n in range(6)]


def ids(people, *indexes):
    return [people[i]["_id"] for i in indexes]


def members(api, url, group, **params):
    response = api.get(url(f"user_group/{group['_id']}/users"), {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return response.json()


def member_ids(api, url, group) -> set:
    return {u["_id"] for u in members(api, url, group)["items"]}


def run_jobs():
    """Run every pending job in this process, as a worker would."""
    for job_id in Job.objects.filter(status=Job.PENDING).order_by("created_at").values_list("id", flat=True):
        jobs.run_job(job_id)


def create(api, url, status=201, **body):
    body = {"name": "VIP", "description": "Very important", **body}
    response = api.post(url("user_group"), body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def get(api, url, group):
    response = api.get(url(f"user_group/{group['_id']}"))
    assert response.status_code == 200, response.content
    return response.json()


def csv_of(*lines) -> bytes:
    return ("\n".join(lines) + "\n").encode()


# --------------------------------------------------------------------------- bulk groups from a file


def test_a_file_group_is_pending_then_active_with_its_members(api, url, people):
    rows = csv_of("user_id,email,phone_number", f"{people[0]['_id']},,", ",P1@Example.com,", ",,9876500020",
                  ",,+91 98765 00030", ",,919876500040")
    with serve_files({"/vip.csv": rows}) as base:
        group = create(api, url, file_url=f"{base}/vip.csv")
        assert (group["status"], group["type"], group["uid"], group["__v"]) == ("pending", "bulk", 1, 0)
        assert group["file_url"] == f"{base}/vip.csv" and group["progress"]["status"] == "pending"
        assert member_ids(api, url, group) == set()
        run_jobs()
    done = get(api, url, group)
    assert done["status"] == "active", done
    assert done["error"] == {"count": 0, "file_url": "", "message": ""}
    assert done["progress"]["percent"] == 100 and done["progress"]["success"] == 5
    listed = members(api, url, group)
    assert {u["_id"] for u in listed["items"]} == set(ids(people, 0, 1, 2, 3, 4))
    assert listed["page"] == {"type": "number", "current": 1, "size": 100, "item_total": 5, "has_next": False}
    assert [u["first_name"] for u in listed["items"]] == ["p4", "p3", "p2", "p1", "p0"]  # newest first
    assert GroupMemberCount.objects.get(group_id=group["_id"]).members == 5


def test_rows_naming_no_customer_are_counted_and_listed_in_the_error_file(api, url, people, client):
    rows = csv_of("email,phone_number,user_id", "p0@example.com,,", "nobody@example.com,,", ",,not-an-id",
                  f",,{UNKNOWN}", ",12345,", "no-at-sign,,", ",,", "p1@example.com,,")
    with serve_files({"/g.csv": rows}) as base:
        group = create(api, url, file_url=f"{base}/g.csv")
        run_jobs()
    done = get(api, url, group)
    assert done["status"] == "active" and done["error"]["count"] == 5, done
    assert member_ids(api, url, group) == set(ids(people, 0, 1))
    report = client.get(done["error"]["file_url"])
    assert report.status_code == 200
    text = b"".join(report.streaming_content).decode()
    assert text.splitlines() == [
        "row,reference,error",
        "3,nobody@example.com,no customer of the application has this email",
        "4,not-an-id,user_id must be 24 hexadecimal characters",
        f"5,{UNKNOWN},no customer of the application has this user_id",
        "6,12345,no customer of the application has this phone_number",
        "7,no-at-sign,email is not an email address",
    ]  # the blank row 8 is skipped, as a spreadsheet would
    job = Job.objects.get(pk=done["progress"]["job_id"])
    assert (job.kind, job.status, job.total, job.processed, job.success_count, job.error_count) == (
        "group_file", "completed_with_errors", 7, 7, 2, 5)


def test_the_same_file_twice_changes_nothing_and_a_new_file_replaces_the_membership(api, url, people):
    first = csv_of("user_id", *ids(people, 0, 1, 2))
    second = csv_of("email", "p2@example.com", "p3@example.com", "P3@EXAMPLE.COM")
    with serve_files({"/a.csv": first, "/b.csv": second}) as base:
        group = create(api, url, file_url=f"{base}/a.csv")
        run_jobs()
        before = set(Membership.objects.filter(group_id=group["_id"]).values_list("customer_id", flat=True))
        again = api.put(url(f"user_group/{group['_id']}"), {"file_url": f"{base}/a.csv"}, format="json").json()
        assert again["status"] == "pending" and again["__v"] == 1
        run_jobs()
        assert set(Membership.objects.filter(group_id=group["_id"]).values_list("customer_id", flat=True)) == before
        assert member_ids(api, url, group) == set(ids(people, 0, 1, 2))
        replaced = api.put(url(f"user_group/{group['_id']}"), {"file_url": f"{base}/b.csv", "name": "Gold"},
                           format="json").json()
        assert (replaced["name"], replaced["__v"], replaced["file_url"]) == ("Gold", 2, f"{base}/b.csv")
        # while the new file waits, the group keeps serving its previous membership
        assert member_ids(api, url, group) == set(ids(people, 0, 1, 2))
        run_jobs()
    assert member_ids(api, url, group) == set(ids(people, 2, 3))
    assert GroupMemberCount.objects.get(group_id=group["_id"]).members == 2
    assert get(api, url, group)["status"] == "active"


def test_patch_with_a_file_adds_and_removes_by_its_action_column(api, url, people):
    start = csv_of("user_id", *ids(people, 0, 1, 2))
    changes = csv_of("phone_number,action", "9876500000,remove", "9876500030,ADD", "9876500040,add",
                     "9876500040,remove", "9876500050,drop", "9876500010,")
    with serve_files({"/start.csv": start, "/changes.csv": changes}) as base:
        group = create(api, url, file_url=f"{base}/start.csv")
        run_jobs()
        patched = api.patch(url(f"user_group/{group['_id']}"), {"file_url": f"{base}/changes.csv"}, format="json")
        assert patched.status_code == 200, patched.content
        assert patched.json()["status"] == "pending" and patched.json()["__v"] == 1
        run_jobs()
    # p0 removed, p3 added, p4 added then removed (the last row wins), bad actions are errors
    assert member_ids(api, url, group) == set(ids(people, 1, 2, 3))
    done = get(api, url, group)
    assert (done["status"], done["error"]["count"]) == ("active", 2)
    assert list(JobError.objects.filter(job_id=done["progress"]["job_id"]).values_list("row_number", "message")) == [
        (6, "action must be add or remove"), (7, "action is required: add or remove")]


def test_a_patch_file_without_an_action_column_fails_the_change_and_keeps_the_members(api, url, people):
    with serve_files({"/start.csv": csv_of("user_id", *ids(people, 0, 1)),
                      "/bad.csv": csv_of("user_id", people[2]["_id"])}) as base:
        group = create(api, url, file_url=f"{base}/start.csv")
        run_jobs()
        api.patch(url(f"user_group/{group['_id']}"), {"type": "file_url", "file_url": f"{base}/bad.csv"},
                  format="json")
        run_jobs()
    failed = get(api, url, group)
    assert failed["status"] == "failed" and "no action column" in failed["error"]["message"], failed
    assert member_ids(api, url, group) == set(ids(people, 0, 1))


def test_json_user_data_is_applied_in_the_request_up_to_the_sync_limit(api, url, people):
    group = create(api, url, type="json", user_data=[{"user_id": people[0]["_id"], "action": "add"},
                                                     {"email": "p1@example.com", "action": "add"}])
    assert group["status"] == "active" and group["type"] == "bulk" and group["progress"]["status"] == "completed"
    body = {"type": "json", "user_data": [
        {"phone_number": "+919876500020", "action": "add"},
        {"user_id": people[0]["_id"], "action": "remove"},
        {"email": "ghost@example.com", "action": "add"},
        {"user_id": UNKNOWN, "action": "remove"},
    ]}
    response = api.patch(url(f"user_group/{group['_id']}"), body, format="json")
    assert response.status_code == 200, response.content
    patched = response.json()
    assert (patched["status"], patched["__v"], patched["error"]["count"]) == ("active", 1, 2)
    assert patched["error"]["file_url"].startswith("http://testserver/files/")
    assert member_ids(api, url, group) == set(ids(people, 1, 2))
    assert list(JobError.objects.filter(job_id=patched["progress"]["job_id"]).values_list(
        "row_number", "reference")) == [(3, "ghost@example.com"), (4, UNKNOWN)]


@override_settings(GROUP_SYNC_LIMIT=2)
def test_json_user_data_above_the_sync_limit_becomes_a_job(api, url, people):
    group = create(api, url, user_data=[{"user_id": p, "action": "add"} for p in ids(people, 0, 1, 2)])
    assert group["status"] == "pending"
    assert member_ids(api, url, group) == set()
    report = api.get(url(f"users/jobs/{group['progress']['job_id']}")).json()
    assert (report["status"], report["kind"], report["count"]["total"]) == ("pending", "group_file", 3)
    run_jobs()
    assert get(api, url, group)["status"] == "active"
    assert member_ids(api, url, group) == set(ids(people, 0, 1, 2))


def test_one_change_at_a_time_but_names_and_lists_change_meanwhile(api, url, people):
    with serve_files({"/a.csv": csv_of("user_id", people[0]["_id"])}) as base:
        group = create(api, url, file_url=f"{base}/a.csv")
        busy = api.patch(url(f"user_group/{group['_id']}"),
                         {"type": "json", "user_data": [{"user_id": people[1]["_id"], "action": "add"}]},
                         format="json")
        assert_error(busy, 409, "processing a change", code="group_busy")
        busy = api.put(url(f"user_group/{group['_id']}"), {"file_url": f"{base}/a.csv"}, format="json")
        assert_error(busy, 409, "try again", code="group_busy")
        renamed = api.patch(url(f"user_group/{group['_id']}"),
                            {"name": "Renamed", "whitelisted_users": ids(people, 5)}, format="json")
        assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
        run_jobs()
    assert member_ids(api, url, group) == set(ids(people, 0, 5))


# --------------------------------------------------------------------------- whitelist and blacklist


def test_whitelisted_users_are_always_members_blacklisted_never(api, url, people):
    group = create(api, url, user_data=[{"user_id": p, "action": "add"} for p in ids(people, 0, 1, 2)],
                   blacklisted_users=ids(people, 1))
    assert group["blacklisted_users"] == ids(people, 1)
    assert member_ids(api, url, group) == set(ids(people, 0, 2))
    body = {"whitelisted_users": ids(people, 4, 5, 2), "blacklisted_users": ids(people, 0, 5)}
    patched = api.patch(url(f"user_group/{group['_id']}"), body, format="json").json()
    assert (patched["whitelisted_users"], patched["blacklisted_users"]) == (ids(people, 4, 5, 2), ids(people, 0, 5))
    listed = members(api, url, group)
    # (base {0,1,2} ∪ white {4,5,2}) − black {0,5}: the blacklist wins over the whitelist
    assert {u["_id"] for u in listed["items"]} == set(ids(people, 1, 2, 4))
    assert listed["page"]["item_total"] == 3
    # a file that removes a whitelisted customer does not make them leave
    api.patch(url(f"user_group/{group['_id']}"), {"type": "json", "user_data": [
        {"user_id": people[4]["_id"], "action": "remove"}, {"user_id": people[2]["_id"], "action": "remove"}]},
        format="json")
    assert member_ids(api, url, group) == set(ids(people, 1, 2, 4))
    cleared = api.patch(url(f"user_group/{group['_id']}"), {"whitelisted_users": [], "blacklisted_users": []},
                        format="json").json()
    assert cleared["whitelisted_users"] == [] and member_ids(api, url, group) == set(ids(people, 0, 1))


def test_listed_users_must_be_customers_of_the_application(api, url, people, other_application, make_client):
    group = create(api, url, user_data=[{"user_id": people[0]["_id"], "action": "add"}])
    stranger = api.post(url("customers", application_id=other_application.id), {"phone_number": "9876512345"},
                        format="json").json()["user"]
    response = api.patch(url(f"user_group/{group['_id']}"),
                         {"whitelisted_users": [people[1]["_id"], stranger["_id"], UNKNOWN]}, format="json")
    body = assert_error(response, 404, stranger["_id"], UNKNOWN, code="user_not_found")
    assert body["meta"]["user_ids"] == [stranger["_id"], UNKNOWN]
    assert_error(api.patch(url(f"user_group/{group['_id']}"), {"blacklisted_users": ["nope"]}, format="json"),
                 400, "is not a user id")
    assert_error(api.patch(url(f"user_group/{group['_id']}"), {"blacklisted_users": "nope"}, format="json"),
                 400, "must be a list")
    assert get(api, url, group)["__v"] == 0  # nothing changed


def test_archived_customers_are_not_listed_nor_counted_and_come_back_when_restored(api, url, people):
    group = create(api, url, user_data=[{"user_id": p, "action": "add"} for p in ids(people, 0, 1, 2)],
                   whitelisted_users=ids(people, 3))
    api.put(url("customers/archive"), {"user_id": people[1]["_id"]}, format="json")
    api.put(url("customers/archive"), {"user_id": people[3]["_id"]}, format="json")
    listed = members(api, url, group)
    assert {u["_id"] for u in listed["items"]} == set(ids(people, 0, 2)) and listed["page"]["item_total"] == 2
    api.put(url("customers/undelete"), {"user_id": people[1]["_id"], "reason": "mistake"}, format="json")
    listed = members(api, url, group)
    assert {u["_id"] for u in listed["items"]} == set(ids(people, 0, 1, 2)) and listed["page"]["item_total"] == 3
    # an archived customer cannot be added (their email and phone are freed) …
    patched = api.patch(url(f"user_group/{group['_id']}"), {"type": "json", "user_data": [
        {"user_id": people[3]["_id"], "action": "add"}]}, format="json").json()
    assert patched["error"]["count"] == 1
    error = JobError.objects.get(job_id=patched["progress"]["job_id"])
    assert error.message == "the customer with this user_id is archived"


def test_purged_customers_leave_their_groups_and_the_count_follows(api, url, people, application):
    from datetime import timedelta

    from django.utils import timezone

    from users.models import Customer
    from users.services import purge_archived_customers

    group = create(api, url, user_data=[{"user_id": p, "action": "add"} for p in ids(people, 0, 1, 2)])
    api.put(url("customers/archive"), {"user_id": people[1]["_id"]}, format="json")
    Customer.objects.filter(pk=people[1]["_id"]).update(restore_until=timezone.now() - timedelta(days=1))
    assert purge_archived_customers() == 1
    assert set(Membership.objects.filter(group_id=group["_id"]).values_list("customer_id", flat=True)) == set(
        ids(people, 0, 2))
    assert GroupMemberCount.objects.get(group_id=group["_id"]).members == 2
    assert members(api, url, group)["page"]["item_total"] == 2


# --------------------------------------------------------------------------- paging the members


def test_members_are_paged_newest_first_with_the_total(api, url, people):
    group = create(api, url, user_data=[{"user_id": p, "action": "add"} for p in ids(people, 0, 1, 2, 3, 4)])
    first = members(api, url, group, page_size=2, page_no=1)
    assert [u["first_name"] for u in first["items"]] == ["p4", "p3"]
    assert first["page"] == {"type": "number", "current": 1, "size": 2, "item_total": 5, "has_next": True}
    last = members(api, url, group, page_size=2, page_no=3)
    assert [u["first_name"] for u in last["items"]] == ["p0"] and last["page"]["has_next"] is False
    assert members(api, url, group, page_size=2, page_no=9)["items"] == []
    by_uid = api.get(url(f"user_group/{group['uid']}/users")).json()
    assert by_uid["page"]["item_total"] == 5
    item = first["items"][0]
    assert item["emails"][0]["email"] == "p4@example.com" and item["phone_numbers"][0]["country_code"] == 91


def test_a_sparse_and_a_dense_group_read_the_same_way(api, url, people, application):
    """Both query shapes (members first, or newest customers first) give the same page and total."""
    from core.api.pagination import PageRequest
    from groups import selectors

    group = UserGroup.objects.get(pk=create(api, url, user_data=[
        {"user_id": p, "action": "add"} for p in ids(people, 0, 2, 4)], whitelisted_users=ids(people, 5),
        blacklisted_users=ids(people, 2))["_id"])
    from users.selectors import customers_matching
    pages = []
    for scan in (True, False):
        query = selectors._bulk_query(application, group, scan=scan)
        customers, _ = customers_matching(application, query, archived=False, page=PageRequest(1, 10))
        pages.append([c.first_name for c in customers])
    assert pages == [["p5", "p4", "p0"], ["p5", "p4", "p0"]]
    assert selectors.bulk_member_total(application, group) == 3


# --------------------------------------------------------------------------- conditional groups


@pytest.fixture
def defs(application):
    def make(name, type_, **extra):
        return attribute_services.create_definition(application, {"name": name, "type": type_, **extra}, ACTOR)
    return {"points": make("Points", "number"), "tier": make("Tier", "string"),
            "tags": make("Tags", "string", multi_value=True), "vip": make("VIP", "boolean"),
            "joined": make("Joined", "date")}


def set_value(application, definition, person, value):
    attribute_services.set_value(application, definition.id, person["_id"], value, ACTOR)


def test_a_conditional_group_follows_attribute_values_as_they_change(api, url, application, people, defs):
    for person, points in zip(people, [10, 50, 100, 500, None, 75]):
        if points is not None:
            set_value(application, defs["points"], person, points)
    set_value(application, defs["tier"], people[2], "gold")
    set_value(application, defs["tier"], people[3], "Silver")
    conditions = [{"user_attribute_definition_id": defs["points"].id, "type": "gte", "value": 50},
                  {"user_attribute_definition_id": defs["tier"].id, "type": "nis", "value": "gold"}]
    group = create(api, url, conditions=conditions)
    assert (group["type"], group["status"], group["progress"]["job_id"]) == ("conditional", "active", "")
    assert group["conditions"] == [
        {"user_attribute_definition_id": defs["points"].id, "type": "gte", "value": "50", "key": "points"},
        {"user_attribute_definition_id": defs["tier"].id, "type": "nis", "value": "gold", "key": "tier"}]
    # points >= 50 AND tier is not gold: p1 (50), p3 (500, Silver), p5 (75); not p2 (gold)
    assert member_ids(api, url, group) == set(ids(people, 1, 3, 5))
    set_value(application, defs["points"], people[4], 60)  # joins at once, no rebuild
    set_value(application, defs["tier"], people[5], "gold")  # leaves at once
    attribute_services.delete_value(application, defs["points"].id, people[1]["_id"], ACTOR)
    listed = members(api, url, group)
    assert {u["_id"] for u in listed["items"]} == set(ids(people, 3, 4)) and listed["page"]["item_total"] == 2
    patched = api.patch(url(f"user_group/{group['_id']}"), {"whitelisted_users": ids(people, 0),
                                                           "blacklisted_users": ids(people, 3)}, format="json")
    assert patched.status_code == 200
    listed = members(api, url, group)
    assert {u["_id"] for u in listed["items"]} == set(ids(people, 0, 4)) and listed["page"]["item_total"] == 2
    updated = api.put(url(f"user_group/{group['_id']}"), {"conditions": [
        {"user_attribute_definition_id": defs["points"].id, "type": "btw", "value": "[5, 20]"}]}, format="json")
    assert updated.status_code == 200 and updated.json()["__v"] == 2
    assert updated.json()["conditions"][0]["value"] == "[5, 20]"
    assert member_ids(api, url, group) == set(ids(people, 0))  # p0 (10), whitelisted anyway


def test_condition_operators_on_strings_lists_booleans_and_dates(api, url, application, people, defs):
    set_value(application, defs["tier"], people[0], "Gold Plus")
    set_value(application, defs["tier"], people[1], "silver")
    set_value(application, defs["tags"], people[1], ["new", "app"])
    set_value(application, defs["tags"], people[2], ["web"])
    set_value(application, defs["vip"], people[2], True)
    set_value(application, defs["joined"], people[3], "2024-02-01")
    set_value(application, defs["joined"], people[4], "2023-06-01")

    def group_of(definition, operator, value):
        return member_ids(api, url, create(api, url, conditions=[
            {"user_attribute_definition_id": defs[definition].id, "type": operator, "value": value}]))

    assert group_of("tier", "cnt", "GOLD") == set(ids(people, 0))
    assert group_of("tier", "sw", "sil") == set(ids(people, 1))
    assert group_of("tags", "in", "app,web") == set(ids(people, 1, 2))
    assert group_of("tags", "nin", '["new"]') == set(ids(people, 0, 2, 3, 4, 5))
    assert group_of("vip", "eq", "true") == set(ids(people, 2))
    assert group_of("vip", "eq", True) == set(ids(people, 2))
    assert group_of("joined", "gt", "2024-01-01") == set(ids(people, 3))
    assert group_of("joined", "btw", ["2023-01-01", "2024-12-31"]) == set(ids(people, 3, 4))


@pytest.mark.parametrize("condition,status,fragment", [
    ({"user_attribute_definition_id": UNKNOWN, "type": "eq", "value": "1"}, 400, "no attribute definition"),
    ({"user_attribute_definition_id": "points", "type": "eq", "value": "1"}, 400, "24-hex id"),
    ({"type": "eq", "value": "1"}, 400, "user_attribute_definition_id"),
    ({"user_attribute_definition_id": "<points>", "type": "like", "value": "1"}, 400, "type must be one of"),
    ({"user_attribute_definition_id": "<points>", "type": "cnt", "value": "1"}, 400, "does not apply"),
    ({"user_attribute_definition_id": "<points>", "type": "gt", "value": "many"}, 400, "points"),
    ({"user_attribute_definition_id": "<points>", "type": "btw", "value": "[9, 1]"}, 400, "smaller value first"),
    ({"user_attribute_definition_id": "<points>", "type": "gt"}, 400, "value is required"),
    ({"user_attribute_definition_id": "<points>", "type": "gt", "value": {"a": 1}}, 400, "value must be"),
    ({"user_attribute_definition_id": "<joined>", "type": "lt", "value": "31/12/2024"}, 400, "joined"),
])
def test_bad_conditions_are_400s_naming_the_problem(api, url, defs, condition, status, fragment):
    condition = {k: (defs[v[1:-1]].id if isinstance(v, str) and v.startswith("<") else v)
                 for k, v in condition.items()}
    response = api.post(url("user_group"), {"name": "X", "description": "Y", "conditions": [condition]},
                        format="json")
    assert_error(response, status, fragment)
    assert not UserGroup.objects.exists()


def test_a_definition_used_by_a_group_cannot_be_deleted(api, url, defs):
    group = create(api, url, name="Big spenders", conditions=[
        {"user_attribute_definition_id": defs["points"].id, "type": "gt", "value": "100"}])
    response = api.delete(url(f"user_attribute/definition/{defs['points'].id}"))
    body = assert_error(response, 409, f"user group {group['uid']} 'Big spenders'", code="attribute_definition_in_use")
    assert body["meta"]["used_by"] == [f"user group {group['uid']} 'Big spenders'"]
    assert api.delete(url(f"user_attribute/definition/{defs['tier'].id}")).status_code == 200
    api.put(url(f"user_group/{group['_id']}"), {"conditions": [
        {"user_attribute_definition_id": defs["vip"].id, "type": "eq", "value": "true"}]}, format="json")
    assert api.delete(url(f"user_attribute/definition/{defs['points'].id}")).status_code == 200


def test_conditions_that_no_longer_fit_their_definition_are_a_409_on_read(api, url, application, defs):
    group = create(api, url, conditions=[{"user_attribute_definition_id": defs["tier"].id, "type": "sw",
                                          "value": "go"}])
    attribute_services.update_definition(application, defs["tier"].id, {"type": "number"}, ACTOR)
    response = api.get(url(f"user_group/{group['_id']}/users"))
    assert_error(response, 409, "no longer fit", code="group_conditions_invalid")
    assert get(api, url, group)["conditions"][0]["key"] == "tier"


def test_type_rules(api, url, people, defs):
    cond = [{"user_attribute_definition_id": defs["points"].id, "type": "gt", "value": "1"}]
    assert_error(api.post(url("user_group"), {"name": "X", "description": "Y"}, format="json"), 400,
                 "file_url is required", code="file_url_required")
    assert_error(api.post(url("user_group"), {"name": "X", "description": "Y", "type": "bulk", "conditions": cond},
                          format="json"), 400, "conditions make a conditional group")
    assert_error(api.post(url("user_group"), {"name": "X", "description": "Y", "type": "conditional",
                                              "file_url": "https://example.com/a.csv"}, format="json"), 400,
                 "takes no file_url")
    assert_error(api.post(url("user_group"), {"name": "X", "description": "Y", "type": "conditional"},
                          format="json"), 400, "must not be empty")
    assert_error(api.post(url("user_group"), {"name": "X", "description": "Y", "type": "static-ish"},
                          format="json"), 400, "type must be bulk", code="invalid_group_type")
    conditional = create(api, url, type="Conditions", conditions=cond)
    assert conditional["type"] == "conditional"
    assert_error(api.put(url(f"user_group/{conditional['_id']}"), {"type": "bulk"}, format="json"), 400,
                 "cannot change", code="group_type_fixed")
    assert_error(api.patch(url(f"user_group/{conditional['_id']}"), {"type": "json", "user_data": [
        {"user_id": people[0]["_id"], "action": "add"}]}, format="json"), 400, "whitelisted_users")
    bulk = create(api, url, type="CSV", user_data=[{"user_id": people[0]["_id"], "action": "add"}])
    assert bulk["type"] == "bulk"
    assert_error(api.put(url(f"user_group/{bulk['_id']}"), {"conditions": cond}, format="json"), 400,
                 "has no conditions")
    assert_error(api.patch(url(f"user_group/{bulk['_id']}"), {"conditions": cond}, format="json"), 400,
                 "updateUserGroup (PUT)")


@pytest.mark.parametrize("body,fragment", [
    ({"description": "Y", "file_url": "https://example.com/a.csv"}, "name is required"),
    ({"name": "X", "file_url": "https://example.com/a.csv"}, "description is required"),
    ({"name": "  ", "description": "Y", "file_url": "https://example.com/a.csv"}, "name must not be blank"),
    ({"name": 5, "description": "Y", "file_url": "https://example.com/a.csv"}, "name must be a string"),
    ({"name": "X", "description": "Y", "file_url": 7}, "file_url must be a string"),
    ({"name": "X", "description": "Y", "file_url": "ftp://example.com/a.csv"}, "http or https"),
    ({"name": "X", "description": "Y", "file_url": "http://127.0.0.1/a.csv"}, "private address"),
    ({"name": "X", "description": "Y", "file_url": "http://169.254.169.254/latest"}, "private address"),
    ({"name": "X", "description": "Y", "file_url": "http://[::1"}, "not a valid URL"),
    ({"name": "X", "description": "Y", "user_data": [{"action": "add"}]}, "must name the customer"),
    ({"name": "X", "description": "Y", "user_data": [{"user_id": UNKNOWN, "action": "keep"}]}, "add or remove"),
    ({"name": "X", "description": "Y", "user_data": [{"user_id": 5, "action": "add"}]}, "must be a string"),
    ({"name": "X", "description": "Y", "user_data": "everyone"}, "non-empty list"),
    ({"name": "X", "description": "Y", "tags": [""], "user_data": [{"user_id": UNKNOWN, "action": "add"}]}, "tags"),
])
def test_bad_create_bodies_are_400s(api, url, body, fragment):
    assert_error(api.post(url("user_group"), body, format="json"), 400, fragment)
    assert_error(api.post(url("user_group"), [body], format="json"), 400, "JSON object")
    assert not UserGroup.objects.exists()


@pytest.mark.parametrize("body,fragment", [
    ({"type": "json"}, "user_data must be a non-empty list"),
    ({"type": "json", "file_url": "https://example.com/a.csv", "user_data": [{"user_id": UNKNOWN, "action": "add"}]},
     "file_url goes with type file_url"),
    ({"type": "file_url", "user_data": [{"user_id": UNKNOWN, "action": "add"}]}, "user_data goes with type json"),
    ({"type": "xml"}, "type must be file_url"),
    ({"name": ""}, "name must not be blank"),
    ({"file_url": "http://10.0.0.1/a.csv"}, "private address"),
])
def test_bad_patch_bodies_are_400s(api, url, people, body, fragment):
    group = create(api, url, user_data=[{"user_id": people[0]["_id"], "action": "add"}])
    assert_error(api.patch(url(f"user_group/{group['_id']}"), body, format="json"), 400, fragment)
    assert get(api, url, group)["__v"] == 0


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize("served,path,fragment", [
    ({}, "/missing.csv", "HTTP 404"),
    ({"/g.csv": b""}, "/g.csv", "empty"),
    ({"/g.csv": b"name,city\nAsha,Pune\n"}, "/g.csv", "none of the columns user_id, email or phone_number"),
    ({"/g.csv": b"user_id\n\xff\xfe\n"}, "/g.csv", "not UTF-8"),
    ({"/g.csv": b'email\n"unclosed,\n'}, "/g.csv", "not valid CSV"),
    ({"/g.csv": b"email\n" + b"someone@example.com\n" * 200}, "/g.csv", "larger than 1000 bytes"),
])
@override_settings(FILE_DOWNLOAD_MAX_BYTES=1000)
def test_a_bad_file_fails_the_group_with_the_reason_and_no_member(api, url, people, served, path, fragment):
    with serve_files(served) as base:
        group = create(api, url, file_url=f"{base}{path}")
        run_jobs()
    failed = get(api, url, group)
    assert failed["status"] == "failed" and fragment in failed["error"]["message"], failed
    assert members(api, url, group)["page"]["item_total"] == 0
    assert not Membership.objects.exists()
    listed = api.get(url("user_group"), {"status": "failed"}).json()
    assert [g["_id"] for g in listed["items"]] == [group["_id"]]


def test_an_unreachable_file_fails_the_group(api, url):
    import socket
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    group = create(api, url, file_url=f"http://localhost:{port}/g.csv")
    run_jobs()
    failed = get(api, url, group)
    assert failed["status"] == "failed" and "could not fetch file_url" in failed["error"]["message"]


# --------------------------------------------------------------------------- lists, ids, scopes


def test_list_filters_and_paging(api, url, people, defs):
    cond = [{"user_attribute_definition_id": defs["points"].id, "type": "gt", "value": "1"}]
    a = create(api, url, name="Gold buyers", conditions=cond)
    b = create(api, url, name="Silver", user_data=[{"user_id": people[0]["_id"], "action": "add"}])
    with serve_files({"/c.csv": csv_of("user_id", people[1]["_id"])}) as base:
        c = create(api, url, name="Golden oldies", file_url=f"{base}/c.csv")
    assert [a["uid"], b["uid"], c["uid"]] == [1, 2, 3]

    def listed(**params):
        response = api.get(url("user_group"), params)
        assert response.status_code == 200, response.content
        return response.json()

    everything = listed()
    assert [g["uid"] for g in everything["items"]] == [3, 2, 1]
    assert everything["page"] == {"type": "number", "current": 1, "size": 10, "item_total": 3, "has_next": False}
    assert [g["uid"] for g in listed(name="GOLD")["items"]] == [3, 1]
    assert [g["uid"] for g in listed(type="conditional")["items"]] == [1]
    assert [g["uid"] for g in listed(type="bulk")["items"]] == [3, 2]
    assert [g["uid"] for g in listed(status="pending")["items"]] == [3]
    assert [g["uid"] for g in listed(status="active")["items"]] == [2, 1]
    assert [g["uid"] for g in listed(group_uid=2)["items"]] == [2]
    second = listed(page_size=2, page_no=2)
    assert [g["uid"] for g in second["items"]] == [1] and second["page"]["has_next"] is False
    assert_error(api.get(url("user_group"), {"status": "done"}), 400, "status must be one of")
    assert_error(api.get(url("user_group"), {"type": "static-ish"}), 400, "type must be bulk")
    assert_error(api.get(url("user_group"), {"group_uid": "x1"}), 400, "group_uid must be a whole number")
    assert_error(api.get(url("user_group"), {"page_size": "1000"}), 400, "page_size")


def test_groups_of_other_applications_are_404s(api, url, people, other_application, foreign_application,
                                               make_client):
    group = create(api, url, user_data=[{"user_id": people[0]["_id"], "action": "add"}])
    for path in (f"user_group/{group['_id']}", f"user_group/{group['_id']}/users", f"user_group/{group['uid']}"):
        assert_error(api.get(url(path, application_id=other_application.id)), 404, code="group_not_found")
    assert_error(api.patch(url(f"user_group/{group['_id']}", application_id=other_application.id),
                           {"name": "Mine"}, format="json"), 404)
    assert_error(api.put(url(f"user_group/{group['_id']}", application_id=other_application.id),
                         {"name": "Mine"}, format="json"), 404)
    assert api.get(url("user_group", application_id=other_application.id)).json()["items"] == []
    assert_error(api.get(url(f"user_group/{UNKNOWN}")), 404, code="group_not_found")
    assert_error(api.get(url("user_group/not-a-group")), 400, "group_id")
    # another company's application: 404 with our token, 403 with our token on their company's URL
    assert_error(api.get(url("user_group", application_id=foreign_application.id)), 404)
    assert_error(api.get(url("user_group", company_id=777, application_id=foreign_application.id)), 403)
    foreign = make_client(company_id=777)
    assert_error(foreign.get(url(f"user_group/{group['_id']}", company_id=777,
                                 application_id=foreign_application.id)), 404)


def test_scopes(make_client, url, application, people):
    reader = make_client(scopes=[SCOPE_CUSTOMERS_READ])
    body = {"name": "X", "description": "Y", "user_data": [{"user_id": people[0]["_id"], "action": "add"}]}
    assert_error(reader.post(url("user_group"), body, format="json"), 403, "application/customers/write")
    writer = make_client()
    group = writer.post(url("user_group"), body, format="json").json()
    assert_error(reader.put(url(f"user_group/{group['_id']}"), {"name": "Z"}, format="json"), 403)
    assert_error(reader.patch(url(f"user_group/{group['_id']}"), {"name": "Z"}, format="json"), 403)
    assert reader.get(url(f"user_group/{group['_id']}")).status_code == 200
    assert reader.get(url("user_group")).status_code == 200
    assert reader.get(url(f"user_group/{group['_id']}/users")).status_code == 200
    assert_error(make_client(scopes=[SCOPE_SETTINGS_WRITE]).get(url("user_group")), 403, "application/customers/read")
    from rest_framework.test import APIClient
    assert_error(APIClient().get(url("user_group")), 401)


def test_uids_increase_per_application_and_v_counts_changes(api, url, people, other_application):
    one = create(api, url, user_data=[{"user_id": people[0]["_id"], "action": "add"}])
    elsewhere = api.post(url("user_group", application_id=other_application.id),
                         {"name": "A", "description": "B", "type": "json",
                          "user_data": [{"user_id": UNKNOWN, "action": "add"}]}, format="json").json()
    two = create(api, url, user_data=[{"user_id": people[0]["_id"], "action": "add"}])
    assert (one["uid"], two["uid"], elsewhere["uid"]) == (1, 2, 1)
    assert elsewhere["error"]["count"] == 1  # the other application's customer ids are unknown there
    versions = [api.patch(url(f"user_group/{one['_id']}"), {"description": f"v{n}"}, format="json").json()["__v"]
                for n in range(3)]
    assert versions == [1, 2, 3]
    final = get(api, url, one)
    assert final["description"] == "v2" and final["modified_at"] >= one["modified_at"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_get_distinct_increasing_uids(application):
    import threading

    from django.db import connection

    from groups import services

    barrier, uids, failures = threading.Barrier(6), [], []

    def make(n):
        try:
            barrier.wait()
            group = services.create_group(application, {"name": f"G{n}", "description": "d", "type": "json",
                                                        "user_data": [{"user_id": UNKNOWN, "action": "add"}]}, ACTOR)
            uids.append(group.uid)
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=make, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and sorted(uids) == [1, 2, 3, 4, 5, 6]
    # in commit order: the newest group has the highest uid
    assert list(UserGroup.objects.order_by("created_at", "uid").values_list("uid", flat=True)) == sorted(uids)


def test_group_tags_with_a_nul_character_are_a_400(api, url):
    response = api.post(url("user_group"), {"name": "T", "description": "d", "tags": ["ok", "bad\x00tag"],
                                            "conditions": []}, format="json")
    assert response.status_code == 400 and "NUL" in response.json()["message"]
