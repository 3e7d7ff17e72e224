"""The machine's limits measured beside each file job, in the same run: what PostgreSQL alone takes to move
the same data, so that a job is judged by its ratio to them rather than by absolute seconds.

- ``copy_into_unindexed``: a plain ``COPY`` of the job's file into an unindexed temporary table, every
  column text: the floor of any loader (reading, parsing and storing the bytes once).
- ``copy_customers_into_indexed_copy``: the import's own limit. The same file ``COPY``'d into a throw-away
  copy of the customers table (``LIKE … INCLUDING ALL``: its indexes, defaults and checks, no triggers or
  foreign keys), the file's customer columns into the customer columns, its email / phone columns into
  unindexed text columns, the other columns from defaults (ids increasing as ObjectIds do, random
  usernames, clock_timestamp() as created_at). A regular (WAL-logged, shared-buffers) table, as the real
  one, created and dropped in one transaction that is rolled back; a temporary table would skip the WAL
  and squeeze the indexes into temp_buffers, unfair both ways. It writes one row and its index entries
  per customer; the import also writes an email, a phone and an audit event per customer and validates
  every field, so its ratio to this limit cannot come near 1 (seeding, the bare COPY of all three tables,
  spends ~45 % of its time on the customers).
- ``copy_export_out``: ``COPY (SELECT …) TO STDOUT`` of the export's own columns and rows in one statement
  (the job runs it page by page into part files, then writes the CSV / XLSX file), the bytes discarded.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from psycopg import sql

UNINDEXED_TABLE = "bench_copy_floor"
INDEXED_TABLE = "bench_customer_limit"


def copy_into_unindexed(conn: psycopg.Connection, path: Path) -> float:
    """Seconds to COPY the CSV file (header line first) into an unindexed table of text columns."""
    columns = _header(path)
    create = sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
        sql.Identifier(UNINDEXED_TABLE), sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c))
                                                           for c in columns))
    copy = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER)").format(sql.Identifier(UNINDEXED_TABLE))
    started = time.perf_counter()
    with conn.transaction():
        conn.execute(create)
        _stream(conn, copy, path)
    return time.perf_counter() - started


def copy_customers_into_indexed_copy(conn: psycopg.Connection, path: Path, application_id: str) -> float:
    """Seconds to COPY the import file into a copy of the customers table with its indexes (rolled back)."""
    from users.models import Customer

    file_columns = _header(path)
    customer_columns = {f.column for f in Customer._meta.concrete_fields}
    extra = [c for c in file_columns if c not in customer_columns]
    table = sql.Identifier(INDEXED_TABLE)
    sequence = sql.Identifier(INDEXED_TABLE + "_ids")
    defaults = {
        "id": sql.SQL("lpad(to_hex(nextval({})), 24, '0')").format(sql.Literal(INDEXED_TABLE + "_ids")),
        "application_id": sql.Literal(application_id), "username": sql.SQL("md5(random()::text)"),
        "first_name": sql.Literal(""), "last_name": sql.Literal(""), "gender": sql.Literal(""),
        "external_id": sql.Literal(""), "profile_pic_url": sql.Literal(""), "account_type": sql.Literal("user"),
        "rr_id": sql.Literal(""), "meta": sql.SQL("'{}'::jsonb"), "active": sql.SQL("true"),
        "archived": sql.SQL("false"), "created_at": sql.SQL("clock_timestamp()"),
        "updated_at": sql.SQL("clock_timestamp()"), "version": sql.SQL("0"),
    }
    text_columns = [c for c in file_columns if c in customer_columns and c != "dob"]
    copy = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER, FORCE_NOT_NULL ({}))").format(
        table, sql.SQL(", ").join(map(sql.Identifier, file_columns)),
        sql.SQL(", ").join(map(sql.Identifier, text_columns)))
    with conn.transaction():
        conn.execute(sql.SQL("CREATE TEMP SEQUENCE {}").format(sequence))
        conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
            table, sql.Identifier(Customer._meta.db_table)))
        for column, default in defaults.items():
            conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                table, sql.Identifier(column), default))
        for column in extra:
            conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} text").format(table, sql.Identifier(column)))
        started = time.perf_counter()
        _stream(conn, copy, path)
        seconds = time.perf_counter() - started
        raise psycopg.Rollback  # the throw-away table never exists for anyone else
    return seconds


def copy_export_out(conn: psycopg.Connection, application_id: str) -> tuple[float, int]:
    """Seconds and bytes of one COPY … TO STDOUT of every row and column the export job writes."""
    from users.transfers import exports

    # The export's own statement (its columns, joins, filter and order), without its paging.
    query = f"COPY (SELECT {exports._COLUMNS} {exports._FROM} WHERE {exports._LIVE} {exports._ORDER}) " \
            "TO STDOUT WITH (FORMAT csv)"
    size = 0
    started = time.perf_counter()
    with conn.cursor().copy(query, [application_id]) as copy:
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


def _header(path: Path) -> list[str]:
    with Path(path).open(encoding="utf-8") as handle:
        return handle.readline().strip().split(",")


def _stream(conn: psycopg.Connection, statement, path: Path) -> None:
    with conn.cursor().copy(statement) as copy, Path(path).open("rb") as source:
        while block := source.read(1 << 20):
            copy.write(block)
