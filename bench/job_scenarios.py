"""The background-job scenarios of `make bench`: each runs in a fresh real Celery worker (bench/worker.py)
and is timed end to end with the worker's peak memory.

- ``import_csv``: 1,000,000 new customers imported from a CSV into a second bench application
  (bench/transfers.py), which is emptied again afterwards;
- ``export_csv`` / ``export_xlsx``: every customer of the bench application exported;
- ``group_file``: a 1,000,000-row CSV customer group (bench/groups.py), beside a plain COPY of the file.
After a scenario that changed a million rows the bench VACUUMs the tables (not timed).
"""

from __future__ import annotations

from bench import groups, transfers
from bench.report import JobRow
from bench.worker import work_dir

SCENARIOS = ("group_file", "import_csv", "export_csv", "export_xlsx")
IMPORT_APPLICATION_ID = "990001000000000000000002"
TARGETS = {"group_file": (20, 300), "import_csv": (120, 300), "export_csv": (20, 300), "export_xlsx": (120, 300)}


def _row(key: str, operation: str, description: str, rows: int, result: dict, baseline: str = "") -> JobRow:
    seconds, megabytes = TARGETS[key]
    if result["status"] not in ("completed", "completed_with_errors"):
        raise RuntimeError(f"{key}: the job ended {result['status']}: {result.get('error')}")
    return JobRow(key, operation, description, rows, result["seconds"], seconds, result["peak_rss_mb"], megabytes,
                  baseline)


def run(wanted: set, *, database_url: str, application_id: str, customers: int, company_id: int, log,
        wait_for_quiet) -> tuple[list[JobRow], str | None]:
    """The job rows measured, and the id of the bench group (for the group_users load scenario)."""
    import psycopg

    work = work_dir()
    out, group_id = [], None
    if "import_csv" in wanted:
        application = _fresh_import_application(company_id)
        path = work / f"import-{customers}.csv"
        if not path.exists():
            log(f"jobs: writing {path.name} ...")
            transfers.write_import_csv(path, customers)
        wait_for_quiet()
        try:
            result = transfers.measure_import(application.id, path)
        finally:
            transfers.drop_customers(application)
            _vacuum(database_url, "users_customer", "users_customeremail", "users_customerphone", "users_auditevent")
        log(f"jobs: import_csv {result['seconds']:.1f} s, worker peak {result['peak_rss_mb']:.0f} MB, "
            f"{result['success']:,} imported, {result['errors']:,} errors")
        out.append(_row("import_csv", "bulkImportStoreFrontUsers (CSV)",
                        f"{customers:,} new customers (name, email, mobile, gender, dob, external id) from a "
                        f"{result['bytes'] / 2**20:.0f} MB CSV served over HTTP", customers, result))
    for file_format in ("csv", "xlsx"):
        key = f"export_{file_format}"
        if key in wanted:
            wait_for_quiet()
            result = transfers.measure_export(application_id, file_format)
            log(f"jobs: {key} {result['seconds']:.1f} s, worker peak {result['peak_rss_mb']:.0f} MB, "
                f"{result['rows']:,} rows, {result['bytes'] / 2**20:.0f} MB")
            out.append(_row(key, f"createBulkExportUsers ({file_format.upper()})",
                            f"every customer of the bench application, {result['bytes'] / 2**20:.0f} MB file",
                            result["rows"], result))
    if "group_file" in wanted:
        with psycopg.connect(database_url, autocommit=True) as conn:
            path = groups.write_csv(conn, application_id, work / f"group-{customers}.csv", customers, log)
            floor = groups.copy_floor(conn, path)
        wait_for_quiet()
        result = groups.measure_group(application_id, path)
        group_id = result["group_id"]
        _vacuum(database_url, "customer_groups_membership")
        log(f"jobs: group_file {result['seconds']:.1f} s, worker peak {result['peak_rss_mb']:.0f} MB, "
            f"{result['members']:,} members; plain COPY of the file {floor:.2f} s")
        out.append(_row("group_file", "createUserGroup (file_url)",
                        f"CSV of {customers:,} rows (⅓ user ids, ⅓ emails, ⅓ mobiles), downloaded, resolved and "
                        f"applied; {result['members']:,} members", customers, result,
                        f"plain `COPY` of the file into an unindexed table: {floor:.2f} s "
                        f"(the job takes {result['seconds'] / floor:.1f}×)"))
    return out, group_id


def _vacuum(database_url: str, *tables: str) -> None:
    """Not timed: so that autovacuum, woken by a million changed rows, does not run during the next one."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")


def _fresh_import_application(company_id: int):
    from core.tenancy import services
    from core.tenancy.models import Application

    application = Application.objects.filter(id=IMPORT_APPLICATION_ID).first()
    if application is None:
        application, _ = services.create_application(company_id=company_id, name="Import bench (make bench)",
                                                     application_id=IMPORT_APPLICATION_ID)
    transfers.drop_customers(application)
    return application


def group_members(group_id: str) -> int:
    from groups.models import UserGroup
    from groups.selectors import bulk_member_total

    group = UserGroup.objects.select_related("application").get(pk=group_id)
    return bulk_member_total(group.application, group)
