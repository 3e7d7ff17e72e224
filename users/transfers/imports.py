"""The ``customer_import`` job: a CSV or XLSX file of customers, created or updated in chunks.

How a chunk runs (docs/transfers.md has the rules):

- a producer thread reads the stored CSV and checks every row (users.transfers.rows) one chunk ahead
  of the database work, so Python's row checks overlap PostgreSQL's inserts;
- ``apply`` (one transaction per chunk, with the counters: core/jobs/runner.py) checks the cells of
  extra columns (users.transfers.columns: the attributes app's slug columns), looks up every email and
  phone of the chunk in two queries, locks the matched customers,
  then writes with set-based SQL: COPY for new customers, their emails, phones and audit events, one
  ``UPDATE … FROM unnest(…)`` for the changed ones (the rows' values: users.customer_rows);
- rows of one chunk that share an email, phone or username, or match the same customer, are applied
  in file order (later ones in a next pass of the same transaction, which then finds the earlier ones);
- if a concurrent writer took an email, phone or username meanwhile (a unique index refuses the bulk
  write), that pass is redone row by row, each in its own savepoint.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import signal
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from core import files, jobs
from core.files import csvrows as csvfiles
from core.files import downloads
from core.actors import Actor
from core.api.errors import ServiceError, ValidationFailed
from core.ids import new_object_id
from core.jobs.models import Job
from users import customer_rows, hooks
from users.customer_rows import AUDIT_EVENTS, CUSTOMERS, EMAILS, PHONES, CopyTable
from users.models import Customer, LinkedIdentity
from users.transfers import columns as extra_columns
from users.transfers import rows as row_rules
from users.transfers import sources
from users.transfers.formats import check_format

KIND = "customer_import"
ACTION_TYPE = "import"
IDENTITIES = CopyTable(LinkedIdentity)
_CUSTOMER_TABLES = {(): CUSTOMERS}  # + the database-default columns hooked fields set (users.hooks)


def _customers_table(rows: list) -> CopyTable:
    """CUSTOMERS, or CUSTOMERS with the columns the rows' hooked fields set (``has_old_password_hash``: a
    database default, which CUSTOMERS leaves out), so that new customers get them in the one COPY."""
    names = tuple(sorted({name for row in rows if row.hooked for name in hooks.customer_values(row.hooked)}))
    if names not in _CUSTOMER_TABLES:
        _CUSTOMER_TABLES[names] = CopyTable(Customer, include=names)
    return _CUSTOMER_TABLES[names]


def chunk_size() -> int:
    return settings.CUSTOMER_IMPORT_CHUNK_SIZE


# ----------------------------------------------------------------------------- starting a job

def file_name_of(url: str, relative_url: str = "") -> str:
    return files.name_in_url(relative_url or url) or "customers"


def _own_link(url: str) -> str | None:
    """The stored file one of our own signed ``/files/<token>`` links names (read without HTTP), or None."""
    prefix = reverse("file-download", args=["x"])[:-1]
    path = urlsplit(url.strip()).path
    if not path.startswith(prefix):
        return None
    try:
        return files.name_from_token(path[len(prefix):])
    except ServiceError:
        return None  # not ours (or no longer valid): fetched like any URL


def start_import(application, actor: Actor, *, absolute_url, relative_url="", file_format) -> Job:
    """bulkImportStoreFrontUsers: a pending import job of the file at ``absolute_url`` (400 at once for a
    bad format or a URL the downloader refuses)."""
    file_format = check_format(file_format)
    if not isinstance(absolute_url, str) or not absolute_url.strip():
        raise ValidationFailed("absolute_url must be the http(s) URL of the file.", code="file_url_invalid")
    if not isinstance(relative_url, str):
        raise ValidationFailed("relative_url must be a string.")
    stored = _own_link(absolute_url)
    if not stored:
        downloads.vet_url(absolute_url, field="absolute_url")
    payload = sources.ImportPayload(absolute_url=absolute_url.strip(), relative_url=relative_url,
                                    stored_file=stored or None)
    return jobs.create_job(application, KIND, actor, payload=jobs.payload_dict(payload), file_format=file_format,
                           file_name=file_name_of(absolute_url, relative_url))


def start_import_of_file(application, actor: Actor, handle, file_name: str, file_format: str | None = None, *,
                         enqueue: bool = True) -> Job:
    """An import job of a local file (admin upload, manage.py import_customers): stored in the job's
    folder first, so the job reads it from storage, never over HTTP."""
    file_format = check_format(file_format or PurePosixPath(file_name).suffix)
    with transaction.atomic():
        job = jobs.create_job(application, KIND, actor, file_format=file_format, file_name=file_name[:200],
                              enqueue=False)
        jobs.store_job_input(job, handle, f"upload.{file_format}", key="stored_file")
        if enqueue:
            jobs.enqueue_job(job.pk)
    return job


# ----------------------------------------------------------------------------- the job

@dataclass
class Chunk:
    rows: list  # of rows.ImportRow, in file order
    errors: list  # RowError of rows refused by the row checks


def read_header(name: str, application) -> row_rules.Header:
    with files.open_file(name) as stored, csvfiles.open_csv(stored, source="the file") as rows:
        header = rows.header
    others, claimed = row_rules.other_names(header), {}
    providers = extra_columns.providers()
    for provider in providers:
        unclaimed = [n for n in others if n not in claimed]
        for name in provider.claim(application, unclaimed) if unclaimed else ():
            claimed[name] = provider.key
    return row_rules.read_header(header, claimed, [p.hint for p in providers])


def parsed_chunks(name: str, header: row_rules.Header, done: int, size: int):
    """(Chunk, {"done": records so far}) from record ``done`` on: the same rows for the same ``done``."""
    batch, errors, seen = [], [], 0
    with files.open_file(name) as stored, csvfiles.open_csv(stored, source="the file") as records:
        for row_number, cells in records:
            seen += 1
            if seen <= done:
                continue
            try:
                batch.append(row_rules.parse_row(row_number, cells, header))
            except ServiceError as exc:
                errors.append(jobs.RowError(row_number, row_rules.row_reference(cells, header), exc.message))
            if len(batch) + len(errors) >= size:
                yield Chunk(batch, errors), {"done": seen}
                batch, errors = [], []
    if batch or errors:
        yield Chunk(batch, errors), {"done": seen}


def prefetched(make_generator, depth: int = 2):
    """Run a generator ``depth`` items ahead of the consumer, in a forked child process (so that the
    row checks never compete with the consumer's database work for the GIL), or in a thread where
    fork is not available. The generator must not use the database."""
    try:
        context = multiprocessing.get_context("fork")
        items = context.Queue(maxsize=depth)
        child = context.Process(target=_produce_in_child, args=(make_generator, items, os.getpid()),
                                name="import-rows", daemon=True)
        child.start()
    except (ValueError, OSError, AssertionError):  # no fork here, or a daemonic process
        yield from _prefetched_in_thread(make_generator, depth)
        return
    try:
        while True:
            try:
                kind, value = items.get(timeout=1)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the row reader process ended (exit code {child.exitcode})")
                continue
            if kind == "item":
                yield value
            elif kind == "end":
                return
            else:
                raise ValidationFailed(value[1]) if value[0] == "service" else RuntimeError(value[1])
    finally:
        if child.is_alive():
            child.terminate()
            child.join(timeout=5)
            if child.is_alive():  # never wait forever for the reader: a job stopped early must be able to go on
                child.kill()
        child.join()
        items.close()


def _produce_in_child(make_generator, items, parent_pid: int) -> None:
    # The child of a Celery worker inherits its handlers (SIGTERM: a warm shutdown that would wait for the
    # queue to drain, which nobody reads once the job stopped early): the consumer's terminate() must end it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

    def put(item) -> bool:
        while True:
            try:
                items.put(item, timeout=0.5)
                return True
            except queue.Full:
                if os.getppid() != parent_pid:  # the worker died: do not linger
                    return False

    try:
        for item in make_generator():
            if not put(("item", item)):
                return
        put(("end", None))
    except ServiceError as exc:
        put(("error", ("service", exc.message)))
    except BaseException as exc:
        put(("error", ("other", f"{type(exc).__name__}: {exc}")))


def _prefetched_in_thread(make_generator, depth: int):
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in make_generator():
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            put(("error", exc))

    thread = threading.Thread(target=produce, name="import-rows", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "item":
                yield value
            elif kind == "end":
                return
            else:
                raise value
    finally:
        stop.set()
        thread.join()


@jobs.register(KIND)
class CustomerImport(jobs.JobHandler):
    """Checkpoint ``{"done": n}``: the first n data rows of the stored input are applied (or refused)."""

    action_type = ACTION_TYPE
    Payload = sources.ImportPayload

    def chunks(self, job, checkpoint):
        name, total = sources.prepare(job, self.payload(job))
        job.total = total
        header = read_header(name, job.application)
        done, size = (checkpoint or {}).get("done", 0), chunk_size()
        yield from prefetched(lambda: parsed_chunks(name, header, done, size))

    def apply(self, job, chunk: Chunk):
        return apply_rows(job.application, chunk.rows, jobs.actor_of(job), job_id=job.pk, errors=list(chunk.errors))


# ----------------------------------------------------------------------------- applying a chunk

UPDATABLE = ("first_name", "last_name", "gender", "external_id", "rr_id", "dob", "meta")
RACE_MESSAGE = ("an email, phone or username of this row was taken by another customer while the file was "
                "imported.")


@dataclass
class _Context:
    application: object
    actor: Actor
    job_id: str
    extra: dict  # provider key -> its ChunkColumns (users.transfers.columns)
    success: int = 0
    errors: list = field(default_factory=list)

    def fail(self, row, message: str) -> None:
        self.errors.append(jobs.RowError(row.row_number, row.reference, message))


@dataclass
class _Plan:
    creates: list = field(default_factory=list)  # rows
    updates: list = field(default_factory=list)  # (row, customer_id, add_email, add_phone)
    current: dict = field(default_factory=dict)  # customer_id -> {field: value, "has_email": bool}

    @property
    def rows(self) -> list:
        return self.creates + [u[0] for u in self.updates]


def apply_rows(application, rows: list, actor: Actor, *, job_id: str = "", errors: list | None = None):
    """Create or update the customers of ``rows`` (checked ImportRows); run inside a transaction."""
    context = _Context(application, actor, job_id, _open_extra_columns(application, rows), errors=errors or [])
    pending = []
    for row in rows:
        try:
            row.extra = {key: context.extra[key].parse(cells) for key, cells in row.extra.items()}
        except ServiceError as exc:
            context.fail(row, exc.message)
        else:
            pending.append(row)
    while pending:
        batch, later = _first_of_each_key(pending)
        deferred = _apply_pass(context, batch)
        pending = sorted(deferred + later, key=lambda r: r.row_number)
    return jobs.ChunkResult(context.success, context.errors)


def _open_extra_columns(application, rows: list) -> dict:
    """Each provider whose columns the chunk's rows fill, opened for the chunk (in its transaction)."""
    names: dict[str, set] = {}
    for row in rows:
        for key, cells in row.extra.items():
            names.setdefault(key, set()).update(cells)
    return {key: extra_columns.provider(key).open_chunk(application, wanted) for key, wanted in names.items()}


def _keys(row) -> set:
    keys = set()
    if row.email:
        keys.add(("email", row.email))
    if row.phone:
        keys.add(("phone", row.phone.e164))
    if row.username:
        keys.add(("username", row.username.lower()))
    keys.update(("identity", provider, subject) for provider, subject in row.identities.items())
    return keys


def _first_of_each_key(rows: list) -> tuple[list, list]:
    """Rows sharing no email, phone or username with an earlier row; and the others (for a next pass)."""
    seen, batch, later = set(), [], []
    for row in rows:
        keys = _keys(row)
        (later if keys & seen else batch).append(row)
        seen |= keys
    return batch, later


def _apply_pass(context: _Context, batch: list) -> list:
    """Plan and write ``batch``; returns the rows deferred to a next pass (same customer as an earlier one)."""
    plan, deferred = _plan(context, batch)
    if not plan.rows:
        return deferred
    try:
        with transaction.atomic():
            _write(context, plan)
    except IntegrityError:
        if len(plan.rows) == 1:
            context.fail(plan.rows[0], RACE_MESSAGE)
        else:  # a concurrent writer: row by row, each row planned again
            for row in sorted(plan.rows, key=lambda r: r.row_number):
                deferred += _apply_pass(context, [row])
    else:
        context.success += len(plan.rows)
    return deferred


def _owners(sql_table: str, column: str, application_id: str, values: list) -> dict:
    if not values:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column}, customer_id FROM {sql_table} WHERE application_id = %s AND is_live "
                       f"AND {column} = ANY(%s)", [application_id, values])
        return dict(cursor.fetchall())


def _plan(context: _Context, batch: list) -> tuple[_Plan, list]:
    app_id = context.application.id
    by_email = _owners(EMAILS.table, "email", app_id, [r.email for r in batch if r.email])
    by_phone = _owners(PHONES.table, "e164", app_id, [r.phone.e164 for r in batch if r.phone])
    plan, deferred, claimed, matched = _Plan(), [], set(), []
    for row in batch:
        email_owner = by_email.get(row.email) if row.email else None
        phone_owner = by_phone.get(row.phone.e164) if row.phone else None
        if email_owner and phone_owner and email_owner != phone_owner:
            context.fail(row, f"the email {row.email} belongs to customer {email_owner} and the phone "
                              f"{row.phone.e164} to another customer, {phone_owner}.")
            continue
        target = email_owner or phone_owner
        if target is None:
            if row.phone is None:
                context.fail(row, "phone_number is required to create a customer (no customer of this "
                                  f"application has the email {row.email}).")
            else:
                plan.creates.append(row)
        elif target in claimed:
            deferred.append(row)  # a second row for the same customer: applied after the first
        else:
            claimed.add(target)
            matched.append((row, target, bool(row.email) and email_owner is None,
                            row.phone is not None and phone_owner is None))
    if matched:
        plan.current = _lock_customers(app_id, [m[1] for m in matched])
        for row, target, add_email, add_phone in matched:
            if target in plan.current:
                plan.updates.append((row, target, add_email, add_phone))
            else:
                context.fail(row, "the matching customer was archived while the file was imported.")
    _check_usernames(context, plan)
    _check_identities(context, plan)
    return plan, deferred


def _lock_customers(application_id: str, ids: list) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.first_name, c.last_name, c.gender, c.external_id, c.rr_id, c.dob, c.meta::text, "
            f"EXISTS (SELECT 1 FROM {EMAILS.table} e WHERE e.customer_id = c.id) "
            f"FROM {CUSTOMERS.table} c WHERE c.application_id = %s AND NOT c.archived AND c.id = ANY(%s) "
            "ORDER BY c.id FOR UPDATE OF c", [application_id, ids])
        current = {}
        for row in cursor.fetchall():
            values = dict(zip(UPDATABLE, row[1:8]))
            values["meta"] = json.loads(values["meta"]) if values["meta"] else {}
            values["has_email"] = row[8]
            current[row[0]] = values
        return current


def _check_usernames(context: _Context, plan: _Plan) -> None:
    """createUser's rule for usernames given in the file: unique (case-insensitively) among live customers."""
    wanted = {row.username.lower() for row in plan.creates if row.username}
    if not wanted:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT lower(username) FROM {CUSTOMERS.table} WHERE application_id = %s AND NOT archived "
                       "AND lower(username) = ANY(%s)", [context.application.id, list(wanted)])
        taken = {name for (name,) in cursor.fetchall()}
    if taken:
        kept = []
        for row in plan.creates:
            if row.username and row.username.lower() in taken:
                context.fail(row, f"Username {row.username!r} is already used by another customer of this application.")
            else:
                kept.append(row)
        plan.creates = kept


def _check_identities(context: _Context, plan: _Plan) -> None:
    """A social identity links to one customer of the application: a row naming one that another customer
    has is refused; one its own customer already has is left as it is."""
    wanted = {(provider, subject) for row in plan.rows for provider, subject in row.identities.items()}
    if not wanted:
        return
    providers, subjects = zip(*wanted)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT i.provider, i.subject, i.customer_id FROM {IDENTITIES.table} i "
                       "JOIN unnest(%s::text[], %s::text[]) AS v(provider, subject) "
                       "ON i.provider = v.provider AND i.subject = v.subject WHERE i.application_id = %s",
                       [list(providers), list(subjects), context.application.id])
        owners = {(provider, subject): owner for provider, subject, owner in cursor.fetchall()}
    if not owners:
        return

    def clashes(row, customer_id) -> bool:
        for provider, subject in list(row.identities.items()):
            owner = owners.get((provider, subject))
            if owner is None:
                continue
            if owner != customer_id:
                context.fail(row, f"{provider}_id: this {provider} identity is already linked to another customer "
                                  f"of this application ({owner}).")
                return True
            del row.identities[provider]  # already this customer's
        return False

    plan.creates = [row for row in plan.creates if not clashes(row, None)]
    plan.updates = [update for update in plan.updates if not clashes(update[0], update[1])]


def _audit_value(value):
    return value.isoformat() if isinstance(value, date) else value


def _write(context: _Context, plan: _Plan) -> None:
    app_id, actor = context.application.id, context.actor
    source = {"source": "import", "job_id": context.job_id}
    now = timezone.now()
    customers, emails, phones, audit_rows, updates, extra = [], [], [], [], [], []
    identities, hooked_new, flagged = [], {}, {}
    customers_table = _customers_table(plan.creates)
    hooked_changed = _store_hooked_of_found(context, plan)
    for index, row in enumerate(plan.creates):
        at = now + timedelta(microseconds=index)  # file order is creation order (getCustomers: newest first)
        customer_id = new_object_id()
        username = customer_rows.username_for(row.username, row.email, row.phone)
        customers.append(customers_table.row(customer_rows.customer_values(
            app_id, username, row.fields, id=customer_id, created_at=at, updated_at=at,
            **(hooks.customer_values(row.hooked) if row.hooked else {}))))
        for name, value in row.hooked.items():
            hooked_new.setdefault(name, []).append((customer_id, value))
        for provider, subject in row.identities.items():
            identities.append(IDENTITIES.row({"customer_id": customer_id, "application_id": app_id,
                                              "provider": provider, "subject": subject, "linked_at": at}))
        phones.append(PHONES.row(customer_rows.first_phone(customer_id, app_id, row.phone)))
        if row.email:
            emails.append(EMAILS.row(customer_rows.first_email(customer_id, app_id, row.email)))
        audit_rows.append(AUDIT_EVENTS.row(customer_rows.created_event(
            app_id, customer_id, actor, username=username, email=row.email, phone=row.phone, source=source,
            created_at=at, published=False)))
        if row.extra:
            extra.append((customer_id, row.extra))
    for row, customer_id, add_email, add_phone in plan.updates:
        current = plan.current[customer_id]
        changed = {name: value for name, value in row.fields.items() if current[name] != value}
        if add_email:
            emails.append(EMAILS.row(customer_rows.added_email(customer_id, app_id, row.email,
                                                               customer_has_email=current["has_email"])))
            changed["email_added"] = row.email
        if add_phone:
            phones.append(PHONES.row(customer_rows.added_phone(customer_id, app_id, row.phone)))
            changed["phone_added"] = row.phone.e164
        stored = {name: value for name, value in row.hooked.items() if customer_id in hooked_changed[name]}
        if stored:
            flagged[customer_id] = hooks.customer_values(stored)
            changed.update({name: "set" for name in stored})  # never the value
        for provider, subject in row.identities.items():
            identities.append(IDENTITIES.row({"customer_id": customer_id, "application_id": app_id,
                                              "provider": provider, "subject": subject, "linked_at": now}))
        if row.identities:
            changed["identities_linked"] = sorted(row.identities)
        if any(name in UPDATABLE for name in changed):
            updates.append((customer_id, *[changed.get(name) for name in UPDATABLE]))
        if changed:
            audit_rows.append(AUDIT_EVENTS.row(customer_rows.updated_event(
                app_id, customer_id, actor, {k: _audit_value(v) for k, v in changed.items()}, source=source,
                created_at=now, published=False)))
        if row.extra:
            extra.append((customer_id, row.extra))
    _copy(customers_table, customers)
    _copy(EMAILS, emails)
    _copy(PHONES, phones)
    _update_profiles(app_id, updates, now)
    _set_hooked_values(app_id, flagged, {u[0] for u in updates}, now)
    _copy(IDENTITIES, identities)
    for name, values in hooked_new.items():  # set-based, in this transaction (users.hooks)
        hooks.hook(name).store(context.application, values, actor, new=True)
    _copy(AUDIT_EVENTS, audit_rows)
    for customer_id, parsed_by_key in extra:  # once the customers exist
        for key, parsed in parsed_by_key.items():
            context.extra[key].store(customer_id, parsed, actor)


def _copy(table: customer_rows.CopyTable, rows: list) -> None:
    if rows:
        with connection.cursor() as cursor:
            table.copy(cursor.cursor, rows)


def _store_hooked_of_found(context: _Context, plan: _Plan) -> dict:
    """The hooked fields (users.hooks) of rows matching customers, each field's values in one ``store``;
    name -> ids of the customers whose value changed (the same hash again changes nothing)."""
    by_name: dict = {}
    for row, customer_id, _, _ in plan.updates:
        for name, value in row.hooked.items():
            by_name.setdefault(name, []).append((customer_id, value))
    return {name: hooks.hook(name).store(context.application, values, context.actor, new=False)
            for name, values in by_name.items()}


def _set_hooked_values(application_id: str, flagged: dict, updated: set, now) -> None:
    """The customer columns hooked fields set on found customers (``has_old_password_hash``), one UPDATE per
    column value; the version goes up once for customers whose profile did not change in this pass."""
    by_assignment: dict = {}
    for customer_id, values in flagged.items():
        for name, value in values.items():
            by_assignment.setdefault((name, value), []).append(customer_id)
    with connection.cursor() as cursor:
        for (name, value), ids in by_assignment.items():
            column = Customer._meta.get_field(name).column
            cursor.execute(
                f"UPDATE {CUSTOMERS.table} SET {column} = %s, updated_at = %s, "
                "version = version + CASE WHEN id = ANY(%s::text[]) THEN 0 ELSE 1 END "
                "WHERE application_id = %s AND id = ANY(%s::text[])",
                [value, now, list(updated), application_id, ids])
            updated = updated | set(ids)


def _update_profiles(application_id: str, updates: list, now) -> None:
    """One UPDATE for every changed customer of the pass; a NULL keeps the stored value."""
    if not updates:
        return
    columns = list(zip(*updates))
    meta = [None if m is None else customer_rows.json_text(m) for m in columns[7]]
    assignments = ", ".join(f"{name} = COALESCE(v.{name}, c.{name})" for name in UPDATABLE[:-1])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CUSTOMERS.table} AS c SET {assignments}, meta = COALESCE(v.meta::jsonb, c.meta), "
            "version = c.version + 1, updated_at = %s "
            "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::date[], "
            "%s::text[]) AS v(id, first_name, last_name, gender, external_id, rr_id, dob, meta) "
            "WHERE c.id = v.id AND c.application_id = %s",
            [now, *[list(c) for c in columns[:7]], meta, application_id])
