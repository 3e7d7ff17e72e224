"""Seed the bench application with N customers (one email, one Indian mobile each) through COPY.

The rows are generated in Python (deterministically: the same N always gives the same data) by a
producer thread, built by users.customer_rows as the import builds its own (the same columns and
defaults), while the main thread streams them to PostgreSQL with psycopg 3's ``cursor.copy()``, in
chunks, inside one transaction: customers, then their emails, then their phones. The statement-level
triggers of users/migrations/0002 fire on every COPY, so ``ApplicationCustomerCount`` is kept by the
database itself; :func:`verify` checks it afterwards.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import phonenumbers
import psycopg

from users import customer_rows
from users.contacts import Phone
from users.customer_rows import CUSTOMERS, EMAILS, PHONES

CHUNK = 50_000
SEED = 20_240_601

# Varied Indian first names (with the gender the profile carries) and surnames.
MALE = """aarav vivaan aditya vihaan arjun sai reyansh ayaan krishna ishaan shaurya atharv advik pranav
advaith aryan dhruv kabir ritvik aarush kian darsh veer rudra arnav yash rohan rahul amit vikram
suresh ramesh rajesh mahesh ganesh dinesh naveen praveen karthik harish manoj sanjay vijay anil
sunil deepak ashok gaurav nikhil siddharth varun tarun kunal abhishek akash ankit mohit sachin
sandeep vivek ajay anand arvind bharat chetan farhan imran irfan jatin kiran lokesh mukesh nitin
omkar pankaj rakesh sameer tushar umesh vinod yogesh zubair""".split()
FEMALE = """saanvi aanya aadhya aaradhya ananya pari anika navya angel diya myra sara iraa ahana anvi
prisha riya aarohi anaya akshara priya pooja neha sneha kavya divya shreya anjali swati nisha meera
lakshmi radha sita gita sunita anita kavita rekha rashmi preeti shalini deepika aishwarya bhavna
chitra fatima gayatri hema isha jyoti komal lata madhuri nandini pallavi rani sakshi tanvi uma
vandana yamini zara ritu payal simran""".split()
LAST = """sharma verma gupta singh kumar patel shah mehta joshi desai reddy rao naidu iyer iyengar nair
menon pillai kurup das dutta bose banerjee chatterjee mukherjee ghosh sen roy chakraborty mishra
pandey tiwari dubey shukla tripathi srivastava saxena agarwal bansal goyal jain khanna kapoor malhotra
chopra arora bhatia sethi anand ahuja grover chauhan rathore yadav thakur rajput bhatt trivedi
kulkarni deshpande patil jadhav pawar shinde more gokhale apte naik kamath shetty hegde gowda
achar bhat prabhu pai fernandes dsouza pereira rodrigues khan ansari qureshi shaikh siddiqui
syed mirza baig hussain gill sandhu sidhu dhillon grewal bajwa randhawa""".split()
DOMAINS = ["gmail.com"] * 6 + ["yahoo.co.in", "yahoo.com", "outlook.com", "hotmail.com", "rediffmail.com",
                               "icloud.com", "protonmail.com", "fynd.example"]
SEPARATORS = [".", "_", ""]

# Numbers are unique by construction: the email's digits and the phone are bijections of the row index.
EMAIL_MODULUS, EMAIL_MULTIPLIER = 10_000_000, 7_919
PHONE_BASE, PHONE_SPAN, PHONE_MULTIPLIER = 6_000_000_000, 4_000_000_000, 2_654_435_761  # 6000000000–9999999999
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)  # fixed, so re-runs produce the same data
HISTORY = timedelta(days=3 * 365)


@dataclass
class Chunk:  # rows of CopyTable.row
    customers: list
    emails: list
    phones: list
    rows: int


@dataclass
class SeedResult:
    customers: int
    reused: bool
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)


def email_of(index: int, first: str, last: str, variant: int) -> str:
    number = (index * EMAIL_MULTIPLIER + 104_729) % EMAIL_MODULUS
    return f"{first}{SEPARATORS[variant % 3]}{last}{number}@{DOMAINS[variant % len(DOMAINS)]}"


def phone_of(index: int) -> str:
    return str(PHONE_BASE + (index * PHONE_MULTIPLIER + 1_234_567) % PHONE_SPAN)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(sep=" ")


def generate(app_id: str, total: int, start: int, stop: int) -> Chunk:
    """Rows start..stop-1 as COPY rows. Row i is always the same customer (seeded per chunk)."""
    rng = random.Random(SEED * 1_000_003 + start)
    history = HISTORY.total_seconds()
    origin = (NOW - HISTORY).timestamp()
    step = history / total
    customers, emails, phones = [], [], []
    names = MALE + FEMALE
    n_male = len(MALE)
    rand, randrange, getrandbits = rng.random, rng.randrange, rng.getrandbits
    for i in range(start, stop):
        f = randrange(len(names))
        first, gender = names[f], ("male" if f < n_male else "female")
        last = LAST[randrange(len(LAST))]
        created = origin + (i + rand() * 0.9) * step  # spread over three years, in row order
        oid = f"{int(created):08x}{getrandbits(40):010x}{i & 0xFFFFFF:06x}"
        created_s = _iso(created)
        updated_s = created_s if rand() < 0.7 else _iso(min(created + rand() * 3e7, NOW.timestamp()))
        dob = f"{1960 + randrange(46)}-{1 + randrange(12):02d}-{1 + randrange(28):02d}" if rand() < 0.7 else None
        email = email_of(i, first, last, randrange(1 << 16))
        username = email.split("@", 1)[0]
        profile = {"first_name": first.title(), "last_name": last.title(), "gender": gender, "dob": dob}
        customers.append(CUSTOMERS.row(customer_rows.customer_values(
            app_id, username, profile, id=oid, active=rand() >= 0.005, created_at=created_s, updated_at=updated_s)))
        emails.append(EMAILS.row(customer_rows.first_email(oid, app_id, email, verified=rand() < 0.6)))
        phones.append(PHONES.row(customer_rows.first_phone(oid, app_id, Phone(phone_of(i), 91),
                                                           verified=rand() < 0.8)))
    return Chunk(customers, emails, phones, stop - start)


def check_phone_validity(total: int, samples: int = 2_000) -> None:
    """The phones must be valid Indian mobiles for phonenumbers (10 digits, 6-9 first): spot-check."""
    rng = random.Random(SEED)
    for i in [0, total - 1] + [rng.randrange(total) for _ in range(samples)]:
        number = phonenumbers.parse("+91" + phone_of(i))
        if not phonenumbers.is_valid_number(number) or phonenumbers.national_significant_number(number) != phone_of(i):
            raise RuntimeError(f"generated phone {phone_of(i)} is not a valid Indian mobile number")


def counts(conn: psycopg.Connection, app_id: str) -> dict:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM users_customer WHERE application_id = %(a)s),"
            " (SELECT count(*) FROM users_customer WHERE application_id = %(a)s AND archived),"
            " (SELECT count(*) FROM users_customeremail WHERE application_id = %(a)s),"
            " (SELECT count(*) FROM users_customerphone WHERE application_id = %(a)s),"
            " (SELECT total FROM users_applicationcustomercount WHERE application_id = %(a)s),"
            " (SELECT archived FROM users_applicationcustomercount WHERE application_id = %(a)s)",
            {"a": app_id},
        )
        row = cur.fetchone()
    return dict(zip(["customers", "archived", "emails", "phones", "counted_total", "counted_archived"], row))


def verify(conn: psycopg.Connection, app_id: str, total: int) -> dict:
    found = counts(conn, app_id)
    expected = {"customers": total, "archived": 0, "emails": total, "phones": total, "counted_total": total,
                "counted_archived": 0}
    if found != expected:
        raise RuntimeError(f"bench application is inconsistent after seeding: {found} != {expected}")
    return found


TABLES = (CUSTOMERS.table, EMAILS.table, PHONES.table)


# Every table whose foreign key points at a customer, and the column: the database checks those keys
# rather than cascading, so their rows go first (credentials, identities, attribute values, …).
# With an application_id column of their own, they are deleted by it (indexed); else through the customers.
def _referencing() -> list[tuple[str, str, bool]]:
    """(table, column, whether it has application_id) of every model pointing at customers, with or without a
    database constraint."""
    from users.models import Customer

    tables = []
    for relation in Customer._meta.related_objects:
        model, field = relation.related_model, relation.field
        if field.concrete:
            has_application = any(f.column == "application_id" for f in model._meta.concrete_fields)
            tables.append((model._meta.db_table, field.column, has_application))
    return tables


def delete_customers(cur, app_id: str) -> None:
    """Delete an application's customers and every row that points at them (the delete trigger keeps the
    count right)."""
    for table, column, by_application in _referencing():
        if by_application:
            cur.execute(f"DELETE FROM {table} WHERE application_id = %s", [app_id])
        else:
            cur.execute(f'DELETE FROM {table} r USING users_customer c WHERE r."{column}" = c.id '
                        "AND c.application_id = %s", [app_id])
    cur.execute("DELETE FROM users_auditevent WHERE application_id = %s", [app_id])
    cur.execute("DELETE FROM users_customer WHERE application_id = %s", [app_id])


def wipe(conn: psycopg.Connection, app_id: str) -> None:
    """Delete the bench application's customers."""
    with conn.transaction(), conn.cursor() as cur:
        delete_customers(cur, app_id)


def seed(conn: psycopg.Connection, app_id: str, total: int, *, reseed: bool = False, log=print) -> SeedResult:
    """Make the application hold exactly ``total`` seeded customers; reuse them when already there."""
    existing = counts(conn, app_id)
    if not reseed and existing["customers"] == total and existing["counted_total"] == total \
            and existing["emails"] == total and existing["phones"] == total:
        log(f"seed: reusing the {total:,} customers already in application {app_id} (--reseed to redo)")
        return SeedResult(total, reused=True)
    phases = {}
    if existing["customers"] or existing["emails"] or existing["phones"]:
        log(f"seed: deleting {existing['customers']:,} customers of a previous run ...")
        t0 = time.perf_counter()
        wipe(conn, app_id)
        # Index pages emptied by a mass delete are not reused at once, so a reseed would measure
        # indexes twice their size; rebuild them (CONCURRENTLY: other applications' rows stay
        # writable) so that the seed below grows them as a first one would.
        conn.execute("VACUUM users_customer, users_customeremail, users_customerphone")
        for table in TABLES:
            conn.execute(f"REINDEX TABLE CONCURRENTLY {table}")
        phases["delete previous (not counted)"] = time.perf_counter() - t0
    check_phone_validity(total)

    log(f"seed: COPY {total:,} customers + {total:,} emails + {total:,} phones ...")
    chunks: queue.Queue = queue.Queue(maxsize=3)
    failure: list[BaseException] = []

    def produce():
        try:
            for start in range(0, total, CHUNK):
                chunks.put(generate(app_id, total, start, min(start + CHUNK, total)))
        except BaseException as exc:  # surfaced by the consumer
            failure.append(exc)
        finally:
            chunks.put(None)

    started = time.perf_counter()
    producer = threading.Thread(target=produce, name="bench-seed-generator", daemon=True)
    producer.start()
    copy_seconds = {"customers": 0.0, "emails": 0.0, "phones": 0.0}
    done = 0
    with conn.transaction():
        with conn.cursor() as cur:
            while (chunk := chunks.get()) is not None:
                for name, table, rows in (("customers", CUSTOMERS, chunk.customers),
                                          ("emails", EMAILS, chunk.emails),
                                          ("phones", PHONES, chunk.phones)):
                    t0 = time.perf_counter()
                    table.copy(cur, rows)
                    copy_seconds[name] += time.perf_counter() - t0
                done += chunk.rows
                if done % 250_000 == 0 or done == total:
                    log(f"seed:   {done:>9,} rows  {time.perf_counter() - started:6.1f} s")
            if failure:
                raise RuntimeError("generating the rows failed") from failure[0]
            t0 = time.perf_counter()
        # leaving the transaction commits: the deferred foreign-key checks run now
    phases.update({f"COPY {k}": v for k, v in copy_seconds.items()})
    phases["commit (deferred FK checks)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    conn.execute(f"ANALYZE {', '.join(TABLES)}")
    phases["ANALYZE"] = time.perf_counter() - t0
    elapsed = time.perf_counter() - started
    verify(conn, app_id, total)
    log(f"seed: {total:,} customers seeded in {elapsed:.1f} s")
    return SeedResult(total, reused=False, seconds=elapsed, phases=phases)
