"""`python -m bench`: seed (or reuse) a million customers, start the real server, load it over HTTP.

Steps: migrate; create the bench application (company 990001) if missing; seed it with COPY
unless it already holds exactly --customers customers; VACUUM ANALYZE; start
``manage.py serve --no-worker`` (gunicorn) on a free loopback port with the embedded servers'
DATABASE_URL / REDIS_URL; get a token from the OAuth endpoint; then, per scenario, check a sample
of answers, warm up, and measure with wrk (or the Python fallback). Prints the table, writes it
into docs/bench.md, exits 1 when a target is missed. Targets are ratios to references measured in the
same run (bench/verdicts.py): HTTP scenarios beside the framework floor (whoami, always measured with
them), file jobs beside plain COPYs of the same data.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SEED_TARGET_SECONDS = 120
FLOOR = "whoami"
SESSION_SCENARIOS = {"logged_in_user", "create_session"}
ATTRIBUTE_SCENARIOS = {"filter_and", "filter_or", "condition_group_users"}  # bench/attributes.py
ACCOUNT_SCENARIOS = {"password_login", "locked_login", "send_otp", "verify_otp"}  # bench/accounts.py
SOCIAL_SCENARIOS = {"social_login"}  # bench/social.py
CONSOLE_SCENARIOS = {"console_overview"}  # bench/console.py
WEBHOOK_SCENARIOS = {"webhook_create_user", "webhook_deliveries", "webhook_backlog"}  # bench/webhooks.py
JOB_SCENARIOS = {"group_file", "import_csv", "import_csv_hashes", "import_csv_webhook", "export_csv", "export_xlsx",
                 "attribute_bulk_update", "import_csv_s3", "export_csv_s3"}
HTTP_SCENARIOS = ({FLOOR, "search_email", "search_phone", "list", "list_q_email_prefix", "list_q_full_name",
                   "list_q_name", "list_q_json", "group_users"} | SESSION_SCENARIOS | ATTRIBUTE_SCENARIOS
                  | ACCOUNT_SCENARIOS | SOCIAL_SCENARIOS | CONSOLE_SCENARIOS)
METRICS_SCENARIOS = {"metrics_overhead"}  # bench/metrics.py: the floor with /metrics on vs off
ALL_SCENARIOS = HTTP_SCENARIOS | WEBHOOK_SCENARIOS | JOB_SCENARIOS | METRICS_SCENARIOS


def parse_args(argv):
    cpus = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=int(os.environ.get("BENCH_CUSTOMERS", 1_000_000)))
    parser.add_argument("--sessions", type=int, default=int(os.environ.get("BENCH_SESSIONS", 1_000_000)),
                        help="live customer sessions in Redis for the session scenarios (default 1,000,000)")
    parser.add_argument("--reseed", action="store_true", help="delete the bench customers and seed again")
    parser.add_argument("--seed-only", action="store_true", help="seed (or check the seed), no HTTP load")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 12)),
                        help="measured duration per scenario (default 12)")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 4)),
                        help="rounds the measured duration is cut into, each between two rounds of the floor "
                             "(default 4)")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured warm-up per scenario (default 3)")
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", 4)),
                        help="concurrent connections (default 4)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 2 * cpus + 1)),
                        help="gunicorn workers (default: serve's own default, 2 x nproc + 1)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", 1)))
    parser.add_argument("--retries", type=int, default=2,
                        help="measure a scenario again (at most this often) when other processes disturbed it")
    parser.add_argument("--quiet-cpus", type=float, default=0.15,
                        help="CPU use of other processes under which the machine counts as quiet (default 0.15)")
    parser.add_argument("--quiet-wait", type=float, default=30,
                        help="seconds to wait at most for a quiet machine before each measurement (default 30)")
    parser.add_argument("--only", action="append", default=[], help="run only these scenarios (repeatable)")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/bench.md")
    args = parser.parse_args(argv)
    from bench.verdicts import unknown_scenarios

    problem = unknown_scenarios(args.only, ALL_SCENARIOS)
    if problem:
        parser.error(problem)
    return args


def wanted_scenarios(only: list[str]) -> set[str]:
    """What --only asks for, with what it needs: the floor beside any HTTP scenario, the group file (whose
    group is the one read) beside group_users, the plain import (their reference) beside import_csv_hashes,
    import_csv_webhook and import_csv_s3, the CSV export beside export_csv_s3; the floor beside the webhook
    scenarios (their delivery rates are judged beside it)."""
    wanted = set(only) or set(ALL_SCENARIOS)
    if "group_users" in wanted:
        wanted.add("group_file")
    if wanted & {"import_csv_hashes", "import_csv_webhook", "import_csv_s3"}:
        wanted.add("import_csv")
    if "export_csv_s3" in wanted:
        wanted.add("export_csv")
    if wanted & (HTTP_SCENARIOS | WEBHOOK_SCENARIOS):
        wanted.add(FLOOR)
    return wanted


def log(message: str) -> None:
    print(message, flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    os.chdir(BASE_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import psycopg
    from django.conf import settings
    from django.core.management import call_command

    from config import embedded, servers

    servers.start_embedded(settings)  # the seed, the server and the workers all use them

    from bench import BENCH_APPLICATION_ID, BENCH_APPLICATION_NAME, BENCH_COMPANY_ID, load, report, scenarios, seed
    from bench import accounts as bench_accounts
    from bench import attributes as bench_attributes
    from bench import job_scenarios, verdicts
    from bench import sessions as bench_sessions
    from bench import social as bench_social
    from bench.machine import CpuWatch, postmaster_pid, redis_pid
    from bench.server import Server
    from core.tenancy import services
    from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE, ApiClient, Application

    started_at = datetime.now(timezone.utc)
    wanted = wanted_scenarios(args.only)
    facts = report.machine_facts()
    log(f"bench: {facts['nproc']} CPUs, {facts['ram']} RAM; {args.customers:,} customers in application "
        f"{BENCH_APPLICATION_ID} of company {BENCH_COMPANY_ID}")
    call_command("migrate", interactive=False, verbosity=0)
    if not Application.objects.filter(id=BENCH_APPLICATION_ID).exists():
        services.create_application(company_id=BENCH_COMPANY_ID, name=BENCH_APPLICATION_NAME,
                                    application_id=BENCH_APPLICATION_ID)
    elif not Application.objects.filter(id=BENCH_APPLICATION_ID, company_id=BENCH_COMPANY_ID).exists():
        raise SystemExit(f"application {BENCH_APPLICATION_ID} exists in another company; refusing to touch it")

    state_file = settings.VAR_DIR / "bench" / "seed.json"
    with psycopg.connect(settings.DATABASE_URL, autocommit=True) as conn:
        result = seed.seed(conn, BENCH_APPLICATION_ID, args.customers, reseed=args.reseed, log=log)
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) users_customer, users_customeremail, users_customerphone")
        vacuum_seconds = time.perf_counter() - t0
        found = seed.verify(conn, BENCH_APPLICATION_ID, args.customers)
        log(f"seed: VACUUM ANALYZE {vacuum_seconds:.1f} s; counts check out: {found}")
        if not result.reused:
            state_file.parent.mkdir(parents=True, exist_ok=True)
            state_file.write_text(json.dumps({"customers": args.customers, "seconds": result.seconds,
                                              "vacuum_seconds": vacuum_seconds, "phases": result.phases,
                                              "at": started_at.isoformat(timespec="seconds")}))
        pg = {name: conn.execute(f"SHOW {name}").fetchone()[0]
              for name in ("server_version", "shared_buffers", "work_mem", "effective_cache_size")}
        sample = scenarios.sample_contacts(conn, BENCH_APPLICATION_ID, args.customers)
        seeded_sessions = None
        definitions = condition_group_id = None
        account_sample = social_sample = None
        if wanted & ACCOUNT_SCENARIOS:
            account_sample = bench_accounts.seed(conn, BENCH_APPLICATION_ID, log)
        if wanted & SOCIAL_SCENARIOS:
            social_sample = bench_social.seed(conn, BENCH_APPLICATION_ID, log)
        if wanted & ATTRIBUTE_SCENARIOS:
            definitions = bench_attributes.seed(conn, BENCH_APPLICATION_ID, log)
            condition_group_id = bench_attributes.condition_group(BENCH_APPLICATION_ID, definitions)
        if wanted & SESSION_SCENARIOS:
            seeded_sessions = bench_sessions.seed(conn, BENCH_APPLICATION_ID, args.sessions, log=log)
    seed_lines = seed_summary(state_file, args.customers, result, vacuum_seconds)
    for line in seed_lines:
        log("seed: " + line.lstrip("- "))
    if seeded_sessions is not None:
        seed_lines.append(
            f"- {seeded_sessions.count:,} live sessions in Redis for the session scenarios ("
            + ("reused from an earlier run" if seeded_sessions.reused else
               f"written in {seeded_sessions.seconds:.1f} s, pipelined through the service's own Lua script")
            + f"); Redis used memory {seeded_sessions.redis_used_memory}")
        log("seed: " + seed_lines[-1].lstrip("- "))
    if args.seed_only:
        return 0

    client, secret = services.create_api_client(company_id=BENCH_COMPANY_ID, name="make bench",
                                                scopes=[SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE])
    _, app_token = services.rotate_application_token(BENCH_APPLICATION_ID)  # the storefront scenarios need it
    from django.db import connections

    connections.close_all()
    use_wrk = not args.python_load and load.wrk_path() is not None
    tool = load.wrk_version() if use_wrk else "Python load generator (threads + http.client)"
    if not use_wrk and not args.python_load:
        log("load: wrk is not installed (apt-get install wrk); using the Python load generator")
    rows, job_rows, webhook_rows = [], [], []
    metrics_figures = []  # bench/metrics.py
    server_env = dict(bench_accounts.SERVER_ENV)
    jwks_stand_in = None
    if social_sample is not None:  # a stand-in Google publishing the signing keys, in this process
        jwks_stand_in = bench_social.JwksStandIn().start()
        server_env.update(jwks_stand_in.server_env())
    server = Server(BASE_DIR, database_url=settings.DATABASE_URL, redis_url=settings.REDIS_URL,
                    workers=args.workers, threads=args.threads,
                    log_path=settings.VAR_DIR / "bench" / "server.log", extra_env=server_env)
    try:
        log(f"server: starting `manage.py serve --no-worker` with {args.workers} gunicorn workers x "
            f"{args.threads} thread(s) on {server.base_url} ...")
        server.start()
        token = obtain_token(server, BENCH_COMPANY_ID, client.client_id, secret)
        all_scenarios = [scenarios.floor_scenario(BENCH_COMPANY_ID, client.client_id),
                         *scenarios.build(BENCH_COMPANY_ID, BENCH_APPLICATION_ID, args.customers, sample)]
        if seeded_sessions is not None:
            all_scenarios += scenarios.session_scenarios(BENCH_COMPANY_ID, BENCH_APPLICATION_ID, app_token,
                                                         seeded_sessions)
        if account_sample is not None:
            bench_accounts.clear_account_keys()
            bench_accounts.lock(BENCH_APPLICATION_ID, account_sample["locked"])
            bench_sessions.wait_for_persistence(log)  # a Redis snapshot meanwhile would slow the reference down
            hashes = bench_accounts.hash_times(args.connections)
            log(f"accounts: Argon2id check p95 {hashes['alone_p95']:.1f} ms alone, {hashes['concurrent_p95']:.1f} ms "
                f"with {args.connections} at once")
            all_scenarios += bench_accounts.scenarios(BENCH_APPLICATION_ID, app_token, account_sample, hashes)
        if social_sample is not None:
            all_scenarios += bench_social.scenarios(BENCH_APPLICATION_ID, app_token, social_sample, jwks_stand_in)
        if wanted & CONSOLE_SCENARIOS:
            from bench import console as bench_console

            all_scenarios.append(bench_console.overview_scenario(BENCH_COMPANY_ID, BENCH_APPLICATION_ID,
                                                                 args.customers))
        if definitions is not None:
            all_scenarios += bench_attributes.http_scenarios(BENCH_COMPANY_ID, BENCH_APPLICATION_ID, definitions,
                                                             condition_group_id)
        all_scenarios = [s for s in all_scenarios if s.key in wanted]
        with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
            embedded_pg = servers.postgres_started_here()  # else PostgreSQL is elsewhere: not ours to count
            # the embedded Redis serves the scenarios (sessions, codes, rate limits) and its snapshots are theirs:
            # its CPU is ours, not another process's
            watch = CpuWatch([server.process.pid,
                              postmaster_pid(embedded.pgdata(settings.VAR_DIR)) if embedded_pg else None,
                              redis_pid(embedded.redis_dir(settings.VAR_DIR)) if settings.EMBEDDED_REDIS else None])
            floor_scenario = next((s for s in all_scenarios if s.key == FLOOR), None)

            def measured(scenario):
                """The scenario's row; any scenario but the floor itself is measured in rounds between rounds of
                the floor (verdicts.Round)."""
                bench_sessions.wait_for_persistence(log)
                floor = None if floor_scenario is None or scenario is floor_scenario else floor_scenario
                return measure(server, scenario, token, Path(workdir), args, use_wrk, watch, floor=floor)

            for scenario in all_scenarios:
                rows.append(measured(scenario))
            if wanted & WEBHOOK_SCENARIOS:
                from bench import webhooks as bench_webhooks

                webhook_application = job_scenarios._fresh_import_application(BENCH_COMPANY_ID)
                try:
                    webhook_rows = bench_webhooks.run(
                        wanted, server=server, token=token, company_id=BENCH_COMPANY_ID,
                        application=webhook_application, database_url=settings.DATABASE_URL,
                        floor_rps=lambda: measure(server, floor_scenario, token, Path(workdir), args, use_wrk,
                                                  watch).rps,
                        workdir=settings.VAR_DIR / "bench", connections=args.connections, use_wrk=use_wrk, log=log)
                finally:
                    job_scenarios.transfers.drop_customers(webhook_application)
            if wanted & METRICS_SCENARIOS:
                from bench import metrics as bench_metrics

                metrics_figures = bench_metrics.run(
                    server, scenarios.floor_scenario(BENCH_COMPANY_ID, client.client_id), token, Path(workdir), args,
                    use_wrk, base_dir=BASE_DIR, database_url=settings.DATABASE_URL, redis_url=settings.REDIS_URL,
                    server_env=server_env, log_dir=settings.VAR_DIR / "bench", watch_roots=watch.roots, log=log)
            if wanted & JOB_SCENARIOS:
                job_rows, group_id = job_scenarios.run(
                    wanted, database_url=settings.DATABASE_URL, application_id=BENCH_APPLICATION_ID,
                    customers=args.customers, company_id=BENCH_COMPANY_ID, log=log,
                    wait_for_quiet=lambda: watch.wait_for_quiet(threshold_cores=args.quiet_cpus,
                                                                max_wait=args.quiet_wait, log=log))
                if group_id and "group_users" in wanted:
                    scenario = scenarios.group_users_scenario(BENCH_COMPANY_ID, BENCH_APPLICATION_ID, group_id,
                                                              job_scenarios.group_members(group_id))
                    rows.append(measured(scenario))
    finally:
        server.stop()
        if jwks_stand_in is not None:
            jwks_stand_in.stop()
            bench_accounts.clear_account_keys("rl", "jwks", "jwksr")  # its counters, the keys of this stand-in
        ApiClient.objects.filter(pk=client.pk).delete()
        if account_sample is not None:
            bench_accounts.clear_account_keys()  # the locks and codes of the run
            bench_accounts.drop_queued_messages()

    verdicts.judge_http(rows)
    verdicts.judge_jobs(job_rows)
    failures = ([r.scenario for r in rows if r.passed is False] + [f.key for f in webhook_rows if not f.passed]
                + [r.scenario for r in job_rows if not r.passed])
    failures += [f.key for f in metrics_figures if not f.passed]
    seed_ok = seed_passed(state_file, args.customers)
    if seed_ok is False:
        failures.append("seeding")

    print()
    if rows:
        print(report.table(rows))
        print()
    if webhook_rows:
        print(report.webhook_table(webhook_rows))
        print()
    if job_rows:
        print(report.job_table(job_rows))
        print()
    if metrics_figures:
        from bench import metrics as bench_metrics

        print(bench_metrics.table(metrics_figures))
        print()
    context = [
        f"- Date: {started_at:%Y-%m-%d %H:%M} UTC, commit `{report.git_commit(BASE_DIR)}`",
        f"- Machine: {facts['nproc']} CPUs ({facts['cpu']}), {facts['ram']} RAM, Linux {facts['kernel']}, "
        f"Python {facts['python']}",
        f"- PostgreSQL {pg['server_version']} (embedded, Unix socket; shared_buffers {pg['shared_buffers']}, "
        f"work_mem {pg['work_mem']}, effective_cache_size {pg['effective_cache_size']}), Redis embedded",
        f"- Data: {args.customers:,} customers in one application (plus whatever else the database holds), "
        "each with one email and one Indian mobile; "
        + (f"{seeded_sessions.count:,} live sessions in Redis" if seeded_sessions else "no sessions seeded"),
        f"- Server: `manage.py serve --no-worker` = gunicorn, {args.workers} sync workers x {args.threads} "
        "thread(s), access log on, DEBUG off, on the same machine as the load generator",
        f"- Load: {tool}, {args.connections} connections, 1 load thread, closed loop (next request as soon as the "
        f"answer is in); per scenario {args.warmup:.0f} s warm-up, then {args.rounds} rounds of "
        f"{args.seconds / args.rounds:.0f} s, each between two {args.seconds / args.rounds:.0f} s rounds of the floor",
    ]
    extra = []
    if metrics_figures:
        extra += bench_metrics.markdown(metrics_figures)
    if not args.no_docs and not args.only:
        report.write_docs(BASE_DIR / "docs" / "bench.md",
                          report.markdown(rows, seed_lines=seed_lines, context=context, extra=extra,
                                          job_rows=job_rows, webhook_rows=webhook_rows))
        log("wrote docs/bench.md")
    if failures:
        log(f"bench: targets missed: {', '.join(failures)}")
        return 1
    log("bench: all targets met")
    return 0


def obtain_token(server, company_id: int, client_id: str, secret: str) -> str:
    """The normal way: OAuth 2.0 client credentials against the token endpoint."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    status, body = server.post_form(f"/service/panel/authentication/v1.0/company/{company_id}/oauth/token",
                                    "grant_type=client_credentials", {"Authorization": f"Basic {basic}"})
    if status != 200:
        raise RuntimeError(f"token endpoint answered {status}: {body[:300]!r}")
    return json.loads(body)["access_token"]


def measure(server, scenario, token: str, workdir: Path, args, use_wrk: bool, watch, floor=None):
    from bench import load, report, verdicts
    from bench import sessions as bench_sessions

    authorization = scenario.authorization or f"Bearer {token}"
    base_headers = {"Authorization": authorization, "Accept": "application/json"}
    # 1. Correctness: a sample of the requests must give the right answers.
    if scenario.refresh is not None:
        scenario.requests = scenario.refresh()
    step = max(1, len(scenario.requests) // 25)
    totals = []
    for index in range(0, len(scenario.requests), step):
        request = scenario.requests[index]
        headers = {**base_headers, **({"Content-Type": "application/json"} if request.body else {}),
                   **dict(request.headers)}
        status, body = server.request(request.method, request.path, body=request.body, headers=headers, timeout=60)
        if status != scenario.expected_status:
            raise RuntimeError(f"{scenario.key}: {request.method} {request.path} answered {status}: {body[:300]!r}")
        answer = {"html": body.decode()} if scenario.html else json.loads(body)
        problem = scenario.check(answer, index)
        if problem:
            raise RuntimeError(f"{scenario.key}: {request.path}: {problem}")
        if isinstance(answer.get("page"), dict):
            totals.append(answer["page"]["item_total"])
    requests_file = load.write_requests(scenario.requests, workdir / f"{scenario.key}.txt")
    # 2. Warm-up, then the measured run; measured again (at most --retries times) when other
    #    processes took a noticeable share of the CPUs meanwhile, keeping the least disturbed run.
    attempts = []
    for attempt in range(1 + max(0, args.retries)):
        bench_sessions.snapshot_before_measuring(log)  # not one of Redis's snapshots inside the run
        watch.wait_for_quiet(threshold_cores=args.quiet_cpus, max_wait=args.quiet_wait, log=log)
        requests = scenario.requests

        def fresh():  # single-use requests (one-time codes): new ones before each load run
            nonlocal requests
            if scenario.refresh is not None:
                requests = scenario.refresh()
                load.write_requests(requests, requests_file)
            return requests

        if args.warmup > 0:
            fresh()
            load.run(server.base_url, requests, requests_file, authorization, seconds=args.warmup,
                     connections=args.connections, use_wrk=use_wrk)
        watch.start()
        allowance = None if scenario.allowance is None else measured_allowance(scenario, log)
        if floor is None:
            fresh()
            result, rounds = load.run(server.base_url, requests, requests_file, authorization, seconds=args.seconds,
                                      connections=args.connections, use_wrk=use_wrk), []
        else:
            result, rounds, floor_result = alternate(server, scenario, fresh, requests_file, authorization, floor,
                                                     token, workdir, args, use_wrk, allowance)
        share = watch.stop()
        extra_ms = scenario.target_extra_ms
        if rounds and rounds[0].extra_ms is not None:
            extra_ms = verdicts.median([r.extra_ms for r in rounds])
        elif allowance is not None:
            extra_ms = allowance()
        attempts.append((result, share, extra_ms, rounds, floor_result if floor is not None else None))
        errors = f"  ERRORS {result.errors}" if result.errors else ""
        log(f"load: {scenario.key:<20} {result.requests:>7,} req  {result.rps:>7,.0f} req/s  p50 {result.p50_ms:6.1f}  "
            f"p95 {result.p95_ms:6.1f}  p99 {result.p99_ms:6.1f} ms  (CPUs: bench {share.ours_cores:.2f}, "
            f"others {share.foreign_cores:.2f}){errors}" + (f"  allowance {extra_ms:.1f} ms" if extra_ms else ""))
        if rounds:
            log(f"load: {'':<20} rounds p95 {', '.join(f'{r.p95:.1f}' for r in rounds)} ms beside the floor's "
                f"{', '.join(f'{r.floor_p95:.1f}' for r in rounds)} ms"
                + (f", allowances {', '.join(f'{r.extra_ms:.1f}' for r in rounds)} ms" if rounds[0].extra_ms is not None
                   else "") + f": {verdicts.rounds_ratio(rounds, extra_ms):.2f}× (median)")
        if share.foreign_cores <= args.quiet_cpus * 2:
            break
    result, share, extra_ms, rounds, floor_result = min(attempts, key=lambda a: a[1].foreign_cores)
    description = scenario.description
    if totals and len(set(totals)) > 1:
        totals.sort()
        description += f" — item_total median {totals[len(totals) // 2]:,}, max {totals[-1]:,} (of those checked)"
    return report.Row(scenario.key, scenario.operation, description, result.requests, result.rps, result.p50_ms,
                      result.p95_ms, result.p99_ms, scenario.target_p95_ratio, foreign_cpus=share.foreign_cores,
                      errors=errors_of(result, scenario.expected_status), target_extra_ms=extra_ms,
                      rounds=rounds, floor_p95=floor_result.p95_ms if floor_result else None,
                      floor_rps=floor_result.rps if floor_result else None)


def measured_allowance(scenario, log):
    def allowance():  # the run's writes start a Redis snapshot: not the hash's
        from bench import sessions as bench_sessions

        bench_sessions.wait_for_persistence(log)
        return scenario.allowance()

    return allowance


def alternate(server, scenario, fresh, requests_file: Path, authorization: str, floor, token: str, workdir: Path,
              args, use_wrk: bool, allowance=None):
    """args.rounds rounds of the scenario, each between two rounds of the floor (floor, scenario, floor, …,
    floor), args.seconds in all for each: (the scenario's rounds as one result, verdicts.Round per round, the
    floor's rounds as one result). A combined result's percentiles are the medians of its rounds'.
    ``allowance``: measured right after each round of the scenario, for that round."""
    from bench import load, verdicts

    seconds = args.seconds / args.rounds
    floor_file = load.write_requests(floor.requests, workdir / f"{floor.key}-rounds.txt")
    floor_authorization = floor.authorization or f"Bearer {token}"

    def floor_round():
        return load.run(server.base_url, floor.requests, floor_file, floor_authorization, seconds=seconds,
                        connections=args.connections, use_wrk=use_wrk)

    floors, runs, extras = [floor_round()], [], []
    for _ in range(args.rounds):
        requests = fresh()
        runs.append(load.run(server.base_url, requests, requests_file, authorization, seconds=seconds,
                             connections=args.connections, use_wrk=use_wrk))
        if allowance is not None:
            extras.append(allowance())
        floors.append(floor_round())
    rounds = verdicts.rounds_between([r.p95_ms for r in runs], [f.p95_ms for f in floors], extras or None)
    return load.combined(runs), rounds, load.combined(floors)


def errors_of(result, expected_status: int) -> int:
    """Failed requests; for a scenario whose right answer is an error status (a locked account's 403), wrk's
    non-2xx count is the expected answers, not failures (the sample checked before the load shows which)."""
    if expected_status < 400:
        return result.error_count
    return result.error_count - result.errors.get("status", 0)


def seed_summary(state_file: Path, customers: int, result, vacuum_seconds: float) -> list[str]:
    state = _seed_state(state_file, customers)
    if state is None:
        return [f"- {customers:,} customers reused; no record of how long seeding them took"]
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in state["phases"].items() if "not counted" not in name)
    verdict = "PASS" if state["seconds"] <= SEED_TARGET_SECONDS else "FAIL"
    lines = [
        f"- Seeding {customers:,} customers + {customers:,} emails + {customers:,} phones with COPY, "
        f"indexes and triggers in place: **{state['seconds']:.1f} s** (target ≤ {SEED_TARGET_SECONDS} s: "
        f"**{verdict}**), measured {state['at']}",
        f"- Phases (COPY runs while a second thread generates the rows): {phases}",
        f"- Then VACUUM ANALYZE: {state['vacuum_seconds']:.1f} s; ApplicationCustomerCount (kept by the "
        "statement triggers) checked equal to count(*)",
    ]
    if result.reused:
        lines.append(f"- This run reused those customers (VACUUM ANALYZE now: {vacuum_seconds:.1f} s)")
    return lines


def _seed_state(state_file: Path, customers: int):
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return None
    return state if state.get("customers") == customers else None


def seed_passed(state_file: Path, customers: int):
    state = _seed_state(state_file, customers)
    return None if state is None else state["seconds"] <= SEED_TARGET_SECONDS


if __name__ == "__main__":
    sys.exit(main())
